"""A standing fault campaign (`make faults`): seeded trials that inject 429s, 5xx answers, timeouts and malformed
bodies at random calls of the real service clients on the emulators, SIGKILL `guildflow` at random points of its
flow run, run it again until the work is done, and check after every run that nothing was lost, duplicated,
published twice or half-posted. See README.md, "Fault campaign".
"""

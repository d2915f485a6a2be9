"""Pure domain: no I/O, no Prefect, no SDKs."""

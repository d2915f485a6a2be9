"""Prefect-API bookkeeping that is not a task: schedules of targets on shared deployments, their run history and
stats, pauses and their reasons. Used by flows (hooks), the CLI and the bot alike; it imports no tasks."""

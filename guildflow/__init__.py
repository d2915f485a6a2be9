"""guildflow: a Discord community's chores as Prefect flows."""

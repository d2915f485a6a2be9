"""guildflow's Discord bot (`guildflow bot`): slash commands, buttons and a modal that read and change the schedules
on the Prefect server through bookkeeping/, as the CLI does."""

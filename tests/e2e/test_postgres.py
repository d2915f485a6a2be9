"""Which PostgreSQL the end-to-end tests use (tests/e2e/postgres.py): the configured one when it answers, else
one started for the test, reachable on a unix socket only and gone afterwards, also after a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.postgres import URL_VARIABLE, Postgres, postgres_server, started_postgres
from tests.e2e.prefect_server import free_port


@pytest.fixture(scope="module")
def running() -> Iterator[Postgres]:
    """A PostgreSQL that answers, standing in for a machine's own."""
    with started_postgres() as server:
        yield server


@pytest.fixture
def nothing_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configured URL points at a closed port on 127.0.0.1, as on a machine without PostgreSQL."""
    monkeypatch.setenv(URL_VARIABLE, f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")


def socket_folder(server: Postgres) -> Path:
    return Path(str(server.url.query["host"]))


def test_a_postgres_answering_at_the_configured_url_is_used(running: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_VARIABLE, running.url.render_as_string(hide_password=False))

    with postgres_server() as server:
        assert not server.started_here and server.url == running.url


@pytest.mark.usefixtures("nothing_configured")
def test_without_one_a_postgres_is_started_on_a_unix_socket_and_removed_after() -> None:
    with postgres_server() as server:
        assert server.started_here
        assert server.sql("SHOW listen_addresses") == [("",)]  # no TCP address at all
        with server.database() as name:
            assert server.sql("SELECT current_database()", database=name) == [(name,)]
        data = socket_folder(server)  # the socket lives in the data folder
        assert (data / "PG_VERSION").exists()

    assert not data.exists() and not data.parent.exists()
    assert not server.answers()


@pytest.mark.usefixtures("nothing_configured")
def test_the_started_postgres_is_removed_when_the_test_fails() -> None:
    with pytest.raises(RuntimeError, match="the test failed"):
        with postgres_server() as server:
            data = socket_folder(server)
            raise RuntimeError("the test failed")

    assert not data.parent.exists()
    assert not server.answers()


def test_a_postgres_that_refuses_the_tests_fails_naming_the_setting(
    running: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = running.url.set(database="no_such_database")
    monkeypatch.setenv(URL_VARIABLE, refusing.render_as_string(hide_password=False))

    with pytest.raises(pytest.fail.Exception, match=f"does not let the tests in.*set {URL_VARIABLE} to"):
        with postgres_server():
            pass

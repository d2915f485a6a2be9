"""GoogleSheet: the real gspread client against the Sheets emulator, its call budget and its errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from core.archive import plan_archive
from core.collection import dedupe_posts
from core.models import Post
from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS, post_to_row
from guildflow.settings import Settings
from integrations.errors import SheetError
from integrations.google_sheets import CURSOR_COLUMNS, GoogleSheet
from integrations.sheets import SqliteWorkbook
from tasks import clients
from tests.core.factories import post
from tests.emulators.base import Fault, Response
from tests.emulators.google_sheets import MAX_PAYLOAD_BYTES, SheetsEmulator

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=timezone.utc)
SHEET_ID = "1GuildflowTestSheet"

METADATA = r"^/v4/spreadsheets/[^/:]+$"
BATCH_GET = r"/values:batchGet$"
APPEND_POSTS = r"/values/%27Posts%27%21A1:append$"
APPEND = r":append$"
VALUES_BATCH_UPDATE = r"/values:batchUpdate$"
BATCH_UPDATE = r"^/v4/spreadsheets/[^/]+:batchUpdate$"


@pytest.fixture
def emulator() -> Iterator[SheetsEmulator]:
    with SheetsEmulator().running() as running:
        assert isinstance(running, SheetsEmulator)
        yield running


@pytest.fixture
def account(emulator: SheetsEmulator) -> dict[str, Any]:
    info = emulator.service_account()
    emulator.create_spreadsheet(SHEET_ID, shared_with={info["client_email"]: "writer"})
    return info


def google(emulator: SheetsEmulator, account: dict[str, Any], **knobs: Any) -> GoogleSheet:
    """A fresh client, as every task builds one."""
    return GoogleSheet(SHEET_ID, account, emulator.url, **{"retry_delays": (0, 0, 0), **knobs})


def api_calls(emulator: SheetsEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if r.path.startswith("/v4/")]


def posts(count: int, content: str = "text") -> list[Post]:
    return [post(status_id, message_id=100 + status_id, content=content) for status_id in range(1, count + 1)]


def prepared(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    """The worksheets exist with their headers (what the first run leaves behind); the log is cleared."""
    google(emulator, account).append_posts([], {9: 1})
    emulator.requests.clear()


def assert_no_secret(text: str, account: dict[str, Any]) -> None:
    key_body = account["private_key"].splitlines()[1]
    assert key_body not in text and "PRIVATE KEY" not in text


# --- worksheets and headers --------------------------------------------------------------------


def test_first_write_creates_the_worksheets_and_headers_in_two_calls(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    google(emulator, account).append_posts([post(1)], {1: 10})
    assert emulator.values(SHEET_ID, "Posts") == [list(POST_COLUMNS), post_to_row(post(1))[:10]]
    assert emulator.values(SHEET_ID, "Archive") == [list(ARCHIVE_COLUMNS)]
    assert emulator.values(SHEET_ID, "Cursors") == [list(CURSOR_COLUMNS), ["1", "10"]]
    assert emulator.calls("POST", BATCH_UPDATE) == 1  # three addSheet requests
    assert emulator.calls("POST", VALUES_BATCH_UPDATE) == 1  # three header rows


def test_old_header_gets_missing_columns_at_the_end_and_data_stays(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    # Someone moved Post Link first, added a Notes column, and the sheet predates three result columns.
    old_columns = [
        name for name in POST_COLUMNS if name not in ("AI Keywords", "Daily Post Draft", "Publication Receipt")
    ]
    header = ["Post Link", "Notes", *[name for name in old_columns if name != "Post Link"]]
    cells = dict(zip(POST_COLUMNS, post_to_row(post(1, content="old row"))))
    old_row = [cells.get(name, "keep me") for name in header]
    spreadsheet = emulator.create_spreadsheet(
        SHEET_ID, worksheets={"Posts": [header, old_row]}, shared_with={account["client_email"]: "writer"}
    )
    spreadsheet.worksheets[0].column_count = len(header)  # a grid exactly as wide as the header
    [_, stored_old_row] = emulator.values(SHEET_ID, "Posts")

    sheet = google(emulator, account)
    assert [p.content for p in sheet.read_posts().posts] == ["old row"]  # read by name before any change
    sheet.append_posts([post(2, content="new row")], {})

    added = ["AI Keywords", "Daily Post Draft", "Publication Receipt"]
    rows = emulator.values(SHEET_ID, "Posts")
    assert rows[0] == header + added
    assert rows[1] == stored_old_row  # untouched: nothing rewritten, nothing moved
    assert rows[2][:2] == [post(2).post_link, ""]  # our value under our header, Notes left empty
    sheet.update_results([post(1, project="Nova", summary="A DEX.", ai_keywords="dex")])
    reread = google(emulator, account).read_posts().posts
    assert [(p.content, p.ai_project, p.ai_keywords) for p in reread] == [
        ("old row", "Nova", "dex"),
        ("new row", "", ""),
    ]
    assert emulator.values(SHEET_ID, "Posts")[1][1] == "keep me"


# --- call budget -------------------------------------------------------------------------------


def test_collecting_500_posts_is_one_append(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    sheet = google(emulator, account)
    cursors = sheet.read_cursors()
    found = dedupe_posts(posts(500), sheet.known_status_ids().ids)
    sheet.append_posts(found.new, {**cursors, 1: 600})
    assert emulator.calls("POST", APPEND_POSTS) == 1
    # metadata, headers (+ the small Cursors table), key columns, the rows, the new cursor
    assert len(api_calls(emulator)) == 5
    assert len(google(emulator, account).read_posts().posts) == 500


def test_more_than_2_mb_is_split_into_appends_under_the_limit(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    prepared(emulator, account)
    many = posts(500, content="x" * 4500)  # about 2.4 MB of rows
    google(emulator, account).append_posts(many, {})
    appends = [r for r in emulator.requests if r.path.endswith("%27Posts%27%21A1:append")]
    assert len(appends) >= 2
    assert all(len(r.body) <= MAX_PAYLOAD_BYTES for r in appends)
    assert [p.status_id for p in google(emulator, account).read_posts().posts] == list(range(1, 501))


def test_the_emulator_refuses_bodies_over_2_mb(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    unsplit = google(emulator, account, max_payload_bytes=10_000_000)
    with pytest.raises(SheetError, match="payload size exceeds"):
        unsplit.append_posts(posts(500, content="x" * 4500), {})


def test_update_results_is_one_batched_write(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    google(emulator, account).append_posts(posts(300), {})
    emulator.requests.clear()
    analysed = [replace(p, ai_processed=True, ai_project=f"P{p.status_id}", content="ignored") for p in posts(300)]
    google(emulator, account).update_results(analysed)
    assert emulator.calls("POST", VALUES_BATCH_UPDATE) == 1
    assert len(api_calls(emulator)) == 4  # metadata, headers, the key column, the update
    stored = google(emulator, account).read_posts().posts
    assert [p.ai_project for p in stored] == [f"P{i}" for i in range(1, 301)]
    assert {p.content for p in stored} == {"text"}  # only the result columns were written


def test_known_status_ids_reads_both_key_columns_at_once(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    writer = google(emulator, account)
    writer.append_posts(posts(3), {})
    writer.append_archive([post(7)], NOW)
    emulator.requests.clear()
    assert google(emulator, account).known_status_ids().ids == {1, 2, 3, 7}
    assert emulator.calls("GET", METADATA) == 1
    assert emulator.calls("GET", BATCH_GET) == 2  # the header rows, then both Post Link columns
    assert len(api_calls(emulator)) == 3


# --- archive -----------------------------------------------------------------------------------


def test_archive_copies_then_deletes_in_one_call_and_survives_a_crash_between(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    prepared(emulator, account)
    rows = posts(5)
    done = {1, 3, 4}  # rows 2, 4 and 5 of the sheet: two runs of rows to delete
    google(emulator, account).append_posts(rows, {})
    google(emulator, account).update_results([replace(p, ai_processed=True) for p in rows if p.status_id in done])

    crashed = google(emulator, account)
    plan = plan_archive(crashed.read_posts().posts, crashed.archived_links())
    crashed.append_archive(plan.copy, processed_at=NOW)  # ...and the run dies before delete_posts
    emulator.requests.clear()

    rerun = google(emulator, account)
    plan = plan_archive(rerun.read_posts().posts, rerun.archived_links())
    assert plan.copy == [] and len(plan.delete) == 3
    rerun.append_archive(plan.copy, processed_at=NOW)
    rerun.delete_posts(plan.delete)

    assert emulator.calls("POST", APPEND) == 0
    deletes = [r for r in emulator.requests if r.method == "POST" and r.path.endswith(":batchUpdate")]
    assert len(deletes) == 1
    spans = [
        (q["deleteDimension"]["range"]["startIndex"], q["deleteDimension"]["range"]["endIndex"])
        for q in deletes[0].json()["requests"]
    ]
    assert spans == [(3, 5), (1, 2)]  # highest rows first
    assert [p.status_id for p in rerun.read_posts().posts] == [2, 5]
    assert sorted(row[7] for row in emulator.values(SHEET_ID, "Archive")[1:]) == sorted(plan.delete)
    assert google(emulator, account).known_status_ids().ids == {1, 2, 3, 4, 5}


def test_copy_happens_before_delete(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    google(emulator, account).append_posts([post(1, summary="s")], {})
    emulator.requests.clear()
    sheet = google(emulator, account)
    plan = plan_archive(sheet.read_posts().posts, sheet.archived_links())
    sheet.append_archive(plan.copy, processed_at=NOW)
    sheet.delete_posts(plan.delete)
    writes = [r.path for r in emulator.requests if r.method == "POST" and r.path.startswith("/v4/")]
    assert writes == [
        f"/v4/spreadsheets/{SHEET_ID}/values/%27Archive%27%21A1:append",
        f"/v4/spreadsheets/{SHEET_ID}:batchUpdate",
    ]


# --- crash safety of cursors ---------------------------------------------------------------------


def test_a_crash_before_the_cursor_write_is_harmless(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    emulator.fail_next(
        Fault(SheetsEmulator.error(500, "INTERNAL", "Internal error encountered."), path_pattern="Cursors", times=4)
    )
    first = google(emulator, account)
    with pytest.raises(SheetError) as failure:
        first.append_posts(dedupe_posts(posts(2), first.known_status_ids().ids).new, {1: 200})
    assert failure.value.transient
    assert first.read_cursors() == {9: 1}  # cursor not moved: the next run re-reads these messages

    second = google(emulator, account)
    found = dedupe_posts(posts(2), second.known_status_ids().ids)
    assert found.new == [] and found.duplicates == 2
    second.append_posts(found.new, {**second.read_cursors(), 1: 200})
    assert google(emulator, account).read_cursors() == {9: 1, 1: 200}
    assert len(google(emulator, account).read_posts().posts) == 2


# --- faults and errors -------------------------------------------------------------------------


def test_rate_limit_is_retried(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    prepared(emulator, account)
    quota = SheetsEmulator.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Write requests'")
    emulator.fail_next(Fault(quota, path_pattern=":append", times=2))
    google(emulator, account).append_posts([post(1)], {})
    assert emulator.calls("POST", APPEND_POSTS) == 3
    assert [p.status_id for p in google(emulator, account).read_posts().posts] == [1]


def test_server_errors_after_the_retries_are_transient(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.fail_next(
        Fault(
            SheetsEmulator.error(503, "UNAVAILABLE", "The service is currently unavailable."),
            path_pattern="^/v4/",
            times=9,
        )
    )
    with pytest.raises(SheetError, match="retry later") as failure:
        google(emulator, account, retry_delays=(0, 0)).read_posts()
    assert failure.value.transient
    assert emulator.calls("GET", METADATA) == 3


def test_quota_exhausted_after_the_retries_is_transient(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.fail_next(
        Fault(SheetsEmulator.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"), path_pattern="^/v4/", times=9)
    )
    with pytest.raises(SheetError, match="429") as failure:
        google(emulator, account, retry_delays=(0,)).check()
    assert failure.value.transient


def test_unshared_spreadsheet_names_the_account_to_share_with(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    emulator.spreadsheets[SHEET_ID].shared_with.clear()
    with pytest.raises(SheetError) as failure:
        google(emulator, account).check()
    message = str(failure.value)
    assert f"share the spreadsheet with {account['client_email']} as Editor" in message
    assert not failure.value.transient
    assert_no_secret(message, account)


def test_read_only_share_fails_on_the_first_write_with_the_same_fix(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    emulator.spreadsheets[SHEET_ID].shared_with[account["client_email"]] = "reader"
    sheet = google(emulator, account)
    assert sheet.read_posts().posts == []
    with pytest.raises(SheetError, match="as Editor"):
        sheet.append_posts([post(1)], {})


def test_unknown_spreadsheet_names_the_setting(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    sheet = GoogleSheet("no-such-sheet", account, emulator.url, retry_delays=())
    with pytest.raises(SheetError, match="no-such-sheet not found: check GUILDFLOW_SHEETS_SPREADSHEET_ID") as failure:
        sheet.known_status_ids()
    assert_no_secret(str(failure.value), account)


def test_revoked_key_is_reported_at_the_token_endpoint(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.revoke(account["client_email"])
    with pytest.raises(SheetError, match="revoked or is wrong") as failure:
        google(emulator, account).read_posts()
    message = str(failure.value)
    assert "GUILDFLOW_SHEETS_SERVICE_ACCOUNT" in message and account["client_email"] in message
    assert not failure.value.transient
    assert_no_secret(message, account)
    assert emulator.calls(path_pattern=r"^/v4/") == 0  # no Sheets request without a token


def test_a_key_that_is_not_the_accounts_is_refused(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.service_account(account["client_email"])  # the account now trusts only a newer key
    with pytest.raises(SheetError, match="Invalid JWT Signature.*revoked or is wrong") as failure:
        google(emulator, account).read_posts()
    assert_no_secret(str(failure.value), account)


def test_a_failing_token_endpoint_is_transient(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    proxy_failure = Response(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    emulator.fail_next(Fault(proxy_failure, path_pattern="^/token$"))
    with pytest.raises(SheetError, match="gave no access token.*retry later") as failure:
        google(emulator, account).read_posts()
    assert failure.value.transient


def test_unusable_key_is_a_clear_error_without_key_material(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    broken = {**account, "private_key": account["private_key"][:200]}
    with pytest.raises(SheetError, match="GUILDFLOW_SHEETS_SERVICE_ACCOUNT is not a usable") as failure:
        GoogleSheet(SHEET_ID, broken, emulator.url)
    assert_no_secret(str(failure.value), account)
    with pytest.raises(SheetError, match="lacks private_key"):
        GoogleSheet(SHEET_ID, {k: v for k, v in account.items() if k != "private_key"}, emulator.url)


def test_timeout_and_unreadable_answers_are_transient(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.fail_next(Fault(hold_seconds=5, path_pattern=r"^/v4/"))
    with pytest.raises(SheetError, match="cannot reach Google") as failure:
        google(emulator, account, timeout=0.3).read_posts()
    assert failure.value.transient
    emulator.fail_next(Fault(malformed=True, path_pattern=r"^/v4/"))
    with pytest.raises(SheetError, match="unreadable answer") as failure:
        google(emulator, account).read_posts()
    assert failure.value.transient


def test_sheets_endpoints_require_the_token(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    answer = requests.get(f"{emulator.url}/v4/spreadsheets/{SHEET_ID}", headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401 and answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_nothing_but_the_api_base_and_token_uri_is_contacted(
    emulator: SheetsEmulator, account: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts: list[str] = []
    resolve = socket.getaddrinfo

    def recording(host: str, *args: Any, **kwargs: Any) -> Any:
        hosts.append(host)
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    google(emulator, account).read_posts()
    for thread in threading.enumerate():  # google-auth's background lookup, were it started
        if "RegionalAccessBoundary" in type(thread).__name__:
            thread.join(timeout=5)
    assert set(hosts) == {"127.0.0.1"}


def test_rows_edited_by_hand_are_skipped_named_and_left_alone(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    prepared(emulator, account)
    google(emulator, account).append_posts([post(1, summary="done"), post(2, summary="done"), post(3)], {})
    cells = emulator.spreadsheets[SHEET_ID].worksheet("Posts").cells  # type: ignore[union-attr]
    cells[1][POST_COLUMNS.index("Date")] = "yesterday"  # row 2: post 1, ready to archive but unreadable
    cells[3][POST_COLUMNS.index("Post Link")] = "see sheet"  # row 4: post 3
    before = emulator.values(SHEET_ID, "Posts")

    sheet = google(emulator, account)
    read = sheet.read_posts()
    assert [p.status_id for p in read.posts] == [2]
    assert [(row.worksheet, row.row, row.column, row.value) for row in read.skipped] == [
        ("Posts", 2, "Date", "yesterday"),
        ("Posts", 4, "Post Link", "see sheet"),
    ]
    keys = google(emulator, account).known_status_ids()
    assert keys.ids == {1, 2} and [(row.row, row.value) for row in keys.skipped] == [(4, "see sheet")]

    plan = plan_archive(read.posts, sheet.archived_links())
    sheet.update_results([replace(p, ai_summary="again") for p in read.posts])
    sheet.append_archive(plan.copy, NOW)
    sheet.delete_posts(plan.delete)
    assert emulator.values(SHEET_ID, "Posts") == [before[0], before[1], before[3]]
    assert google(emulator, account).archived_links() == {post(2).post_link}


# --- check and describe ------------------------------------------------------------------------


def test_check_reports_and_writes_nothing(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    old_header = [name for name in POST_COLUMNS if name != "Publication Receipt"]
    emulator.create_spreadsheet(
        SHEET_ID,
        title="Guild posts",
        worksheets={"Posts": [old_header, post_to_row(post(1))[:14], post_to_row(post(2))[:14]]},
        shared_with={account["client_email"]: "writer"},
    )
    before = emulator.values(SHEET_ID, "Posts")
    sheet = google(emulator, account)
    summary = sheet.check()
    assert summary.startswith("spreadsheet 'Guild posts': Posts: 2 rows, Archive: 0 rows, Cursors: 0 rows")
    assert "add worksheet Archive" in summary and "add Posts columns Publication Receipt" in summary
    assert emulator.write_calls() == 0
    assert emulator.values(SHEET_ID, "Posts") == before
    assert len(api_calls(emulator)) == 3
    description = sheet.describe()
    assert SHEET_ID in description and account["client_email"] in description
    assert_no_secret(description + repr(sheet), account)


def test_built_from_settings_with_the_key_as_json(emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    settings = Settings(
        sheet_backend="google",
        sheets_spreadsheet_id=SHEET_ID,
        sheets_service_account=SecretStr(json.dumps(account)),
        sheets_api_base=emulator.url,
    )
    sheet = clients.sheet(settings)
    assert isinstance(sheet, GoogleSheet)
    sheet.append_posts([post(1)], {1: 10})
    assert clients.sheet(settings).known_status_ids().ids == {1}


# --- the same behaviour as the embedded workbook ---------------------------------------------------


def test_same_results_as_the_sqlite_workbook(emulator: SheetsEmulator, account: dict[str, Any], tmp_path: Path) -> None:
    workbook = SqliteWorkbook(tmp_path / "w.sqlite")

    def both(step: str, *args: Any) -> None:
        for backend in (workbook, google(emulator, account)):
            getattr(backend, step)(*args)
        state = [
            (b.read_posts(), b.archived_links(), b.read_cursors(), b.known_status_ids(), b.read_rows("Archive"))
            for b in (workbook, google(emulator, account))
        ]
        assert state[0] == state[1], f"after {step}"

    both("append_posts", [post(1), post(2, content="ünïcode\nline"), post(3)], {1: 10, 2: 20})
    both("append_posts", [post(4)], {1: 11, 3: 30})
    for backend in (workbook, google(emulator, account)):  # a duplicate link fails and writes nothing
        with pytest.raises(SheetError):
            backend.append_posts([post(5), post(1)], {1: 99})
    both("append_posts", [], {})
    both("update_results", [post(1, project="Nova", summary="A DEX."), post(3, summary="not a project"), post(42)])
    both("append_archive", [post(1, project="Nova"), post(3, summary="s")], NOW)
    both("append_archive", [post(1, project="Nova")], NOW)
    both("delete_posts", [post(1).post_link, post(3).post_link, "https://x.com/nobody/status/77"])
    both("update_results", [post(2, project="Orbit", publication_receipt="https://x.com/me/status/9")])
    assert [row["Content"] for row in google(emulator, account).read_rows("Posts")] == ["ünïcode\nline", "text"]


def test_a_client_reads_the_posts_once_and_its_own_writes_keep_them_current(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    prepared(emulator, account)
    sheet = google(emulator, account)
    sheet.known_status_ids()
    sheet.append_posts(posts(3), {})
    emulator.requests.clear()
    pending = sheet.read_posts().posts
    sheet.update_results([replace(p, ai_processed=True, ai_project=f"P{p.status_id}") for p in pending])
    assert [p.ai_project for p in sheet.read_posts().posts] == ["P1", "P2", "P3"]
    assert api_calls(emulator) == [("POST", f"/v4/spreadsheets/{SHEET_ID}/values:batchUpdate")]  # no read
    assert [p.ai_project for p in google(emulator, account).read_posts().posts] == ["P1", "P2", "P3"]


def test_after_a_failed_request_the_client_reads_the_sheet_again(
    emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    prepared(emulator, account)
    sheet = google(emulator, account)
    sheet.known_status_ids()
    emulator.fail_next(Fault(SheetsEmulator.error(500, "INTERNAL", "Internal error."), path_pattern=":append", times=4))
    with pytest.raises(SheetError):
        sheet.append_posts(posts(2), {})
    google(emulator, account).append_posts(posts(2), {})  # another writer, or the write landed after all
    emulator.requests.clear()
    assert [p.status_id for p in sheet.read_posts().posts] == [1, 2]
    assert emulator.calls("GET", BATCH_GET) == 1  # read again, not the stale view from before the failure

"""The sheet of posts in a Google spreadsheet, through gspread with a service account.

Behaves like SqliteWorkbook, worksheet for table, and spends as few API calls as it can (Sheets
allows 60 reads and 60 writes a minute): one metadata read and one read of the header rows per
client, one read of the Posts table with the Archive key column, whose answer (kept current by the
client's own writes) serves every later step, and each write batched into as few requests as the
2 MB payload limit allows. Only deleting rows reads the key column again first: row numbers move when
people edit the sheet, and a stale number would delete someone else's row. Our columns are found by
their header, never by position, so people may reorder them and add their own; a missing column is
added at the end of the header row.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, cast

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.utils import absolute_range_name, rowcol_to_a1

from core.collection import Cursors
from core.models import Post
from core.sheet import (
    ARCHIVE_COLUMNS,
    ARCHIVE_WORKSHEET,
    POST_COLUMNS,
    POST_LINK,
    POSTS_WORKSHEET,
    WORKSHEET_COLUMNS,
    KnownStatusIds,
    PostsRead,
    archive_row,
    post_to_row,
    posts_from_rows,
    status_ids_in_key_cells,
)
from integrations.errors import SheetError
from integrations.sheets import CURSORS_TABLE, RESULT_COLUMNS

GOOGLE_SHEETS_API = "https://sheets.googleapis.com"
SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
CURSOR_COLUMNS: tuple[str, ...] = ("Channel ID", "Last Message ID")
# Google's recommended maximum request size; the append and batch calls are split below it.
MAX_PAYLOAD_BYTES = 2_000_000
# Per-minute quotas refill within a minute, so the retries together wait a little over one.
RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16, 32)
_NEW_WORKSHEET_ROWS = 1000
_KEY = POST_LINK
_COLUMNS = {**WORKSHEET_COLUMNS, CURSORS_TABLE: CURSOR_COLUMNS}
# OAuth errors that mean the key itself is refused (RFC 6749 5.2); anything else may pass.
_KEY_REFUSED = {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"}
_RAW = {"valueInputOption": "RAW"}  # cells are text: USER_ENTERED would turn ids and dates into numbers

T = TypeVar("T")


class _SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client sent to api_base, retrying 408/429/5xx after each of retry_delays.

    gspread copies its endpoint URLs at import, so the prefix is rewritten here. Its own
    BackOffHTTPClient is not used: it never gives up on 429 and its delays cannot be changed.
    """

    def __init__(
        self, auth: Any, session: requests.Session | None = None, *, api_base: str, retry_delays: Sequence[float]
    ):
        super().__init__(auth, session)
        self.api_base = api_base.rstrip("/")
        self.retry_delays = tuple(retry_delays)

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        if endpoint.startswith(GOOGLE_SHEETS_API):
            endpoint = self.api_base + endpoint[len(GOOGLE_SHEETS_API) :]
        for delay in self.retry_delays:
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except APIError as error:
                if not _retryable(error.response.status_code):
                    raise
            time.sleep(delay)
        return super().request(method, endpoint, *args, **kwargs)


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


class _CredentialsOffGoogle(service_account.Credentials):
    """Service account credentials for a Sheets API that is not Google's own (a proxy, an emulator).

    google-auth 2.62 follows each token refresh with a background lookup of the account's regional
    access boundary at iamcredentials.googleapis.com; with a custom api_base nothing but the key's
    token_uri and api_base may be contacted.
    """

    def _is_regional_access_boundary_lookup_required(self) -> bool:
        return False


@dataclass
class _Worksheet:
    title: str
    sheet_id: int
    column_count: int
    header: list[str]

    def column(self, name: str) -> int | None:
        """0-based index of the first header cell named `name`."""
        return self.header.index(name) if name in self.header else None

    def missing(self) -> list[str]:
        return [name for name in _COLUMNS[self.title] if name not in self.header]

    def row(self, values: dict[str, str]) -> list[str]:
        """A new row with our values under their headers and other people's columns left empty."""
        cells = [""] * len(self.header)
        for name, value in values.items():
            cells[self.header.index(name)] = value
        return cells


class GoogleSheet:
    """Posts, Archive and Cursors worksheets of one spreadsheet the service account can edit."""

    def __init__(
        self,
        spreadsheet_id: str,
        service_account_info: dict[str, Any],
        api_base: str,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = 60.0,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.client_email = str(service_account_info.get("client_email", "?"))
        self.api_base = api_base.rstrip("/")
        self.max_payload_bytes = max_payload_bytes
        self._project_id = str(service_account_info.get("project_id", ""))
        self._retries = len(retry_delays)
        credentials_class = service_account.Credentials if self.api_base == GOOGLE_SHEETS_API else _CredentialsOffGoogle
        try:
            credentials = credentials_class.from_service_account_info(service_account_info, scopes=[SPREADSHEETS_SCOPE])
        except (ValueError, auth_exceptions.GoogleAuthError):
            # The library's message may quote parts of the key: name the fields instead.
            missing = [
                name for name in ("client_email", "private_key", "token_uri") if not service_account_info.get(name)
            ]
            problem = f"it lacks {', '.join(missing)}" if missing else "its private_key cannot be read"
            raise SheetError(
                f"GUILDFLOW_SHEETS_SERVICE_ACCOUNT is not a usable service account key ({problem}): "
                "download a new JSON key (Google Cloud console > IAM > Service accounts > Keys > Add key)"
            ) from None
        # gspread builds its client as http_client(auth, session): a partial supplies our other two arguments.
        http_client = cast(
            type[HTTPClient], partial(_SheetsHTTPClient, api_base=self.api_base, retry_delays=retry_delays)
        )
        client = gspread.Client(auth=credentials, http_client=http_client)
        client.set_timeout(timeout)
        self._http: HTTPClient = client.http_client
        self._title = ""
        self._worksheets: dict[str, _Worksheet] | None = None
        self._cursor_rows: dict[int, tuple[int, int]] = {}  # channel -> (row number, message id)
        # What this client read and wrote since: Posts rows by number, and the Post Links in Archive.
        # Dropped after a failed request (a retried step reads afresh) and after deleting rows.
        self._posts: dict[int, dict[str, str]] | None = None
        self._archived: set[str] | None = None

    def describe(self) -> str:
        via = "" if self.api_base == GOOGLE_SHEETS_API else f" via {self.api_base}"
        return f"Google Sheets spreadsheet {self.spreadsheet_id} as {self.client_email}{via}"

    def check(self) -> str:
        worksheets = self._layout()
        counts = self._batch_columns([(title, _KEY) for title in (POSTS_WORKSHEET, ARCHIVE_WORKSHEET)])
        found = [f"{title}: {len(counts.get(title, []))} rows" for title in (POSTS_WORKSHEET, ARCHIVE_WORKSHEET)]
        found.append(f"{CURSORS_TABLE}: {len(self._cursor_rows)} rows")
        pending = []
        for title in _COLUMNS:
            if title not in worksheets:
                pending.append(f"add worksheet {title}")
            elif missing := worksheets[title].missing():
                pending.append(f"add {title} columns {', '.join(missing)}")
        summary = f"spreadsheet '{self._title}': {', '.join(found)}"
        return summary + (f"; the first run will {'; '.join(pending)}" if pending else "")

    def read_posts(self) -> PostsRead:
        return posts_from_rows(POSTS_WORKSHEET, sorted(self._posts_rows().items()))

    def read_rows(self, worksheet: str) -> list[dict[str, str]]:
        if worksheet not in WORKSHEET_COLUMNS:
            raise SheetError(f"unknown worksheet '{worksheet}': use {' or '.join(WORKSHEET_COLUMNS)}")
        return [cells for _, cells in self._read_table(worksheet)]

    def known_status_ids(self) -> KnownStatusIds:
        """Always read afresh: what collect appends is deduped against it."""
        posts, archived = self._read_posts_and_archived()
        key_cells = {
            POSTS_WORKSHEET: [(number, cells[_KEY].strip()) for number, cells in sorted(posts.items())],
            ARCHIVE_WORKSHEET: [(0, link) for link in sorted(archived)],
        }
        return status_ids_in_key_cells(key_cells)

    def archived_links(self) -> set[str]:
        return set(self._archived_links())

    def read_cursors(self) -> Cursors:
        self._layout()
        return {channel: message for channel, (_, message) in self._cursor_rows.items()}

    def append_posts(self, posts: list[Post], cursors: Cursors) -> None:
        """Posts first, cursors after: a crash in between re-reads messages that dedupe then drops."""
        if posts:
            # Skipped rows' links too: a second row with the same link is never added.
            known = {link for cells in self._posts_rows().values() if (link := cells[_KEY].strip())}
            for post in posts:
                if post.post_link in known:
                    raise SheetError(
                        f"{post.post_link} is already in the {POSTS_WORKSHEET} worksheet (or twice in this batch): "
                        "nothing was written; collect dedupes by known_status_ids() before appending"
                    )
                known.add(post.post_link)
        if not posts and not cursors:
            return
        self._ensure()
        rows = [dict(zip(POST_COLUMNS, post_to_row(post))) for post in posts]
        numbers = self._append(POSTS_WORKSHEET, rows)
        if self._posts is not None:
            if 0 in numbers:  # the answer named no range: the rows are read again when needed
                self._posts = None
            else:
                self._posts.update(zip(numbers, rows))
        self._write_cursors(cursors)

    def update_results(self, posts: list[Post]) -> None:
        if not posts:
            return
        sheet = self._ensure()[POSTS_WORKSHEET]
        rows = self._posts_rows()
        rows_by_link: dict[str, list[int]] = {}
        for number, cells in rows.items():
            if link := cells[_KEY].strip():
                rows_by_link.setdefault(link, []).append(number)
        data, written = [], []
        for post in posts:
            cells = dict(zip(POST_COLUMNS, post_to_row(post)))
            results = {name: cells[name] for name in RESULT_COLUMNS}
            for number in rows_by_link.get(post.post_link, []):
                data.extend(_cell_runs(sheet, number, results))
                written.append((number, results))
        self._values_batch_update(data)
        for number, results in written:
            rows[number].update(results)

    def append_archive(self, posts: list[Post], processed_at: datetime) -> None:
        archived = set(self._archived_links())
        rows = []
        for post in posts:
            if post.post_link not in archived:  # a re-run after a crash between copy and delete
                archived.add(post.post_link)
                rows.append(dict(zip(ARCHIVE_COLUMNS, archive_row(post, processed_at))))
        if not rows:
            return
        self._ensure()
        self._append(ARCHIVE_WORKSHEET, rows)
        self._archived = archived

    def delete_posts(self, post_links: list[str]) -> None:
        """One batchUpdate of row deletions, found by a fresh read of the key column just before."""
        doomed = set(post_links)
        if not doomed:
            return
        numbers = [number for number, link in self._read_column(POSTS_WORKSHEET, _KEY) if link in doomed]
        if not numbers:
            return
        sheet = self._layout()[POSTS_WORKSHEET]
        # Highest rows first, so the indexes of the rows still to delete do not move.
        requests_ = [
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": sheet.sheet_id,
                        "dimension": "ROWS",
                        "startIndex": first - 1,
                        "endIndex": end - 1,
                    }
                }
            }
            for first, end in reversed(_runs(sorted(numbers)))
        ]
        self._posts = None  # the rows below move up
        for chunk in self._chunks(requests_):
            self._call(self._http.batch_update, self.spreadsheet_id, {"requests": chunk})

    # --- reading --------------------------------------------------------------------------------

    def _layout(self) -> dict[str, _Worksheet]:
        """The worksheets and their header rows (and the small Cursors table), read once per client."""
        if self._worksheets is not None:
            return self._worksheets
        metadata = self._call(self._http.fetch_sheet_metadata, self.spreadsheet_id)
        self._title = metadata.get("properties", {}).get("title", "")
        present = {sheet["properties"]["title"]: sheet["properties"] for sheet in metadata.get("sheets", [])}
        ours = [title for title in _COLUMNS if title in present]
        ranges = [absolute_range_name(title, None if title == CURSORS_TABLE else "1:1") for title in ours]
        value_ranges = self._batch_get(ranges)
        worksheets = {}
        for title, value_range in zip(ours, value_ranges):
            rows = value_range.get("values", [])
            grid = present[title].get("gridProperties", {})
            header = list(rows[0]) if rows else []
            worksheets[title] = _Worksheet(title, present[title]["sheetId"], grid.get("columnCount", 0), header)
            if title == CURSORS_TABLE:
                self._cursor_rows = _cursor_rows(worksheets[title], rows)
        self._worksheets = worksheets
        return worksheets

    def _read_table(self, title: str) -> Iterator[tuple[int, dict[str, str]]]:
        if title not in self._layout():
            return
        rows = self._call(self._http.values_get, self.spreadsheet_id, absolute_range_name(title)).get("values", [])
        yield from _table_rows(title, rows)

    def _posts_rows(self) -> dict[int, dict[str, str]]:
        if self._posts is None:
            self._read_posts_and_archived()
        assert self._posts is not None
        return self._posts

    def _archived_links(self) -> set[str]:
        if self._archived is None:
            self._read_posts_and_archived()
        assert self._archived is not None
        return self._archived

    def _read_posts_and_archived(self) -> tuple[dict[int, dict[str, str]], set[str]]:
        """The Posts table and the Archive key column in one read, kept for the later steps."""
        worksheets = self._layout()
        archive = worksheets.get(ARCHIVE_WORKSHEET)
        column = archive.column(_KEY) if archive is not None else None
        ranges = {}
        if POSTS_WORKSHEET in worksheets:
            ranges[POSTS_WORKSHEET] = absolute_range_name(POSTS_WORKSHEET)
        if column is not None:
            letter = _column_letters(column)
            ranges[ARCHIVE_WORKSHEET] = absolute_range_name(ARCHIVE_WORKSHEET, f"{letter}2:{letter}")
        answers = dict(zip(ranges, (answer.get("values", []) for answer in self._batch_get(list(ranges.values())))))
        posts = dict(_table_rows(POSTS_WORKSHEET, answers.get(POSTS_WORKSHEET, [])))
        archived = {link for row in answers.get(ARCHIVE_WORKSHEET, []) if row and (link := row[0].strip())}
        self._posts, self._archived = posts, archived
        return posts, archived

    def _read_column(self, title: str, name: str) -> list[tuple[int, str]]:
        return self._batch_columns([(title, name)]).get(title, [])

    def _batch_columns(self, wanted: list[tuple[str, str]]) -> dict[str, list[tuple[int, str]]]:
        """(row number, value) of the non-empty cells below the header, for each (worksheet, column): one read."""
        worksheets = self._layout()
        located = [
            (title, column)
            for title, name in wanted
            if title in worksheets and (column := worksheets[title].column(name)) is not None
        ]
        letters = [_column_letters(column) for _, column in located]
        ranges = [absolute_range_name(title, f"{letter}2:{letter}") for (title, _), letter in zip(located, letters)]
        found = {}
        for (title, _), value_range in zip(located, self._batch_get(ranges)):
            values = value_range.get("values", [])
            found[title] = [
                (number, row[0].strip()) for number, row in enumerate(values, start=2) if row and row[0].strip()
            ]
        return found

    def _batch_get(self, ranges: list[str]) -> list[dict[str, Any]]:
        if not ranges:
            return []
        return self._call(self._http.values_batch_get, self.spreadsheet_id, ranges).get("valueRanges", [])

    # --- writing --------------------------------------------------------------------------------

    def _ensure(self) -> dict[str, _Worksheet]:
        """Create missing worksheets and header cells: at most one structural and one values call.

        The cached layout changes only once both calls succeeded, so a failed attempt is retried whole."""
        worksheets = self._layout()
        structure: list[dict[str, Any]] = []
        headers: list[dict[str, Any]] = []
        widened: dict[str, int] = {}
        for title, columns in _COLUMNS.items():
            sheet = worksheets.get(title)
            if sheet is None:
                structure.append(_add_sheet(title, len(columns)))
                headers.append({"range": absolute_range_name(title, "A1"), "values": [list(columns)]})
            elif missing := sheet.missing():
                first, width = len(sheet.header), len(sheet.header) + len(missing)
                if width > sheet.column_count:
                    structure.append(_resize_columns(sheet.sheet_id, width))
                    widened[title] = width
                span = f"{rowcol_to_a1(1, first + 1)}:{rowcol_to_a1(1, width)}"
                headers.append({"range": absolute_range_name(title, span), "values": [missing]})
        added = []
        if structure:
            replies = self._call(self._http.batch_update, self.spreadsheet_id, {"requests": structure})
            added = [reply["addSheet"]["properties"] for reply in replies.get("replies", []) if "addSheet" in reply]
        self._values_batch_update(headers)
        for title, width in widened.items():
            worksheets[title].column_count = width
        for sheet in worksheets.values():
            sheet.header.extend(sheet.missing())
        for properties in added:
            title = properties["title"]
            columns = properties.get("gridProperties", {}).get("columnCount", 0)
            worksheets[title] = _Worksheet(title, properties["sheetId"], columns, list(_COLUMNS[title]))
        return worksheets

    def _append(self, title: str, rows: list[dict[str, str]]) -> list[int]:
        """values.append in as few calls as the payload limit allows, rows inserted below the table.

        Returns the row numbers the rows landed on."""
        sheet = self._layout()[title]
        params = {**_RAW, "insertDataOption": "INSERT_ROWS"}
        numbers: list[int] = []
        for chunk in self._chunks([sheet.row(values) for values in rows]):
            answer = self._call(
                self._http.values_append,
                self.spreadsheet_id,
                absolute_range_name(title, "A1"),
                params,
                {"values": chunk},
            )
            first = _first_row(answer.get("updates", {}).get("updatedRange", ""))
            numbers.extend(range(first, first + len(chunk)))
        return numbers

    def _write_cursors(self, cursors: Cursors) -> None:
        """Changed cursors updated in place, new channels appended below the Cursors table."""
        sheet = self._layout()[CURSORS_TABLE]
        changed, new = [], []
        for channel, message in cursors.items():
            if channel not in self._cursor_rows:
                new.append(channel)
            elif self._cursor_rows[channel][1] != message:
                number = self._cursor_rows[channel][0]
                changed.extend(_cell_runs(sheet, number, {"Last Message ID": str(message)}))
                self._cursor_rows[channel] = (number, message)
        self._values_batch_update(changed)
        rows = [{"Channel ID": str(channel), "Last Message ID": str(cursors[channel])} for channel in new]
        numbers = self._append(CURSORS_TABLE, rows)
        self._cursor_rows.update((channel, (number, cursors[channel])) for channel, number in zip(new, numbers))

    def _values_batch_update(self, data: list[dict[str, Any]]) -> None:
        for chunk in self._chunks(data):
            self._call(self._http.values_batch_update, self.spreadsheet_id, {**_RAW, "data": chunk})

    def _chunks(self, items: list[T]) -> Iterator[list[T]]:
        """Consecutive slices whose JSON body (as requests sends it) stays within max_payload_bytes."""
        envelope = 200  # the body's other keys and the list brackets
        chunk: list[T] = []
        size = envelope
        for item in items:
            item_size = len(json.dumps(item).encode()) + 2  # ", " between items
            if chunk and size + item_size > self.max_payload_bytes:
                yield chunk
                chunk, size = [], envelope
            chunk.append(item)
            size += item_size
        if chunk:
            yield chunk

    # --- errors ---------------------------------------------------------------------------------

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        """One gspread call; whatever goes wrong becomes a SheetError that names the fix.

        A failed call may have written part of a batch, so what this client read is read again."""
        try:
            return self._explained(method, *args)
        except SheetError:
            self._posts = self._archived = None
            raise

    def _explained(self, method: Callable[..., T], *args: Any) -> T:
        try:
            return method(*args)
        except APIError as error:
            raise self._api_error(error) from None
        except auth_exceptions.RefreshError as error:
            raise self._refresh_error(error) from None
        except ValueError:  # a 2xx body that is not JSON (requests' JSONDecodeError is a ValueError)
            raise SheetError(
                f"Google Sheets sent an unreadable answer for spreadsheet {self.spreadsheet_id}; retry later",
                transient=True,
            ) from None
        except (auth_exceptions.TransportError, requests.RequestException) as error:
            raise SheetError(
                f"cannot reach Google ({type(error).__name__}) at {self.api_base} or the key's token_uri: "
                "check the network or proxy (GUILDFLOW_SHEETS_API_BASE), then retry",
                transient=True,
            ) from None

    def _api_error(self, error: APIError) -> SheetError:
        status = error.response.status_code
        message = str(error.error.get("message", ""))[:300]
        if status == 401:
            return SheetError(
                f"Google Sheets rejected the access token of {self.client_email}: the key may have been revoked; "
                "create a new JSON key and put it in GUILDFLOW_SHEETS_SERVICE_ACCOUNT"
            )
        if status == 403 and ("has not been used" in message or "disabled" in message):
            return SheetError(
                f"the Google Sheets API is not enabled for project {self._project_id or '?'} ({message}): enable it at "
                f"https://console.cloud.google.com/apis/library/sheets.googleapis.com?project={self._project_id}"
            )
        if status == 403:
            return SheetError(
                f"{self.client_email} may not edit spreadsheet {self.spreadsheet_id}: "
                f"share the spreadsheet with {self.client_email} as Editor"
            )
        if status == 404:
            return SheetError(
                f"spreadsheet {self.spreadsheet_id} not found: check GUILDFLOW_SHEETS_SPREADSHEET_ID "
                "(the id in https://docs.google.com/spreadsheets/d/<id>/edit)"
            )
        if _retryable(status):
            return SheetError(
                f"Google Sheets answered {status} ({message}) after {self._retries} retries for spreadsheet "
                f"{self.spreadsheet_id}: the quota or the service needs a while; retry later",
                transient=True,
            )
        return SheetError(f"Google Sheets refused a request to spreadsheet {self.spreadsheet_id} ({status}: {message})")

    def _refresh_error(self, error: auth_exceptions.RefreshError) -> SheetError:
        answer = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
        if answer.get("error") in _KEY_REFUSED:
            reason = f"{answer.get('error')}: {answer.get('error_description', '')}"[:200]
            return SheetError(
                f"Google's token endpoint refused the key of {self.client_email} ({reason}): the key was revoked "
                "or is wrong; create a new JSON key (IAM > Service accounts > Keys) and put it in "
                "GUILDFLOW_SHEETS_SERVICE_ACCOUNT"
            )
        return SheetError(
            f"Google's token endpoint (the key's token_uri) gave no access token for {self.client_email}: "
            "it may be down or a proxy in between failed; retry later",
            transient=True,
        )


def _add_sheet(title: str, columns: int) -> dict[str, Any]:
    grid = {"rowCount": _NEW_WORKSHEET_ROWS, "columnCount": columns}
    return {"addSheet": {"properties": {"title": title, "sheetType": "GRID", "gridProperties": grid}}}


def _resize_columns(sheet_id: int, columns: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"columnCount": columns}},
            "fields": "gridProperties.columnCount",
        }
    }


def _cell_runs(sheet: _Worksheet, number: int, values: dict[str, str]) -> list[dict[str, Any]]:
    """ValueRanges writing `values` into row `number`, one per run of adjacent columns."""
    by_column = sorted((sheet.header.index(name), value) for name, value in values.items())
    ranges = []
    for first, last in _runs([column for column, _ in by_column]):
        span = f"{rowcol_to_a1(number, first + 1)}:{rowcol_to_a1(number, last)}"
        cells = [value for column, value in by_column if first <= column < last]
        ranges.append({"range": absolute_range_name(sheet.title, span), "values": [cells]})
    return ranges


def _runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted numbers as (first, last + 1) runs of consecutive values."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number:
            runs[-1][1] = number + 1
        else:
            runs.append([number, number + 1])
    return [(first, end) for first, end in runs]


def _table_rows(title: str, rows: list[list[str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, our cells by column name) for each row below the header with any of our cells filled."""
    header = list(rows[0]) if rows else []
    positions = {name: header.index(name) for name in _COLUMNS[title] if name in header}
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: _cell(row, positions.get(name)) for name in _COLUMNS[title]}
        if any(value.strip() for value in cells.values()):
            yield number, cells


def _cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _column_letters(index: int) -> str:
    """'A' for column 0, 'AA' for column 26."""
    return rowcol_to_a1(1, index + 1)[:-1]


def _first_row(a1_range: str) -> int:
    """The first row number of a range such as Cursors!A3:B4 (0 if there is none)."""
    match = re.search(r"!\$?[A-Z]*\$?(\d+)", a1_range)
    return int(match.group(1)) if match else 0


def _cursor_rows(sheet: _Worksheet, rows: list[list[str]]) -> dict[int, tuple[int, int]]:
    channel_column, message_column = sheet.column("Channel ID"), sheet.column("Last Message ID")
    if channel_column is None or message_column is None:
        return {}
    cursors = {}
    for number, row in enumerate(rows[1:], start=2):
        channel = row[channel_column].strip() if channel_column < len(row) else ""
        message = row[message_column].strip() if message_column < len(row) else ""
        if not channel:
            continue
        if not (channel.isdigit() and message.isdigit()):
            raise SheetError(
                f"{CURSORS_TABLE} row {number} is not a channel id and a message id: fix or clear that row"
            )
        cursors[int(channel)] = (number, int(message))
    return cursors

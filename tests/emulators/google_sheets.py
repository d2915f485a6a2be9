"""Google Sheets API v4 and Google's OAuth token endpoint, as far as GoogleSheet uses them through gspread.

What the real service checks and this one checks too: the service account's JWT assertion is signed
with its key (and not revoked), every Sheets request carries a Bearer token that /token issued, the
spreadsheet is shared with the account (as Editor for writes), writes stay inside the grid, and a
request body is at most 2 MB. Errors have Google's shape {"error": {"code", "message", "status"}}.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from tests.emulators.base import Emulator, Request, Response

MAX_PAYLOAD_BYTES = 2_000_000
SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
# google-auth always puts Google's endpoint in "aud", whatever token_uri the key names.
_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_ID = r"(?P<id>[^/:]+)"
_RANGE = r"(?P<range>[^/:]+)"  # gspread percent-encodes the whole range, ':' and '!' included


@dataclass
class Worksheet:
    sheet_id: int
    title: str
    row_count: int
    column_count: int
    cells: list[list[str]] = field(default_factory=list)  # stored rows, shorter than the grid is fine

    def properties(self, index: int) -> dict[str, Any]:
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": self.row_count, "columnCount": self.column_count},
        }

    def get(self, row: int, column: int) -> str:
        if row < len(self.cells) and column < len(self.cells[row]):
            return self.cells[row][column]
        return ""

    def put(self, row: int, column: int, value: str) -> None:
        while len(self.cells) <= row:
            self.cells.append([])
        cells = self.cells[row]
        cells.extend([""] * (column + 1 - len(cells)))
        cells[column] = value

    def used_rows(self) -> int:
        """1 + the index of the last row with any value (0 for an empty sheet)."""
        return max((index + 1 for index, row in enumerate(self.cells) if any(row)), default=0)


@dataclass
class Spreadsheet:
    id: str
    title: str
    worksheets: list[Worksheet]
    shared_with: dict[str, str]  # client email -> "reader" | "writer"

    def worksheet(self, title: str) -> Worksheet | None:
        return next((sheet for sheet in self.worksheets if sheet.title == title), None)


@dataclass(frozen=True)
class GridRange:
    """0-based, end-exclusive; an end of None runs to the edge of the grid."""

    title: str
    row: int
    column: int
    end_row: int | None
    end_column: int | None
    single_cell: bool = False  # "A1": read alone, or where a written block starts


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.response = SheetsEmulator.error(code, status, message)


class SheetsEmulator(Emulator):
    def __init__(self) -> None:
        super().__init__()
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self._public_keys: dict[str, bytes] = {}  # client email -> PEM
        self._tokens: dict[str, str] = {}  # access token -> client email
        self._next_sheet_id = 1000
        self._state = threading.Lock()
        self.route("POST", r"/token", self._token)
        self.route("GET", rf"/v4/spreadsheets/{_ID}", self._api(self._metadata))
        self.route("POST", rf"/v4/spreadsheets/{_ID}:batchUpdate", self._api(self._batch_update, write=True))
        self.route("GET", rf"/v4/spreadsheets/{_ID}/values:batchGet", self._api(self._values_batch_get))
        self.route("POST", rf"/v4/spreadsheets/{_ID}/values:batchUpdate", self._api(self._values_batch_update, True))
        self.route("GET", rf"/v4/spreadsheets/{_ID}/values/{_RANGE}", self._api(self._values_get))
        self.route("POST", rf"/v4/spreadsheets/{_ID}/values/{_RANGE}:append", self._api(self._values_append, True))

    # --- for tests ------------------------------------------------------------------------------

    def throttled(self) -> Response:
        return self.error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of "
            "service 'sheets.googleapis.com'.",
        )

    def server_error(self, status: int = 503) -> Response:
        if status == 503:
            return self.error(503, "UNAVAILABLE", "The service is currently unavailable.")
        return self.error(status, "INTERNAL", "Internal error encountered.")

    def service_account(self, email: str = "guildflow@guild-project.iam.gserviceaccount.com") -> dict[str, Any]:
        """A service account JSON key with a fresh RSA key whose public half this emulator trusts."""
        # 1024 bits, not Google's 2048: loading a 2048-bit key costs ~90 ms each time a client is built.
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self._public_keys[email] = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": "guild-project",
            "private_key_id": secrets.token_hex(20),
            "private_key": private_pem,
            "client_email": email,
            "client_id": "1234567890",
            "token_uri": f"{self.url}/token",
        }

    def revoke(self, email: str) -> None:
        """The key was deleted in the Cloud console: its assertions no longer verify."""
        self._public_keys.pop(email, None)
        self._tokens = {token: owner for token, owner in self._tokens.items() if owner != email}

    def create_spreadsheet(
        self,
        spreadsheet_id: str,
        title: str = "Guild posts",
        worksheets: dict[str, list[list[str]]] | None = None,
        shared_with: dict[str, str] | None = None,
    ) -> Spreadsheet:
        sheets = [
            Worksheet(
                self._new_sheet_id(), name, max(1000, len(rows)), max(26, *map(len, rows), 0), copy.deepcopy(rows)
            )
            for name, rows in (worksheets or {"Sheet1": []}).items()
        ]
        spreadsheet = Spreadsheet(spreadsheet_id, title, sheets, dict(shared_with or {}))
        self.spreadsheets[spreadsheet_id] = spreadsheet
        return spreadsheet

    def values(self, spreadsheet_id: str, title: str) -> list[list[str]]:
        """What values.get of the whole worksheet answers: trailing blanks trimmed."""
        sheet = self.spreadsheets[spreadsheet_id].worksheet(title)
        assert sheet is not None, f"no worksheet {title}"
        return _trimmed([list(row) for row in sheet.cells])

    def write_calls(self) -> int:
        """Requests that could change a spreadsheet."""
        return sum(1 for request in self.requests if request.path.startswith("/v4/") and request.method != "GET")

    @staticmethod
    def error(code: int, status: str, message: str) -> Response:
        return Response.json({"error": {"code": code, "message": message, "status": status}}, status=code)

    # --- OAuth ----------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = {name: values[0] for name, values in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != _JWT_GRANT:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, verify=False)
        except (ValueError, auth_exceptions.MalformedError):
            return _oauth_error("invalid_grant", "Invalid JWT.")
        email = claims.get("iss", "")
        public_key = self._public_keys.get(email)
        if public_key is None:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        try:
            jwt.decode(assertion, certs=public_key, audience=_TOKEN_AUDIENCE)
        except (ValueError, auth_exceptions.GoogleAuthError):
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if SPREADSHEETS_SCOPE not in str(claims.get("scope", "")).split():
            return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29." + secrets.token_urlsafe(32)
        self._tokens[token] = email
        return Response.json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # --- Sheets ---------------------------------------------------------------------------------

    def _api(self, handler: Any, write: bool = False) -> Any:
        """Google's checks, in Google's order: size, credentials, the spreadsheet, the caller's role."""

        def checked(request: Request) -> Response:
            if len(request.body) > MAX_PAYLOAD_BYTES:
                return self.error(
                    400, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {MAX_PAYLOAD_BYTES} bytes."
                )
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            email = self._tokens.get(token) if scheme == "Bearer" else None
            if email is None:
                return self.error(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                    "login cookie or other valid authentication credential.",
                )
            with self._state:
                spreadsheet = self.spreadsheets.get(request.params["id"])
                if spreadsheet is None:
                    return self.error(404, "NOT_FOUND", "Requested entity was not found.")
                role = spreadsheet.shared_with.get(email)
                if role is None or (write and role != "writer"):
                    return self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
                try:
                    return handler(spreadsheet, request)
                except ApiError as error:
                    return error.response

        return checked

    def _metadata(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        return Response.json(
            {
                "spreadsheetId": spreadsheet.id,
                "properties": {"title": spreadsheet.title, "locale": "en_US", "timeZone": "Etc/GMT"},
                "sheets": [
                    {"properties": sheet.properties(index)} for index, sheet in enumerate(spreadsheet.worksheets)
                ],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.id}/edit",
            }
        )

    def _values_get(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        return Response.json(_value_range(spreadsheet, unquote(request.params["range"])))

    def _values_batch_get(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        ranges = request.query.get("ranges", [])
        value_ranges = [_value_range(spreadsheet, text) for text in ranges]
        return Response.json({"spreadsheetId": spreadsheet.id, "valueRanges": value_ranges})

    def _values_append(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        _require_raw(request.arg("valueInputOption"))
        target = _parse_range(spreadsheet, unquote(request.params["range"]))
        sheet = _sheet(spreadsheet, target.title)
        rows = [[_cell_text(value) for value in row] for row in request.json().get("values", [])]
        width = max(map(len, rows), default=0)
        if target.column + width > sheet.column_count:
            raise _grid_error(target.title, sheet)
        start = max(sheet.used_rows(), target.row)
        if request.arg("insertDataOption") == "INSERT_ROWS":
            sheet.cells[start:start] = [[] for _ in rows]
            sheet.row_count += len(rows)
        else:
            sheet.row_count = max(sheet.row_count, start + len(rows))
        for offset, row in enumerate(rows):
            for column, value in enumerate(row):
                sheet.put(start + offset, target.column + column, value)
        updated = _a1(target.title, start, target.column, start + len(rows), target.column + width)
        return Response.json(
            {
                "spreadsheetId": spreadsheet.id,
                "tableRange": _a1(target.title, 0, 0, max(start, 1), sheet.column_count),
                "updates": {
                    "spreadsheetId": spreadsheet.id,
                    "updatedRange": updated,
                    "updatedRows": len(rows),
                    "updatedColumns": width,
                    "updatedCells": sum(map(len, rows)),
                },
            }
        )

    def _values_batch_update(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        body = request.json()
        _require_raw(body.get("valueInputOption"))
        writes = []
        for data in body.get("data", []):
            target = _parse_range(spreadsheet, data["range"])
            sheet = _sheet(spreadsheet, target.title)
            rows = [[_cell_text(value) for value in row] for row in data.get("values", [])]
            width = max(map(len, rows), default=0)
            end_row, end_column = target.row + len(rows), target.column + width
            if end_row > sheet.row_count or end_column > sheet.column_count:
                raise _grid_error(data["range"], sheet)
            if not target.single_cell and (
                (target.end_row is not None and end_row > target.end_row)
                or (target.end_column is not None and end_column > target.end_column)
            ):
                raise ApiError(
                    400,
                    "INVALID_ARGUMENT",
                    f"Requested writing within range [{data['range']}], but tried writing beyond it",
                )
            writes.append((sheet, target, rows))
        for sheet, target, rows in writes:  # all ranges checked first: a batch is all or nothing
            for offset, row in enumerate(rows):
                for column, value in enumerate(row):
                    sheet.put(target.row + offset, target.column + column, value)
        responses = [
            {"spreadsheetId": spreadsheet.id, "updatedRows": len(rows), "updatedCells": sum(map(len, rows))}
            for _, _, rows in writes
        ]
        return Response.json(
            {
                "spreadsheetId": spreadsheet.id,
                "totalUpdatedRows": sum(item["updatedRows"] for item in responses),
                "totalUpdatedCells": sum(item["updatedCells"] for item in responses),
                "responses": responses,
            }
        )

    def _batch_update(self, spreadsheet: Spreadsheet, request: Request) -> Response:
        draft = copy.deepcopy(spreadsheet.worksheets)  # all requests apply, or none
        replies = [self._apply(draft, index, item) for index, item in enumerate(request.json().get("requests", []))]
        spreadsheet.worksheets = draft
        return Response.json({"spreadsheetId": spreadsheet.id, "replies": replies})

    def _apply(self, sheets: list[Worksheet], index: int, item: dict[str, Any]) -> dict[str, Any]:
        [(kind, body)] = item.items()
        if kind == "addSheet":
            properties = body.get("properties", {})
            title = properties.get("title", f"Sheet{len(sheets) + 1}")
            if any(sheet.title == title for sheet in sheets):
                raise ApiError(
                    400,
                    "INVALID_ARGUMENT",
                    f'Invalid requests[{index}].addSheet: A sheet with the name "{title}" already exists. '
                    "Please enter another name.",
                )
            grid = properties.get("gridProperties", {})
            sheet = Worksheet(self._new_sheet_id(), title, grid.get("rowCount", 1000), grid.get("columnCount", 26))
            sheets.insert(properties.get("index", len(sheets)), sheet)
            return {"addSheet": {"properties": sheet.properties(sheets.index(sheet))}}
        if kind == "updateSheetProperties":
            properties = body["properties"]
            sheet = _sheet_by_id(sheets, properties["sheetId"], index)
            for path in body["fields"].split(","):
                if path.strip() == "gridProperties.rowCount":
                    sheet.row_count = properties["gridProperties"]["rowCount"]
                elif path.strip() == "gridProperties.columnCount":
                    sheet.column_count = properties["gridProperties"]["columnCount"]
                elif path.strip() == "title":
                    sheet.title = properties["title"]
            return {}
        if kind == "deleteDimension":
            span = body["range"]
            sheet = _sheet_by_id(sheets, span["sheetId"], index)
            start, end = span["startIndex"], span["endIndex"]
            if span["dimension"] != "ROWS" or not 0 <= start < end <= sheet.row_count:
                raise ApiError(400, "INVALID_ARGUMENT", f"Invalid requests[{index}].deleteDimension: bad range")
            if end - start >= sheet.row_count:
                raise ApiError(
                    400, "INVALID_ARGUMENT", f"Invalid requests[{index}].deleteDimension: You can't delete all the rows"
                )
            del sheet.cells[start:end]
            sheet.row_count -= end - start
            return {}
        raise ApiError(400, "INVALID_ARGUMENT", f'Invalid JSON payload received. Unknown name "{kind}"')

    def _new_sheet_id(self) -> int:
        self._next_sheet_id += 7919
        return self._next_sheet_id


def _oauth_error(error: str, description: str) -> Response:
    return Response.json({"error": error, "error_description": description}, status=400)


def _require_raw(option: str | None) -> None:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    if option != "RAW":  # not Google's rule, ours: USER_ENTERED would turn ids and dates into numbers
        raise ApiError(400, "INVALID_ARGUMENT", "emulator: GoogleSheet must write with valueInputOption=RAW")


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return "" if value is None else str(value)


def _sheet(spreadsheet: Spreadsheet, title: str) -> Worksheet:
    sheet = spreadsheet.worksheet(title)
    if sheet is None:
        raise ApiError(400, "INVALID_ARGUMENT", f"Unable to parse range: {title}")
    return sheet


def _sheet_by_id(sheets: list[Worksheet], sheet_id: int, index: int) -> Worksheet:
    sheet = next((sheet for sheet in sheets if sheet.sheet_id == sheet_id), None)
    if sheet is None:
        raise ApiError(400, "INVALID_ARGUMENT", f"Invalid requests[{index}]: No grid with id: {sheet_id}")
    return sheet


def _grid_error(text: str, sheet: Worksheet) -> ApiError:
    return ApiError(
        400,
        "INVALID_ARGUMENT",
        f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
    )


_CELLS = re.compile(r"(?P<c0>[A-Z]*)(?P<r0>\d*)(?::(?P<c1>[A-Z]*)(?P<r1>\d*))?")


def _parse_range(spreadsheet: Spreadsheet, text: str) -> GridRange:
    """'Posts'!A1:Z, 'Posts'!1:1, Posts!H2:H, 'It''s'!A1, or a bare sheet name for the whole grid."""
    if text.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'(?:!(.*))?", text)
        title, cells = (match.group(1).replace("''", "'"), match.group(2) or "") if match else ("", None)
    else:
        title, _, cells = text.partition("!")
    parts = _CELLS.fullmatch(cells.upper()) if cells is not None else None
    sheet = spreadsheet.worksheet(title)
    if parts is None or sheet is None:
        raise ApiError(400, "INVALID_ARGUMENT", f"Unable to parse range: {text}")
    c0, r0, c1, r1 = parts.group("c0", "r0", "c1", "r1")
    single = parts.group(0).find(":") < 0 and bool(cells)
    start_row = int(r0) - 1 if r0 else 0
    start_column = _column_index(c0) if c0 else 0
    if single:  # one cell: "A1"
        return GridRange(title, start_row, start_column, start_row + 1, start_column + 1, single_cell=True)
    end_row = int(r1) if r1 else None
    end_column = _column_index(c1) + 1 if c1 else None
    return GridRange(title, start_row, start_column, end_row, end_column)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _a1(title: str, row: int, column: int, end_row: int, end_column: int) -> str:
    name = title if re.fullmatch(r"\w+", title) else "'" + title.replace("'", "''") + "'"
    return f"{name}!{_column_letters(column)}{row + 1}:{_column_letters(end_column - 1)}{end_row}"


def _value_range(spreadsheet: Spreadsheet, text: str) -> dict[str, Any]:
    target = _parse_range(spreadsheet, text)
    sheet = _sheet(spreadsheet, target.title)
    end_row = min(target.end_row or sheet.row_count, sheet.row_count)
    end_column = min(target.end_column or sheet.column_count, sheet.column_count)
    rows = [
        [sheet.get(row, column) for column in range(target.column, end_column)] for row in range(target.row, end_row)
    ]
    answer: dict[str, Any] = {
        "range": _a1(target.title, target.row, target.column, end_row, end_column),
        "majorDimension": "ROWS",
    }
    if trimmed := _trimmed(rows):
        answer["values"] = trimmed
    return answer


def _trimmed(rows: list[list[str]]) -> list[list[str]]:
    """The API leaves out trailing empty cells of each row and trailing empty rows."""
    result = []
    for row in rows:
        while row and row[-1] == "":
            row = row[:-1]
        result.append(row)
    while result and not result[-1]:
        result.pop()
    return result

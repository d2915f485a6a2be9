"""A tiny HTTP service on 127.0.0.1 for emulating one outside API in tests.

Each emulator subclasses Emulator, registers routes, and keeps its own state (channels, sheets,
tweets...). The base gives every emulator the same tools: an ephemeral port in a background thread,
a log of every request (so tests can count API calls), and queued faults (an error status with the
service's own retry signal, a malformed body, or a response held back past the client's timeout).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string, percent-decoding left to the handler
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        # Exactly "application/json": discord.py rejects a charset suffix.
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Fault:
    """What to do instead of the real answer for the next matching request(s)."""

    response: Response | None = None  # an error answer (e.g. 429 with the service's retry header)
    malformed: bool = False  # 200 with a body that is not JSON
    hold_seconds: float = 0.0  # answer only after this long (a client timeout)
    hold_until: threading.Event | None = None  # answer only once the test sets this (then as usual)
    method: str | None = None
    path_pattern: str | None = None  # regex searched in the path
    times: int = 1
    skip: int = 0  # let this many matching requests through first (fail the second post, not the first)

    def matches(self, request: Request) -> bool:
        if self.method and self.method != request.method:
            return False
        return not self.path_pattern or re.search(self.path_pattern, request.path) is not None


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a held response (a timeout test) is expected, not an error."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Emulator:
    """Subclass, register routes in __init__ with self.route(...), then `with emulator.running():`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # set on stop, so held responses end at once
        self._server: ThreadingHTTPServer | None = None
        self.latency_seconds = 0.0  # every answer waits this long, as a distant service's would (benchmarks)

    # --- for subclasses -------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """pattern is a regex matched against the whole path; named groups become request.params."""
        self._routes.append((method, re.compile(pattern), handler))

    # --- for tests ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def calls(self, method: str | None = None, path_pattern: str | None = None) -> int:
        """How many requests matched (all of them by default), faults included."""
        return sum(
            1
            for request in self.requests
            if (method is None or request.method == method)
            and (path_pattern is None or re.search(path_pattern, request.path))
        )

    @contextmanager
    def running(self) -> Iterator[Emulator]:
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=10)

    # --- dispatch -------------------------------------------------------------------------------

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            fault = next((fault for fault in self._faults if fault.matches(request)), None)
            if fault is not None and fault.skip:
                fault.skip -= 1
                fault = None
            elif fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        if self.latency_seconds:
            self._release.wait(self.latency_seconds)
        if fault is not None:
            if fault.hold_seconds:
                self._release.wait(fault.hold_seconds)
            if fault.hold_until is not None:
                fault.hold_until.wait()
            if fault.malformed:
                return Response(200, b"{not json", {"Content-Type": "application/json"})
            if fault.response is not None:
                return fault.response
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                request.params = match.groupdict()
                return handler(request)
        return Response.json({"error": f"no route for {request.method} {request.path}"}, status=404)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle on, each answer waits for a delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self._body(),
                )
                response = emulator._answer(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

        return _Handler

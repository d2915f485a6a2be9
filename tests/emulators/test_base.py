"""The emulator base itself: routing, call counting, faults."""

import socket

import httpx
import pytest

from tests.emulators.base import Emulator, Fault, Request, Response


class Echo(Emulator):
    def __init__(self) -> None:
        super().__init__()
        self.handled: list[str] = []
        self.route("POST", r"/echo/(?P<name>\w+)", self.echo)

    def echo(self, request: Request) -> Response:
        self.handled.append(request.params["name"])
        return Response.json({"name": request.params["name"], "body": request.json(), "q": request.arg("q")})


def test_routes_count_and_faults() -> None:
    with Echo().running() as echo:
        first = httpx.post(f"{echo.url}/echo/abc?q=1", json={"a": 1})
        assert first.headers["content-type"] == "application/json"
        assert first.json() == {"name": "abc", "body": {"a": 1}, "q": "1"}
        echo.fail_next(Fault(Response.json({"retry_after": 1}, status=429), path_pattern="/echo/", times=2))
        assert [httpx.post(f"{echo.url}/echo/x", json={}).status_code for _ in range(3)] == [429, 429, 200]
        echo.fail_next(Fault(Response(503), skip=1))
        assert [httpx.post(f"{echo.url}/echo/x", json={}).status_code for _ in range(3)] == [200, 503, 200]
        echo.fail_next(Fault(malformed=True))
        assert httpx.post(f"{echo.url}/echo/x", json={}).text == "{not json"
        assert httpx.get(f"{echo.url}/nowhere").status_code == 404
        assert echo.calls("POST", r"^/echo/") == 8 and echo.calls() == 9


def test_chunked_bodies_are_read() -> None:
    with Echo().running() as echo:
        response = httpx.post(f"{echo.url}/echo/c", content=iter([b'{"x"', b": 2}"]))
        assert response.json()["body"] == {"x": 2}


def test_planned_faults_answer_requests_by_number() -> None:
    with Echo().running() as echo:
        echo.plan_faults({2: Fault(echo.throttled()), 4: Fault(echo.server_error(502))})
        statuses = [httpx.post(f"{echo.url}/echo/n{number}", json={}).status_code for number in range(1, 6)]
        assert statuses == [200, 429, 200, 502, 200]
        assert [number for number, _ in echo.faults_hit] == [2, 4]
        assert echo.handled == ["n1", "n3", "n5"]  # a refused request does nothing


def test_a_dropped_answer_after_the_work_is_done_looks_like_a_timeout() -> None:
    with Echo().running() as echo:
        echo.plan_faults({1: Fault(drop=True, done_first=True), 2: Fault(drop=True)})
        for name in ("done", "undone"):
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.post(f"{echo.url}/echo/{name}", json={})
        assert echo.handled == ["done"]  # the first request changed the service's state, the second did not


def test_a_malformed_answer_after_the_work_keeps_its_status() -> None:
    with Echo().running() as echo:
        echo.plan_faults({1: Fault(malformed=True, done_first=True)})
        answer = httpx.post(f"{echo.url}/echo/garbled", json={})
        assert (answer.status_code, answer.text, echo.handled) == (200, "{not json", ["garbled"])


def test_a_body_cut_short_is_dropped_unhandled() -> None:
    """A client killed while sending leaves a partial body: the service must not act on it."""
    with Echo().running() as echo:
        host, port = echo.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(b'POST /echo/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"partial": ')
            client.shutdown(socket.SHUT_WR)
            assert client.recv(1024) == b""  # closed, unanswered
        assert httpx.post(f"{echo.url}/echo/whole", json={}).status_code == 200
        assert echo.handled == ["whole"]

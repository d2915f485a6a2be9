"""The emulator base itself: routing, call counting, faults."""

import httpx

from tests.emulators.base import Emulator, Fault, Request, Response


class Echo(Emulator):
    def __init__(self) -> None:
        super().__init__()
        self.route("POST", r"/echo/(?P<name>\w+)", self.echo)

    def echo(self, request: Request) -> Response:
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

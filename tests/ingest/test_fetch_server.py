"""The web fetcher against a real threaded HTTP server on 127.0.0.1 (integration): a 404,
a page slower than the timeout, a redirect to another host, an unchanged re-fetch (304)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.fetch import FetchLimits, FetchResult, fetch_site


def reasons(result: FetchResult) -> dict[str, str]:
    return {s.name: s.reason for s in result.skipped}


class _Handler(http.server.BaseHTTPRequestHandler):
    log: list[tuple[str, str]]  # (path, If-None-Match), set per server
    release: threading.Event

    def do_GET(self) -> None:
        self.log.append((self.path, self.headers.get("If-None-Match", "")))
        port = self.headers.get("Host", "").rsplit(":", 1)[-1]
        if self.path == "/faq":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, b"", etag='"v1"')
            else:
                self._send(200, b"<h1>FAQ</h1><p>Answer.</p>", etag='"v1"')
        elif self.path == "/slow":
            self.release.wait(5.0)  # bounded even if the test never releases it
            self._send(200, b"late")
        elif self.path == "/away":
            self._send(302, b"", location=f"http://localhost:{port}/faq-elsewhere")
        else:
            self._send(404, b"not here")

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (the timeout test)
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    log: list[tuple[str, str]] = []
    release = threading.Event()
    handler = type("H", (_Handler,), {"log": log, "release": release})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.mark.integration
def test_real_server_404_is_named(server: tuple[str, list[Any]], tmp_path: Path) -> None:
    base, _log = server
    result = fetch_site([f"{base}/missing"], cache_dir=tmp_path)
    assert result.pages == [] and reasons(result) == {f"{base}/missing": "HTTP 404 Not Found"}


@pytest.mark.integration
def test_real_server_slow_page_times_out(server: tuple[str, list[Any]]) -> None:
    base, _log = server
    result = fetch_site([f"{base}/slow", f"{base}/faq"], limits=FetchLimits(timeout=0.3))
    assert reasons(result) == {f"{base}/slow": "timed out after 0.3 s"}
    assert [p.url for p in result.pages] == [f"{base}/faq"]  # the next page still came


@pytest.mark.integration
def test_real_server_redirect_to_another_host_is_refused(server: tuple[str, list[Any]]) -> None:
    base, log = server
    result = fetch_site([f"{base}/away"])
    assert result.pages == []
    assert "another host" in reasons(result)[f"{base}/away"]
    assert "/faq-elsewhere" not in [path for path, _ in log]


@pytest.mark.integration
def test_real_server_unchanged_refetch_uses_304(
    server: tuple[str, list[Any]], tmp_path: Path
) -> None:
    base, log = server
    first = fetch_site([f"{base}/faq"], cache_dir=tmp_path)
    second = fetch_site([f"{base}/faq"], cache_dir=tmp_path)
    assert log[-1] == ("/faq", '"v1"')  # the second run asked conditionally
    assert second.unchanged == 1 and second.pages[0].not_modified
    assert second.pages[0].content == first.pages[0].content == b"<h1>FAQ</h1><p>Answer.</p>"

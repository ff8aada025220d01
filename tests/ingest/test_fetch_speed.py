"""Fetching many pages of one site against a real loopback server (integration): a few at a
time per host, one at a time where robots.txt asks for a Crawl-delay, progress as pages
finish, and the counts of pages fetched and unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.config import Settings
from bot.errors import ConfigError
from bot.ingest.fetch import FetchLimits, fetch_site
from tests.conftest import free_port, running

HOLD = 0.3  # seconds each page takes to answer, so requests in flight overlap


@dataclass
class Site:
    """An ASGI site of pages /p0, /p1...: each answers after HOLD seconds (304 when the
    client already holds its ETag), counting the requests in flight at once."""

    robots: str = ""
    in_flight: int = 0
    most_in_flight: int = 0
    asked: list[str] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        path = scope["path"]
        headers = dict(scope["headers"])
        if path == "/robots.txt":
            await _answer(send, 200, self.robots.encode(), b"text/plain")
            return
        self.asked.append(path)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(HOLD)
        finally:
            self.in_flight -= 1
        etag = f'"{path}"'.encode()
        if headers.get(b"if-none-match") == etag:
            await _answer(send, 304, b"", b"text/html", etag)
        else:
            body = f"<h1>Page {path}</h1><p>About {path}.</p>".encode()
            await _answer(send, 200, body, b"text/html; charset=utf-8", etag)


async def _answer(send: Any, status: int, body: bytes, kind: bytes, etag: bytes = b"") -> None:
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    if etag:
        headers.append((b"etag", etag))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    app = Site()
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    with running(uvicorn.Server(config), "the test site"):
        yield app, f"http://127.0.0.1:{port}"


def pages(base: str, n: int) -> list[str]:
    return [f"{base}/p{i}" for i in range(n)]


@pytest.mark.integration
def test_pages_of_one_host_are_fetched_a_few_at_a_time(site: tuple[Site, str]) -> None:
    app, base = site
    result = fetch_site(pages(base, 12), limits=FetchLimits(concurrency=3, timeout=10))
    assert [p.url for p in result.pages] == pages(
        base, 12
    )  # listing order, whatever finished first
    assert app.most_in_flight == 3


@pytest.mark.integration
def test_a_crawl_delay_means_one_request_at_a_time(site: tuple[Site, str]) -> None:
    app, base = site
    app.robots = "User-agent: *\nCrawl-delay: 0.05\n"
    result = fetch_site(pages(base, 4), limits=FetchLimits(concurrency=4, timeout=10))
    assert len(result.pages) == 4 and result.skipped == []
    assert app.most_in_flight == 1


@pytest.mark.integration
def test_progress_and_counts_of_fetched_and_unchanged_pages(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    _app, base = site
    seen: list[tuple[int, int]] = []
    limits = FetchLimits(concurrency=4, timeout=10)
    first = fetch_site(
        pages(base, 6), cache_dir=tmp_path, limits=limits, progress=lambda *p: seen.append(p)
    )
    assert (first.fetched, first.unchanged) == (6, 0)
    assert seen[-1] == (6, 6) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    again = fetch_site(pages(base, 6), cache_dir=tmp_path, limits=limits)
    assert (again.fetched, again.unchanged) == (0, 6)
    assert [p.content for p in again.pages] == [p.content for p in first.pages]


def test_concurrency_comes_from_its_setting() -> None:
    assert FetchLimits.from_settings(Settings.from_env({})).concurrency == 4
    env = {"FAQBOT_FETCH_CONCURRENCY": "2"}
    assert FetchLimits.from_settings(Settings.from_env(env)).concurrency == 2
    with pytest.raises(ConfigError, match="FAQBOT_FETCH_CONCURRENCY"):
        Settings.from_env({"FAQBOT_FETCH_CONCURRENCY": "0"})

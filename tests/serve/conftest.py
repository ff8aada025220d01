"""The serving stage's test helpers: a real server in a thread and a real headless Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import free_port


def serve_in_thread(app: Any, ready_path: str = "/healthz") -> tuple[str, Callable[[], None]]:
    """Serve ``app`` (as the real server does) on a free loopback port in a thread; returns
    its URL once ``ready_path`` answers, and the function that stops it."""
    import threading
    import time

    import httpx

    from bot.serve.server import uvicorn_server

    server = uvicorn_server(app, "127.0.0.1", free_port())
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}{ready_path}", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.1)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return url, stop


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the Debian package (Playwright cannot download browsers
    here), one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()

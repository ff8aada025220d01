"""The widget on a college page of another origin, in real headless Chromium."""

from __future__ import annotations

import http.server
import importlib.util
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from bot.chain import FaqChain
from bot.server import create_server, uvicorn_server
from tests.conftest import free_port
from tests.test_ui_browser import XSS, ask, wait_for_answer

pytestmark = pytest.mark.integration
# FAQBOT_WIDGET_SCREENSHOT=docs/widget.png retakes the README picture during this test.
SCREENSHOT = os.environ.get("FAQBOT_WIDGET_SCREENSHOT")
DEMO = Path(__file__).resolve().parent.parent / "examples" / "college-site"


def _demo_module() -> Any:
    # examples/college-site is not a package (a hyphen): load its server by path.
    spec = importlib.util.spec_from_file_location("college_site_serve", DEMO / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_html(port: int, html: str) -> http.server.ThreadingHTTPServer:
    server: http.server.ThreadingHTTPServer = _demo_module().html_server(port, html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class HeldChain(FaqChain):
    """Answers only once ``release`` is set, so tests can fill the chat queue."""

    def __init__(self, settings: Any, release: threading.Event) -> None:
        from tests.conftest import HashingEmbeddings

        super().__init__(settings, HashingEmbeddings())
        self.release = release

    def ask(self, question: object, history: Any = ()) -> Any:
        self.release.wait(timeout=60)
        return super().ask(question, history)


def start_bot(settings: Any, chain: Any = None) -> tuple[Any, threading.Thread, str]:
    """The host app on a free loopback port, in a thread; returns once /healthz answers."""
    from tests.conftest import HashingEmbeddings

    port = free_port()
    app = create_server(chain or FaqChain(settings, HashingEmbeddings()), settings)
    server = uvicorn_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    bot = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{bot}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server, thread, bot


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from bot.config import Settings
    from bot.ingest import ingest
    from tests.conftest import GUIDE, HashingEmbeddings

    root = tmp_path_factory.mktemp("widget")
    (root / "corpus").mkdir()
    (root / "corpus" / GUIDE.name).write_text(GUIDE.read_text())
    page_port, evil_port = free_port(), free_port()
    college = f"http://localhost:{page_port}"
    settings = Settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        data_dir=root / "data",
        min_evidence=0.2,
        allowed_origins=(college,),
        rate_per_minute=1000,
        rate_per_day=10_000,
    )
    ingest(settings, HashingEmbeddings())
    server, thread, bot = start_bot(settings)
    tight = settings.with_(rate_per_minute=2)  # the same index, a two-questions budget
    tight_server, tight_thread, tight_bot = start_bot(tight)
    page = _demo_module().page(bot).decode()
    evil_html = f'<html><body><iframe id="f" src="{bot}/embed/"></iframe></body></html>'
    pages = [serve_html(page_port, page), serve_html(evil_port, evil_html)]
    yield {
        "bot": bot,
        "college": college,
        "evil": f"http://127.0.0.1:{evil_port}",
        "tight": tight_bot,
        "index": str(root),
    }
    for p in pages:
        p.shutdown()
    for srv, thr in ((server, thread), (tight_server, tight_thread)):
        srv.should_exit = True
        thr.join(timeout=10)


def test_widget_opens_answers_with_a_source_and_leaves_the_page_alone(
    sites: dict[str, str], browser: object
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(sites["college"])
    before = page.evaluate(
        "() => [getComputedStyle(document.body).fontFamily, "
        "getComputedStyle(document.querySelector('button')).backgroundColor, "
        "JSON.stringify(window.collegeSite)]"
    )
    launcher = page.get_by_role("button", name="Ask about CPT", exact=True)
    launcher.click()
    frame = page.frame_locator("iframe[title='Ask about CPT']")
    # the page's data-greeting, shown in the empty chat
    expect(frame.get_by_text("in our Advanced Manufacturing program")).to_be_visible()
    box = frame.get_by_role("textbox").first
    box.fill("How much does the full CPT cost?")
    box.press("Enter")
    sources = frame.locator(".faq-sources")
    sources.first.wait_for(timeout=30_000)
    assert "360" in frame.locator(".faq-answer, .message").last.inner_text()
    assert "Cost and funding" in (sources.first.text_content() or "")
    if SCREENSHOT:  # the README picture: an answer with its source, on the college page
        page.set_viewport_size({"width": 1280, "height": 800})
        sources.first.locator("summary").click()
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOT))
    box.fill(XSS)
    box.press("Enter")
    page.wait_for_timeout(2000)
    assert dialogs == []
    after = page.evaluate(
        "() => [getComputedStyle(document.body).fontFamily, "
        "getComputedStyle(document.querySelector('button')).backgroundColor, "
        "JSON.stringify(window.collegeSite)]"
    )
    assert after == before
    assert page.evaluate("() => Object.keys(window).filter(k => /faq/i.test(k))") == ["FaqWidget"]
    box.press("Escape")  # focus is inside the chat iframe
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    page.keyboard.press("Escape")  # and from the host page
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.close()


def test_a_page_on_another_origin_cannot_frame_the_chat(
    sites: dict[str, str], browser: object
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(sites["evil"])
    page.wait_for_timeout(1500)
    child = [f for f in page.frames if f != page.main_frame]
    assert child, "the iframe should exist"
    assert child[0].url.startswith("chrome-error://") or child[0].locator("textarea").count() == 0
    page.close()


def test_over_the_limit_the_chat_says_so_politely_and_keeps_working(
    sites: dict[str, str], browser: object
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{sites['tight']}/embed/")
    for n, question in enumerate(["How much does the full CPT cost?", "What is CPT?"], 1):
        ask(page, question)
        wait_for_answer(page, n)
    ask(page, "Where do people take the CPT exam?")
    expect(wait_for_answer(page, 3)).to_contain_text("wait a minute")
    assert page.locator(".faq-notice").count() == 1  # earlier answers stay as they were
    assert page.locator(".faq-answer, .faq-abstain").count() == 2
    expect(page.locator("#faq-input textarea")).to_be_editable()
    page.close()


def test_when_the_chat_queue_is_full_the_user_is_told_to_try_again(
    sites: dict[str, str], browser: object
) -> None:
    from gradio_client import Client
    from gradio_client.utils import QueueError, Status

    from bot.config import Settings

    root = Path(sites["index"])
    settings = Settings(
        corpus_dir=root / "corpus", index_dir=root / "index", data_dir=root / "busy",
        min_evidence=0.2, queue_size=1,
    )  # fmt: skip
    release = threading.Event()
    server, thread, bot = start_bot(settings, HeldChain(settings, release))
    try:
        # Held answers fill the queue: 8 answering at once (the chat's concurrency) and 1
        # waiting; keep adding until the queue says so (refused ones finish at once).
        client = Client(f"{bot}/embed/", verbose=False, analytics_enabled=False)
        jobs: list[Any] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            codes = [j.status().code for j in jobs]
            if codes.count(Status.ITERATING) >= 8 and codes.count(Status.IN_QUEUE) >= 1:
                break
            if len([j for j in jobs if not j.done()]) < 9:
                jobs.append(client.submit("How much does the CPT cost?", api_name="/ask"))
            time.sleep(0.2)
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(f"{bot}/embed/")
        ask(page, "Where do people take the CPT exam?")
        expect(page.get_by_text("currently busy. Please try again").first).to_be_visible(
            timeout=15_000
        )
        assert httpx.get(f"{bot}/healthz").status_code == 200  # the server is up
        release.set()
        refused = 0
        for job in jobs:
            try:
                job.result(timeout=60)
            except QueueError:
                refused += 1
        assert refused < len(jobs)  # the held and queued ones were answered after all
        ask(page, "Where do people take the CPT exam?")  # and answers again once there is room
        expect(page.locator(".faq-answer, .faq-abstain")).to_have_count(1, timeout=30_000)
        page.close()
    finally:
        release.set()
        server.should_exit = True
        thread.join(timeout=10)

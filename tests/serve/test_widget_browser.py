"""The widget on a college page of another origin, in real headless Chromium: the launcher
(bot/widget.js) opening the embed chat (bot/embed/) against the real server (fake embedder,
so the module takes seconds). A student's journey, hostile text from the user and from the
corpus, the limits, keyboard-only use, a phone, and what the college page may see."""

from __future__ import annotations

import http.server
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from benchmarks.common import CHROMIUM
from benchmarks.widget_browser import demo_module  # the demo college page's server
from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.insights.logstore import LogStore
from bot.serve.server import create_server
from tests.conftest import GUIDE, HashingEmbeddings, free_port
from tests.serve.conftest import serve_in_thread

pytestmark = pytest.mark.integration

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) "
        "or set FAQBOT_CHROMIUM",
        allow_module_level=True,
    )
from playwright.sync_api import Browser, Dialog, FrameLocator, Locator, Page, expect  # noqa: E402

# FAQBOT_WIDGET_SCREENSHOT=docs/widget.png retakes the README picture during this test.
SCREENSHOT = os.environ.get("FAQBOT_WIDGET_SCREENSHOT")
TITLE = "Ask about CPT"  # the demo page's data-title
XSS = "<img src=x onerror=alert(1)>"
HOSTILE_DOC = """# Decoder ring <img src=x onerror=alert(1)> notes

The zzqx decoder ring manual says <img src=x onerror="window.__pwned=1"> and \
<script>alert(3)</script> in plain words.
"""
COST = "Through a training provider, what would the four CPT modules cost me in total?"
OWN_SUGGESTIONS = "Can I retake a module I failed?|&lt;b&gt;Is the exam online?&lt;/b&gt;"
DONE = ".votes, .faq-notice"  # every finished reply has thumbs, or is a notice
VIEWPORT = {"width": 1280, "height": 800}
# Set in every frame before any page script: when the chat's question box got the focus
# (only if its document really has it, not merely an activeElement in a background frame).
FOCUS_CLOCK = """document.addEventListener("focusin", (e) => {
  if (e.target && e.target.id === "question" && document.hasFocus() && !window.__focusedAt)
    window.__focusedAt = performance.timeOrigin + performance.now();
}, true);"""
CLICK_CLOCK = """() => document.querySelector("[data-faq-widget]").shadowRoot
  .querySelector(".launch").addEventListener("click", () => {
    window.__clickedAt = performance.timeOrigin + performance.now();
  }, { capture: true, once: true })"""
PAGE_LOOK = """() => [getComputedStyle(document.body).fontFamily,
  getComputedStyle(document.querySelector("#apply")).backgroundColor,
  JSON.stringify(window.collegeSite)]"""


# ----------------------------------------------------------------------------- servers
def serve_html(port: int, html: str) -> http.server.ThreadingHTTPServer:
    server: http.server.ThreadingHTTPServer = demo_module().html_server(port, html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class HeldChain(FaqChain):
    """Answers only once ``release`` is set, so a test can fill the answer queue."""

    def __init__(self, settings: Settings, release: threading.Event) -> None:
        super().__init__(settings, HashingEmbeddings())
        self.release = release

    def ask(self, question: object, history: Any = (), on_token: Any = None) -> Any:
        self.release.wait(timeout=60)
        return super().ask(question, history, on_token)


class TypingChain(FaqChain):
    """Streams a few provisional words first, as the LLM mode does, then the real answer."""

    def ask(self, question: object, history: Any = (), on_token: Any = None) -> Any:
        time.sleep(0.6)  # thinking: the chat shows it is typing
        for piece in ("Looking ", "that ", "up…"):
            if on_token is not None:
                on_token(piece)
            time.sleep(0.4)
        return super().ask(question, history, on_token)


@dataclass
class Bot:
    url: str
    settings: Settings
    stop: Callable[[], None]
    app: Any

    def feedback(self) -> list[dict[str, Any]]:
        """The votes in the question log, once it has caught up."""
        assert self.app.state.questions.flush()
        return [vars(v) for v in LogStore(self.settings.log_url).votes()]


def start_bot(settings: Settings, chain: Any = None) -> Bot:
    """The host app on a free loopback port, in a thread; returns once /healthz answers."""
    app = create_server(chain or FaqChain(settings, HashingEmbeddings()), settings)
    url, stop = serve_in_thread(app)
    return Bot(url, settings, stop, app)


@dataclass
class Sites:
    bot: Bot  # the assistant, which the college page embeds
    tight: Bot  # the same index with a two-questions-a-minute budget
    college: str  # the demo college page, another origin (localhost, not 127.0.0.1)
    asking: str  # the demo page with its own data-suggestions, on a third origin
    evil: str  # a page of an origin the assistant does not list, framing /embed/
    root: Path


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    from bot.ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("widget")
    (root / "corpus").mkdir()
    shutil.copy(GUIDE, root / "corpus" / GUIDE.name)
    # Plain text reaches the chat as written: markup in a passage must stay text too.
    (root / "corpus" / "hostile.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    page_port, asking_port, evil_port = free_port(), free_port(), free_port()
    college, asking = f"http://localhost:{page_port}", f"http://localhost:{asking_port}"
    settings = Settings(
        corpus_dir=root / "corpus", index_dir=root / "index", data_dir=root / "data",
        min_evidence=0.2, allowed_origins=(college, asking), rate_per_minute=1000,
        rate_per_day=10_000,
    )  # fmt: skip
    ingest(settings, HashingEmbeddings())
    bot = start_bot(settings)
    tight = start_bot(settings.with_(rate_per_minute=2, data_dir=root / "tight"))
    evil_html = f'<html><body><iframe id="f" src="{bot.url}/embed/"></iframe></body></html>'
    demo = demo_module().page(bot.url).decode()
    own = demo.replace(" defer>", f' data-suggestions="{OWN_SUGGESTIONS}" defer>')
    assert own != demo
    pages = [
        serve_html(page_port, demo),
        serve_html(asking_port, own),
        serve_html(evil_port, evil_html),
    ]
    yield Sites(bot, tight, college, asking, f"http://127.0.0.1:{evil_port}", root)
    for p in pages:
        p.shutdown()
    bot.stop()
    tight.stop()


# ----------------------------------------------------------------------------- browser
@dataclass
class Watch:
    """What the page did: every request, dialog, script error and CSP complaint."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    chat_posts: list[dict[str, Any]] = field(default_factory=list)

    def origins(self) -> set[str]:
        return {"{}://{}".format(*urlsplit(u)) for u in self.requests if "://" in u}


def open_page(browser: Browser, url: str, **context: Any) -> tuple[Page, Watch]:
    ctx = browser.new_context(**{"viewport": VIEWPORT, **context})
    ctx.add_init_script(FOCUS_CLOCK)
    page = ctx.new_page()
    watch = Watch()

    def on_request(request: Any) -> None:
        watch.requests.append(request.url)
        if request.url.endswith("/api/chat"):
            watch.chat_posts.append(request.post_data_json)

    def on_console(message: Any) -> None:
        # A refused question's 429/503/400 is logged by Chromium as a failed resource.
        if (
            message.type == "error"
            and "status of 4" not in message.text
            and ("status of 503" not in message.text)
        ):
            watch.problems.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.problems.append(f"pageerror: {error}"))

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    return page, watch


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name=TITLE, exact=True)


def chat_of(page: Page) -> FrameLocator:
    return page.frame_locator(f"iframe[title='{TITLE}']")


def chat_frame(page: Page) -> Any:
    return next(f for f in page.frames if f != page.main_frame)


def ask(chat: Page | FrameLocator, question: str) -> None:
    box = chat.locator("#question")
    box.fill(question)
    box.press("Enter")


def reply(chat: Page | FrameLocator, n: int) -> Locator:
    """The ``n``-th reply (from 1), once finished."""
    answer = chat.locator(".turn").nth(n - 1).locator(".reply")
    answer.locator(DONE).first.wait_for(timeout=20_000)
    return answer


def chat_input_has_focus(page: Page) -> bool:
    """Really focused: the panel's iframe is the page's focus and the box is the chat's."""
    frame_focused = page.evaluate(
        "() => { const root = document.querySelector('[data-faq-widget]').shadowRoot;"
        " return root.activeElement && root.activeElement.tagName === 'IFRAME'; }"
    )
    inside = chat_frame(page).evaluate(
        "() => document.hasFocus() && document.activeElement.id === 'question'"
    )
    return bool(frame_focused and inside)


def focused_in_widget(page: Page) -> str:
    return str(
        page.evaluate(
            "() => { const root = document.querySelector('[data-faq-widget]').shadowRoot;"
            " return root.activeElement ? root.activeElement.className : ''; }"
        )
    )


def load_budget(page: Page) -> tuple[int, int]:
    """Bytes over the wire and requests of the chat page and all it loaded."""
    entries = chat_frame(page).evaluate(
        "() => performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).map(e => [e.name, e.transferSize])"
    )
    assets = [(name, size) for name, size in entries if "/api/" not in name]
    return sum(size for _, size in assets), len(assets)


def assert_inert(page: Page, watch: Watch) -> None:
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert watch.dialogs == []
    assert chat_frame(page).evaluate("() => window.__pwned") is None
    assert chat_of(page).locator("#log img, #log script").count() == 0


# ----------------------------------------------------------------------------- tests
def test_widget_answers_with_sources_and_a_reload_keeps_the_chat(
    sites: Sites, browser: Browser
) -> None:
    page, watch = open_page(browser, sites.college)
    before = page.evaluate(PAGE_LOOK)
    page.evaluate(CLICK_CLOCK)
    launcher(page).click()
    chat = chat_of(page)
    expect(chat.locator("#question")).to_be_focused()
    assert chat_input_has_focus(page)
    assert launcher(page).get_attribute("aria-expanded") == "true"
    # the page's data-greeting, and the corpus's suggested questions, in the empty chat
    expect(chat.locator("#greeting")).to_contain_text("in our Advanced Manufacturing program")
    expect(chat.locator(".intro .suggestion").first).to_be_visible()
    size, requests = load_budget(page)
    assert size <= 60_000 and requests <= 5, (size, requests)

    ask(chat, COST)
    answer = reply(chat, 1)
    expect(answer.locator(".faq-answer")).to_contain_text("360")
    expect(answer.locator("sup.faq-cite").first).to_have_text("[1]")
    sources = answer.locator("details.faq-sources")
    expect(sources.locator("summary")).to_contain_text("Source")
    assert "Cost and funding" in (sources.text_content() or "")
    expect(chat.locator("#question")).to_be_focused()
    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    sources.locator("summary").click()
    expect(sources.locator("blockquote.faq-quote").first).to_be_visible()
    if SCREENSHOT:  # the README picture: an answer with its sources, on the college page
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOT))

    page.reload()  # the conversation, its vote and the open panel come back
    chat = chat_of(page)
    expect(chat.locator(".turn")).to_have_count(1)
    expect(chat.locator(".faq-answer")).to_contain_text("360")
    expect(chat.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    ask(chat, "And is there any funding to help me pay for it?")  # a follow-up
    reply(chat, 2)
    assert [m["content"] for m in watch.chat_posts[-1]["history"]][:1] == [COST]

    votes = [r for r in sites.bot.feedback() if r.get("vote") == "up"]
    assert votes and votes[-1]["question"] == COST
    assert page.evaluate(PAGE_LOOK) == before  # the college's styles and globals
    assert page.evaluate("() => Object.keys(window).filter(k => /faq/i.test(k))") == ["FaqWidget"]
    assert watch.origins() == {sites.college, sites.bot.url}  # no third host, ever
    assert watch.problems == [] and watch.dialogs == []
    page.context.close()


def test_the_launcher_puts_the_focus_in_the_chat_input_quickly(
    sites: Sites, browser: Browser
) -> None:
    """Click on the launcher → the chat's question box focused (README: ≤ 300 ms on loopback;
    asserted loosely, as the test machine may be busy)."""
    delays = []
    for _ in range(5):
        page, _watch = open_page(browser, sites.college)
        page.evaluate(CLICK_CLOCK)
        launcher(page).click()
        expect(chat_of(page).locator("#question")).to_be_focused()
        page.wait_for_function("() => window.__clickedAt")
        focused = chat_frame(page).evaluate("() => window.__focusedAt")
        assert focused, "the question box never had the real focus"
        delays.append(focused - page.evaluate("() => window.__clickedAt"))
        page.context.close()
    print(f"launcher click -> input focused: {[round(d) for d in delays]} ms")
    assert statistics.median(delays) < 1500, delays


def test_the_tag_s_own_suggestions_replace_the_corpus_s(sites: Sites, browser: Browser) -> None:
    page, watch = open_page(browser, sites.asking)
    launcher(page).click()
    chat = chat_of(page)
    offered = chat.locator(".intro .suggestion")
    expect(offered).to_have_text(["Can I retake a module I failed?", "<b>Is the exam online?</b>"])
    offered.first.click()  # asks it
    reply(chat, 1)
    expect(chat.locator(".faq-question")).to_contain_text("Can I retake a module I failed?")
    assert watch.problems == [] and watch.dialogs == []
    page.context.close()


def test_hostile_questions_and_passages_stay_text(sites: Sites, browser: Browser) -> None:
    page, watch = open_page(browser, sites.college)
    launcher(page).click()
    chat = chat_of(page)
    ask(chat, XSS)
    reply(chat, 1)
    expect(chat.locator(".faq-question").first).to_contain_text(XSS)
    ask(chat, "What does the zzqx decoder ring manual say?")
    answer = reply(chat, 2)
    answer.locator("summary").click()
    expect(answer.locator(".faq-src-section").first).to_contain_text(XSS)
    expect(answer.locator(".faq-quote").first).to_contain_text("<script>alert(3)</script>")
    expect(answer.locator(".faq-answer")).to_contain_text("<script>alert(3)</script>")
    assert_inert(page, watch)
    assert watch.problems == []
    page.context.close()


def test_over_the_limit_the_chat_says_so_politely_and_keeps_the_question(
    sites: Sites, browser: Browser
) -> None:
    page, watch = open_page(browser, f"{sites.tight.url}/embed/")
    for n, question in enumerate([COST, "Which four modules make up the CPT?"], 1):
        ask(page, question)
        reply(page, n)
    third = "Where could I sit the CPT assessment near me?"
    ask(page, third)
    expect(reply(page, 3).locator(".faq-notice")).to_have_text(
        "You've asked a lot of questions; try again in 60 seconds."
    )
    expect(page.locator("#question")).to_have_value(third)  # nothing lost
    expect(page.locator("#question")).to_be_focused()
    assert page.locator(".faq-answer, .faq-abstain").count() == 2  # earlier answers stay
    assert watch.problems == []
    page.context.close()


def test_when_the_queue_is_full_the_user_is_told_to_try_again(
    sites: Sites, browser: Browser
) -> None:
    settings = Settings(
        corpus_dir=sites.root / "corpus", index_dir=sites.root / "index",
        data_dir=sites.root / "busy", min_evidence=0.2, queue_size=1,
    )  # fmt: skip
    release = threading.Event()
    bot = start_bot(settings, HeldChain(settings, release))
    held: list[threading.Thread] = []
    try:
        # Two answering at once and one waiting fill a queue of one.
        body = {"question": COST, "history": []}
        for _ in range(3):
            post = threading.Thread(
                target=httpx.post,
                args=(f"{bot.url}/api/chat",),
                kwargs={"json": body, "timeout": 60},
                daemon=True,
            )
            post.start()
            held.append(post)
        deadline = time.monotonic() + 20
        while httpx.get(f"{bot.url}/healthz").json()["api_waiting"] < 1:
            assert time.monotonic() < deadline, "the queue never filled"
            time.sleep(0.1)
        page, watch = open_page(browser, f"{bot.url}/embed/")
        ask(page, COST)
        expect(reply(page, 1).locator(".faq-notice")).to_have_text(
            "The assistant is busy right now; try again in 5 seconds."
        )
        expect(page.locator("#question")).to_have_value(COST)
        release.set()
        for post in held:
            post.join(timeout=60)
        page.locator("#send").click()  # the question is still there: just send it again
        expect(reply(page, 2).locator(".faq-answer")).to_contain_text("360")
        assert watch.chat_posts[-1]["history"] == []  # a notice is not part of the history
        assert watch.problems == []
        page.context.close()
    finally:
        release.set()
        bot.stop()


def test_provisional_text_streams_in_then_the_answer_replaces_it(
    sites: Sites, browser: Browser
) -> None:
    settings = Settings(
        corpus_dir=sites.root / "corpus", index_dir=sites.root / "index",
        data_dir=sites.root / "typing", min_evidence=0.2,
    )  # fmt: skip
    bot = start_bot(settings, TypingChain(settings, HashingEmbeddings()))
    try:
        page, watch = open_page(browser, f"{bot.url}/embed/")
        ask(page, COST)
        expect(page.locator(".reply[aria-busy='true'] .typing")).to_be_visible()
        expect(page.locator(".reply[aria-busy='true'] .provisional")).to_contain_text("Looking")
        answer = reply(page, 1)
        expect(answer.locator(".provisional")).to_have_count(0)
        expect(answer.locator(".faq-answer")).to_contain_text("360")
        assert answer.get_attribute("aria-busy") is None
        assert watch.problems == []
        page.context.close()
    finally:
        bot.stop()


def test_keyboard_only(sites: Sites, browser: Browser) -> None:
    page, watch = open_page(browser, sites.college)
    for _ in range(10):  # Tab through the college page to the launcher
        page.keyboard.press("Tab")
        if focused_in_widget(page) == "launch":
            break
    assert focused_in_widget(page) == "launch"
    page.keyboard.press("Enter")
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    chat = chat_of(page)
    expect(chat.locator("#question")).to_be_focused()
    page.keyboard.type("What is on the Safety module?")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("And how long is it?")
    expect(chat.locator(".turn")).to_have_count(0)
    page.keyboard.press("Enter")
    reply(chat, 1)
    expect(chat.locator(".faq-question")).to_contain_text("Safety module?\nAnd how long")
    expect(chat.locator("#question")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back from the box into the answer's controls
    expect(chat.locator(".vote.down, .faq-sources summary").last).to_be_focused()
    page.keyboard.press("Escape")  # inside the chat iframe
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    assert focused_in_widget(page) == "launch"
    page.keyboard.press("Enter")  # open again: the chat is where it was
    expect(chat.locator("#question")).to_be_focused()
    expect(chat.locator(".turn")).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past Send to "Clear chat"
    expect(chat.get_by_role("button", name="Clear chat")).to_be_focused()
    page.keyboard.press("Enter")
    expect(chat.locator(".turn")).to_have_count(0)
    expect(chat.locator("#question")).to_be_focused()
    page.evaluate("() => document.querySelector('#apply').focus()")  # on the college page
    page.keyboard.press("Escape")
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    assert focused_in_widget(page) == "launch"
    assert watch.problems == []
    page.context.close()


def test_phone_width(sites: Sites, browser: Browser) -> None:
    phone = {"width": 390, "height": 844}
    page, watch = open_page(browser, sites.college, viewport=phone, is_mobile=True, has_touch=True)
    launcher(page).tap()
    chat = chat_of(page)
    ask(chat, COST)
    reply(chat, 1).locator("summary").tap()
    panel = page.evaluate(
        "() => { const r = document.querySelector('[data-faq-widget]').shadowRoot"
        ".querySelector('.panel').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; }"
    )
    assert panel[0] >= 0 and panel[1] >= 0 and panel[2] <= 390 and panel[3] <= 844, panel
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    inner = chat_frame(page).evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.getElementById('log').scrollWidth, document.getElementById('log').clientWidth]"
    )
    assert inner[0] <= inner[1] and inner[2] <= inner[3], inner
    assert watch.problems == []
    page.context.close()


def test_a_page_on_another_origin_cannot_frame_the_chat(sites: Sites, browser: Browser) -> None:
    csp = httpx.get(f"{sites.bot.url}/embed/").headers["content-security-policy"]
    assert f"frame-ancestors 'self' {sites.college}" in csp and sites.evil not in csp
    page, _watch = open_page(browser, sites.evil)
    page.wait_for_timeout(1500)
    child = [f for f in page.frames if f != page.main_frame]
    assert child, "the iframe should exist"
    assert child[0].url.startswith("chrome-error://") or child[0].locator("#question").count() == 0
    page.context.close()

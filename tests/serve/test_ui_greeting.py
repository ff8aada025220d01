"""The chat's greeting (shown exactly as typed, never as markup) and one vote per answer."""

from __future__ import annotations

from html.parser import HTMLParser

import gradio as gr
import pytest
from markdown_it import MarkdownIt

from bot.config import Profile, Settings
from bot.insights.feedback import summarize
from bot.insights.logstore import LogStore
from bot.insights.questionlog import QuestionLog
from bot.serve.chat_html import greeting_from
from bot.serve.ui import ChatHandlers, ChatState, build_app
from tests.serve.test_ui import HOSTILE, StubChain, like, run


class Shown(HTMLParser):
    """What a browser shows for an HTML fragment: its text, and which tags and attributes."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text = ""
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text += data


def as_placeholder(text: str) -> Shown:
    """Gradio 6 renders a Chatbot placeholder as markdown with HTML allowed (the Chatbot's
    MarkdownCode, marked + DOMPurify); markdown-it is the same CommonMark."""
    return Shown(MarkdownIt("commonmark", {"html": True}).render(text))


@pytest.mark.parametrize(
    "typed", ["Hi!", "**bold**", "[x](javascript:alert(1))", "<img src=x>", *HOSTILE]
)
def test_the_greeting_shows_exactly_what_was_typed(typed: str) -> None:
    app = build_app(StubChain(), Settings().with_(profile=Profile(greeting=typed)))
    (chatbot,) = [b for b in app.blocks.values() if isinstance(b, gr.Chatbot)]
    shown = as_placeholder(chatbot.placeholder)
    assert shown.text.strip() == typed
    assert shown.tags == ["p"] and shown.attrs == []  # no link, image or emphasis
    # Safe even if it were rendered as markdown outside our <p> (no HTML block).
    bare = as_placeholder(greeting_from(typed))
    assert bare.text.strip() == typed and bare.tags == ["p"] and bare.attrs == []


def test_the_greeting_is_one_short_line() -> None:
    assert greeting_from("Hi\n\n  there\tyou") == "Hi there you"
    shown = as_placeholder(greeting_from("word! " * 500)).text.strip()
    assert shown == ("word! " * 500)[:200].strip()
    assert greeting_from("Hi\x00\u202e there\x1b[2J") == "Hi there&#91;2J"  # no controls


def test_300_likes_of_one_answer_are_one_line_and_a_changed_mind_counts_once(
    settings: Settings,
) -> None:
    log = QuestionLog(lambda: LogStore(settings.log_url))
    handlers, state = ChatHandlers(StubChain(), settings, questions=log), ChatState()
    run(handlers, "How much?", state)
    for _ in range(300):
        handlers.like(state, like(1, True))
    assert log.flush() and len(log.store().votes()) == 1
    handlers.like(state, like(1, False))
    log.close()
    s = summarize(log.store().votes())
    assert (s.up, s.down, s.rated, s.votes) == (0, 1, 1, 2)

"""The Gradio chat: ``build_app(chain, settings) -> gr.Blocks`` (its look: ``bot.serve.page``, its
messages' HTML: ``bot.serve.chat_html``).

Every chat message is HTML built by pure functions that escape each piece of text:
questions, answers, quotes and passages alike (the corpus is edited by hand, so it is
untrusted too). The Chatbot shows it with ``render_markdown=False``, so markdown images and
links stay literal text, and Gradio's own sanitizer stays on as a second fence. The page
loads nothing from other hosts: system fonts, no analytics, no share buttons.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from bot.config import Settings
from bot.errors import SORRY, FaqBotError, RateLimitedError
from bot.insights.questionlog import NoLog, QuestionLog, question_entry, vote_entry
from bot.serve.chat_html import (
    NO_SOURCE_HTML,
    escape,
    format_answer,
    format_answer_text,
    format_notice,
    format_passage,
    format_question,
    greeting_from,
    source_choices,
)
from bot.serve.page import page_options as page_options  # launch/mount with these
from bot.serve.ratelimit import TOO_MANY, RateLimiter, client_key
from bot.types import Answer, Citation

log = logging.getLogger(__name__)

MAX_SHOWN_TURNS = 50  # older exchanges leave the page so one tab cannot grow forever
HISTORY_CAP = (
    "For follow-up questions I use only the last {cap} messages of this chat. "
    "Use “Clear chat” to start a new topic."
)


# ----------------------------------------------------------------------------- state
@dataclass
class Turn:
    id: int
    question: str
    reply: str  # raw answer text, fed back as history for follow-ups
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    notice: bool = False  # the question was refused as sent: not part of the history


@dataclass
class ChatState:
    """Per-tab, kept on the server: the client never sends history, so it cannot forge it."""

    session: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)  # what the Chatbot shows
    turns: list[Turn] = field(default_factory=list)  # turns[i] ↔ messages[2i], [2i+1]
    next_id: int = 0
    selected: int = -1  # turn whose sources the side panel lists
    told_history_cap: bool = False

    def history(self) -> list[dict[str, str]]:
        pairs = [(t.question, t.reply) for t in self.turns if not t.notice]
        return [
            {"role": r, "content": c} for q, a in pairs for r, c in (("user", q), ("assistant", a))
        ]

    def turn_at(self, message_index: object) -> Turn | None:
        """The turn of a chat message (index as Gradio's event data gives it), if any."""
        if isinstance(message_index, list | tuple):
            message_index = message_index[0] if message_index else None
        if isinstance(message_index, int) and 0 <= message_index // 2 < len(self.turns):
            return self.turns[message_index // 2]
        return None

    def turn_by_id(self, turn_id: int) -> Turn | None:
        return next((t for t in self.turns if t.id == turn_id), None)


# ----------------------------------------------------------------------------- app
class ChatHandlers:
    """The event handlers, apart from the layout so tests can drive them without a browser."""

    def __init__(
        self,
        chain: Any,
        settings: Settings,
        limiter: RateLimiter | None = None,
        questions: QuestionLog | NoLog | None = None,
    ) -> None:
        self.chain, self.settings, self.limiter = chain, settings, limiter
        self.questions = questions or NoLog()
        # LLM mode: the model's text is shown as it comes, from a thread of its own.
        self.typing = getattr(chain, "chat_model", None) is not None

    def respond(
        self, message: Any, state: ChatState, request: gr.Request | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Yield (chat, state, textbox, source list, passage): the question with its answer
        and sources; in LLM mode the question at once, then the model's text as it comes.
        (The extractive answer is ready in milliseconds: a separate update for the question
        alone cost a whole output round per question under load, for nothing a student sees.)"""
        limit, skip = self.settings.max_question_chars, gr.skip()
        state.session = state.session or uuid.uuid4().hex
        history = state.history()
        text = message.strip()[:limit] if isinstance(message, str) else ""
        turn = Turn(state.next_id, text, "")
        state.next_id += 1
        while len(state.turns) >= MAX_SHOWN_TURNS:  # whole exchanges: message i ↔ turn i // 2
            state.turns.pop(0)
            del state.messages[:2]
        state.turns.append(turn)
        state.messages.append({"role": "user", "content": format_question(message, limit)})
        if self.typing:
            yield state.messages, state, "", skip, skip
        cleared = skip if self.typing else ""  # the textbox
        reply = {"role": "assistant", "content": ""}  # one message, filled as it comes
        state.messages.append(reply)
        started, client = time.perf_counter(), self._client(request)
        try:
            if not self._allowed(client):
                raise RateLimitedError(TOO_MANY)
            for partial in self._answering(message, history):
                if isinstance(partial, Answer):
                    answer = partial
                    break
                reply["content"] = format_answer_text(partial)
                yield state.messages, state, skip, skip, skip
        except Exception as exc:  # never a crash or an "Error" toast in front of a student
            if not isinstance(exc, FaqBotError):
                log.exception("answering failed")
            turn.notice, turn.reply = True, str(exc) if isinstance(exc, FaqBotError) else SORRY
            reply["content"] = format_notice(turn.reply)
            yield state.messages, state, cleared, skip, skip
            return
        turn.reply, turn.citations, turn.abstained = answer.text, answer.citations, answer.abstained
        self.questions.question(
            question_entry(
                answer, text, "chat", (time.perf_counter() - started) * 1000,
                session=state.session, turn=turn.id, client=client,
            )
        )  # fmt: skip
        final = format_answer(answer)
        cap = self.settings.max_history_turns
        if len(history) > cap and not state.told_history_cap:
            state.told_history_cap = True
            final += format_notice(HISTORY_CAP.format(cap=cap))
        reply["content"] = final
        state.selected = turn.id
        yield (state.messages, state, cleared, *self._sources(turn))

    def _answering(self, message: Any, history: list[dict[str, str]]) -> Iterator[str | Answer]:
        """The model's text so far each time more of it comes (LLM mode only), then the
        answer. The extractive answer is ready at once: it is computed right here."""
        if not self.typing:
            yield self.chain.ask(message, history)
            return
        pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        outcome: list[Answer | BaseException] = []

        def work() -> None:
            try:
                outcome.append(self.chain.ask(message, history, pieces.put))
            except BaseException as exc:  # raised again in the handler's thread
                outcome.append(exc)
            finally:
                pieces.put(None)

        threading.Thread(target=work, daemon=True, name="llm-answer").start()
        text = ""
        while True:
            batch = [pieces.get()]  # waits for the next piece...
            while not pieces.empty():  # ...and takes whatever else came: one update for all
                batch.append(pieces.get())
            text += "".join(p for p in batch if p is not None)
            if None in batch:  # the answer is in
                break
            yield text
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        yield result

    def respond_example(
        self, state: ChatState, evt: gr.SelectData, request: gr.Request | None = None
    ) -> Iterator[tuple[Any, ...]]:
        text = evt.value.get("text") if isinstance(evt.value, dict) else ""
        yield from self.respond(text, state, request)

    def _allowed(self, client: str) -> bool:
        """Chat questions share the per-client budget of /api/ask (one limiter for both);
        ``client`` "" (no request: a direct call) is not counted."""
        return self.limiter is None or not client or self.limiter.allow(client)

    def _client(self, request: gr.Request | None) -> str:
        return client_key(request, self.settings.trusted_proxies) if request else ""

    def show_source(self, choice: Any, state: ChatState) -> str:
        turn = state.turn_by_id(state.selected)
        cites = turn.citations if turn else []
        return format_passage(next((c for c in cites if str(c.n) == str(choice)), None))

    def select_answer(self, state: ChatState, evt: gr.SelectData) -> tuple[Any, Any]:
        turn = state.turn_at(evt.index)
        if turn is None or not turn.citations:
            return gr.skip(), gr.skip()
        state.selected = turn.id
        return self._sources(turn)

    @staticmethod
    def _sources(turn: Turn) -> tuple[Any, str]:
        first = turn.citations[0] if turn.citations else None
        choices = source_choices(turn.citations)
        return gr.update(choices=choices, value=first and str(first.n)), format_passage(first)

    def like(self, state: ChatState, evt: gr.LikeData) -> None:
        turn = state.turn_at(evt.index)
        if turn is None:
            return
        self.questions.vote(
            vote_entry(
                turn.question, turn.reply, turn.citations, evt.liked, abstained=turn.abstained,
                session=state.session, turn=turn.id,
            )
        )  # fmt: skip

    @staticmethod
    def clear() -> tuple[Any, ...]:
        return [], ChatState(), "", gr.update(choices=[], value=None), NO_SOURCE_HTML


_QUIET: dict[str, Any] = {"api_visibility": "undocumented", "show_progress": "hidden"}
# Answers at once. The served chat is bound by one core (the GIL): 1, 2, 4 and 8 gave the
# same answers/s within noise under 50 clients (benchmarks.load); 2 lets one answer's
# GIL-free work (ONNX, the vector search) overlap another's Python, and 1 was slowest.
CHAT_CONCURRENCY = 2
QUEUE_STATUS_SECONDS = 5
_ANSWERING: dict[str, Any] = {"concurrency_limit": CHAT_CONCURRENCY, "show_progress": "minimal"}


def build_app(
    chain: Any,
    settings: Settings,
    limiter: RateLimiter | None = None,
    questions: QuestionLog | NoLog | None = None,
) -> gr.Blocks:
    """The chat UI. ``chain`` needs only ``ask(question, history) -> Answer``.
    ``limiter`` counts each client's questions; ``questions`` logs them and their votes (one
    log per process, shared with the embed chat's)."""
    # Gradio's queue rebuilds a pandas summary of all events after each one, for a monitoring
    # page this app turns off (2.8 ms an event, 16 ms at its 10,000-event cap): never, unless
    # the operator asks. Gradio reads these when the queue is made, below.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000000")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
    h = ChatHandlers(chain, settings, limiter, questions)
    profile = settings.profile
    suggest = getattr(chain, "suggestions", None)
    suggestions = suggest() if callable(suggest) else list(profile.suggestions)
    with gr.Blocks(title=settings.title, analytics_enabled=False) as app:
        state = gr.State(ChatState())
        title, about = escape(profile.name), escape(profile.about)
        header = f'<header class="faq-header"><h1>{title}</h1><p>{about}</p></header>'
        gr.HTML(header, js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False, elem_id="faq-chat", layout="bubble",
                    height="60vh", min_height=200,
                    placeholder=f"<p>{greeting_from(profile.greeting, 400)}</p>",
                    examples=[{"text": q} for q in suggestions] or None,
                    feedback_options=("Like", "Dislike"), group_consecutive_messages=False,
                    # Our escaped HTML as is: no markdown, no LaTeX, no tags kept.
                    render_markdown=False, sanitize_html=True, allow_tags=False,
                    latex_delimiters=[], buttons=[], allow_file_downloads=False,
                )  # fmt: skip
                textbox = gr.Textbox(
                    label="Your question", show_label=False, elem_id="faq-input",
                    placeholder=profile.placeholder, lines=1,
                    max_lines=6, max_length=settings.max_question_chars, submit_btn="Send",
                    container=False,
                )  # fmt: skip
                clear_btn = gr.Button("Clear chat", variant="secondary", size="sm")
            with (
                gr.Column(scale=2, min_width=280),
                gr.Accordion("Source passage", open=True, elem_id="faq-source-panel"),
            ):
                sources = gr.Radio(label="Sources of the selected answer", elem_id="faq-sources")
                passage = gr.HTML(NO_SOURCE_HTML, elem_id="faq-passage", js_on_load=None)
        outputs = [chatbot, state, textbox, sources, passage]
        textbox.submit(h.respond, [textbox, state], outputs, api_name="ask", **_ANSWERING)
        chatbot.example_select(h.respond_example, [state], outputs, api_visibility="undocumented",
                               **_ANSWERING)  # fmt: skip
        sources.input(h.show_source, [sources, state], [passage], **_QUIET)
        chatbot.select(h.select_answer, [state], [sources, passage], **_QUIET)
        chatbot.like(h.like, [state], None, **_QUIET)
        # The Chatbot's own trash button too: otherwise the next answer would bring back the
        # cleared messages from the server-side state.
        for trigger in (clear_btn.click, chatbot.clear):
            trigger(h.clear, None, outputs, **_QUIET)
    # Queue positions are sent to waiting clients every few seconds, not on every job start
    # and finish (50 waiting clients: ~84 wake-ups per answer, benchmarks.load).
    app.queue(
        max_size=settings.queue_size,
        default_concurrency_limit=CHAT_CONCURRENCY,
        status_update_rate=QUEUE_STATUS_SECONDS,
    )
    return app

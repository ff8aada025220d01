"""The one object front ends use: load once, ``ask(question, history) -> Answer``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from bot.answer.extractive import ExtractiveAnswerer, abstain
from bot.answer.llm import LLMAnswerer, chat_model_from_settings
from bot.answer.question import analyze
from bot.answer.reader import Reader, reread
from bot.answer.retrieval import HybridRetriever
from bot.answer.screen import refusal_text, screen_question
from bot.config import MODEL_NAME, Settings
from bot.errors import IndexMismatchError, InvalidQuestionError
from bot.index.calibration import Calibration, calibrate
from bot.index.corpus_index import CorpusIndex
from bot.index.store import (
    CHUNKER_VERSION,
    GenerationStore,
    Location,
    Manifest,
    open_location,
)
from bot.types import Answer, Retrieval

log = logging.getLogger(__name__)
RELOAD_CHECK_SECONDS = 2.0
SUGGESTIONS = 6  # questions offered in an empty chat
SUGGESTION_CHARS = 90  # longer ones do not fit on a chip

Message = dict[str, str]


def clean_question(question: object, max_chars: int) -> str:
    if not isinstance(question, str):
        raise InvalidQuestionError("The question must be text.")
    text = _valid_text(question, "Your question").strip()
    if not text:
        raise InvalidQuestionError("Please type a question.")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"Your question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it to the part you want answered."
        )
    return text


def clean_history(history: object, max_turns: int, max_chars: int) -> list[Message]:
    """Keep the last ``max_turns`` well-formed turns; content may be Gradio's part lists."""
    if not history:
        return []
    if not isinstance(history, Sequence) or isinstance(history, str):
        raise InvalidQuestionError("History must be a list of {role, content} messages.")
    turns: list[Message] = []
    for turn in history:
        role = turn.get("role") if isinstance(turn, dict) else None
        if role not in ("user", "assistant"):
            continue
        content = _valid_text(_text_of(turn.get("content")), "The chat history")
        if content:
            turns.append({"role": role, "content": content[:max_chars]})
    return turns[-max_turns:]


def _valid_text(text: str, what: str) -> str:
    """``text`` if it is real Unicode: a lone surrogate (half an emoji, from a broken client
    or JSON's "\\ud800") cannot be encoded, and the tokenizer would fail with a 500."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuestionError(
            f"{what} contains a character that is not valid text (often half of an emoji). "
            "Please retype it."
        ) from None
    return text


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, dict):
        return str(content.get("text") or "").strip()
    if isinstance(content, list | tuple):
        return " ".join(_text_of(part) for part in content).strip()
    return ""


class FaqChain:
    """Retrieval + answering over the live index; reloads when ingest swaps a new one in."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings,
        location: Location | None = None,
        chat_model: Any = None,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings
        # The trained reader, when the settings turn it on (FAQBOT_READER)
        if reader is None and settings.reader != "off":
            reader = Reader()
        self.reader = reader
        self.embeddings = embeddings
        self.location = location or open_location(settings)
        self.chat_model = chat_model
        self._lock = threading.Lock()
        self._checked = 0.0
        self.manifest: Manifest | None = None
        self.retriever: HybridRetriever | None = None
        self.answerer: ExtractiveAnswerer | LLMAnswerer | None = None
        self.calibration: Calibration | None = None
        self.reload(force=True)

    @classmethod
    def from_settings(
        cls, settings: Settings, embeddings: Embeddings | None = None, chat_model: Any = None
    ) -> FaqChain:
        if chat_model is None:  # FAQBOT_LLM that cannot be built stops here, saying why
            chat_model = chat_model_from_settings(settings)
        if embeddings is None:
            from bot.index.embedding import MiniLMEmbeddings

            embeddings = MiniLMEmbeddings()
        return cls(settings, embeddings, chat_model=chat_model)

    def reload(self, force: bool = False) -> bool:
        """Open the generation the manifest names, if it is not the one loaded."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_CHECK_SECONDS:
            return False
        self._checked = now
        manifest = self.location.read_manifest()
        current = self.manifest
        if (
            manifest is not None
            and current is not None
            and manifest.generation == current.generation
        ):
            return False
        with self._lock:
            store, manifest = GenerationStore.open_live(self.location, self.embeddings)
            model = getattr(self.embeddings, "name", MODEL_NAME)
            if manifest.model != model and model == MODEL_NAME:
                raise IndexMismatchError(f"embedding model {manifest.model!r}", model)
            if manifest.extra.get("chunker") != CHUNKER_VERSION:
                raise IndexMismatchError(
                    f"chunker version {manifest.extra.get('chunker')}", f"{CHUNKER_VERSION}"
                )
            index = CorpusIndex.load(store, self.embeddings)
            profile = self.settings.profile
            retriever = HybridRetriever(index, self.embeddings, self.settings.top_k)
            self.calibration = calibrate(
                lambda probe: _best_score(retriever.retrieve(analyze(probe, (), index))),
                self.settings.min_evidence,
                self.settings.noise_margin,
            )
            extractive = ExtractiveAnswerer(
                self.calibration.min_evidence,
                profile.not_covered,
                self.reader.threshold if self.reader else 0.5,
            )
            self.retriever = retriever
            self.answerer = (
                LLMAnswerer(self.chat_model, extractive, profile.subject)
                if self.chat_model
                else extractive
            )
            self.manifest = manifest
            log.info("loaded index generation %s (%d chunks)", manifest.generation, manifest.chunks)
        return True

    def suggestions(self, count: int = SUGGESTIONS) -> list[str]:
        """Questions to offer a first-time visitor: the profile's own, else the corpus's FAQ
        questions, else its top-level headings, spread over the whole corpus."""
        if self.settings.profile.suggestions:
            return list(self.settings.profile.suggestions[:count])
        if self.retriever is None:
            return []
        chunks = [self.retriever.index.chunks[i] for i in self.retriever.index.order]
        offered = [c.question for c in chunks if c.question]
        if not offered:  # no FAQ entries: each top-level heading once, in document order
            offered = [c.section.split(" > ")[0] for c in chunks if c.kind == "text" and c.section]
        offered = list(dict.fromkeys(q for q in offered if len(q) <= SUGGESTION_CHARS))
        step = max(len(offered) / count, 1.0)
        return [offered[int(i * step)] for i in range(min(count, len(offered)))]

    @property
    def chunk_count(self) -> int:
        return self.manifest.chunks if self.manifest else 0

    def retrieve(
        self, question: str, history: Sequence[Message] = (), k: int | None = None
    ) -> Retrieval:
        """Question analysis, then retrieval: the scored passages and sentences the answer
        step composes from."""
        assert self.retriever is not None
        return self.retriever.retrieve(analyze(question, history, self.retriever.index), k)

    def ask(
        self,
        question: object,
        history: object = (),
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """The answer to ``question`` after ``history``. In LLM mode, ``on_token`` gets the
        model's text as it comes; the returned Answer (checked, or the fallback) replaces it."""
        text = clean_question(question, self.settings.max_question_chars)
        turns = clean_history(
            history, self.settings.max_history_turns, self.settings.max_question_chars
        )
        try:
            self.reload()
        except Exception as exc:  # a broken new index must not take down a serving bot
            log.warning("index reload failed, still serving the loaded one: %s", exc)
        refusal = screen_question(text)
        if refusal:
            return abstain(refusal_text(refusal, self.settings.profile))
        assert self.answerer is not None
        retrieval = self.retrieve(text, turns)
        if self.reader is not None:
            retrieval = reread(self.reader, retrieval, self.settings.reader)
        if on_token is not None and isinstance(self.answerer, LLMAnswerer):
            answer = self.answerer.answer(text, retrieval, on_token)
        else:
            answer = self.answerer.answer(text, retrieval)
        return replace(answer, evidence=_best_score(retrieval))

    def as_runnable(self) -> Runnable[dict[str, Any], Answer]:
        """``{"question": str, "history": [...]}`` → :class:`Answer`, for LangChain pipelines."""
        return RunnableLambda(
            lambda x: self.ask(x["question"], x.get("history", ())), name="faqbot"
        )


class FaqRetriever(BaseRetriever):
    """LangChain wrapper, so question analysis + hybrid retrieval drop into any LangChain
    chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    hybrid: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        retrieval = self.hybrid.retrieve(analyze(query, (), self.hybrid.index), k=self.k)
        return [
            Document(
                page_content=hit.chunk.text,
                id=hit.chunk.id,
                metadata={
                    "source": hit.chunk.source,
                    "section": hit.chunk.section,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "score": hit.score,
                    "rank": hit.rank,
                },
            )
            for hit in retrieval.hits
        ]


def _best_score(retrieval: Retrieval) -> float:
    return retrieval.sentences[0].score if retrieval.sentences else 0.0

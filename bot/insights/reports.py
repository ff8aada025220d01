"""What the web team reads: the question log's rows, insights over a window, and the
re-ingest button. The admin page (bot/serve/admin.py) and ``python -m bot insights`` both use it.
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.insights.questionlog import NoLog, QuestionLog
from bot.types import Insights, QuestionRow


class EmptyReader:
    """The log is off: nothing to read."""

    def questions(self, *args: Any, **kwargs: Any) -> list[QuestionRow]:
        return []

    def count(self, *args: Any, **kwargs: Any) -> int:
        return 0


class StoreReader:
    """The log's database, opened on first read (a database that is down fails the read
    with its message, not the server's start)."""

    def __init__(self, log: QuestionLog) -> None:
        self._log = log

    def questions(self, *args: Any, **kwargs: Any) -> list[QuestionRow]:
        return self._log.store().questions(*args, **kwargs)

    def count(self, *args: Any, **kwargs: Any) -> int:
        return self._log.store().count(*args, **kwargs)


class Reports:
    def __init__(
        self,
        settings: Settings,
        log: QuestionLog | NoLog,
        embeddings: Any = None,
        ingest_embeddings: Any = None,
    ) -> None:
        self.settings = settings
        self.reader: StoreReader | EmptyReader = (
            StoreReader(log) if isinstance(log, QuestionLog) else EmptyReader()
        )
        self._embeddings = embeddings
        self._ingest_embeddings = ingest_embeddings

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self._embeddings is None:
            from bot.index.embedding import MiniLMEmbeddings

            self._embeddings = MiniLMEmbeddings()
        return list(self._embeddings.embed_documents(texts))

    def insights(self, since: float, until: float) -> Insights:
        """Insights over [since, until). (The admin page keeps the last few windows: its
        chart asks for the page's own.)"""
        from bot.insights.grouping import build_insights

        return build_insights(self.reader.questions(since, until), self.embed, since, until)

    def reingest(self) -> str:
        """The same ingest as ``make ingest``: under its lock, swapped in atomically; the
        serving chain picks the new index up by itself."""
        from bot.ingest.pipeline import ingest

        return ingest(self.settings, self._ingest_embeddings).summary()

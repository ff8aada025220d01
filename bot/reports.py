"""What the web team reads: the question log's rows, insights over a window, and the
re-ingest button. The admin page (bot/admin.py) and ``python -m bot insights`` both use it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.config import Settings
from bot.questionlog import NoLog, QuestionLog
from bot.types import Insights, QuestionRow

CACHE_SECONDS = 30.0  # the page and its plot ask for the same window within a second


class EmptyReader:
    """The log is off: nothing to read."""

    def questions(self, *args: Any, **kwargs: Any) -> list[QuestionRow]:
        return []

    def count(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def iter_questions(self, *args: Any, **kwargs: Any) -> list[QuestionRow]:
        return []


class StoreReader:
    """The log's database, opened on first read (a database that is down fails the read
    with its message, not the server's start)."""

    def __init__(self, log: QuestionLog) -> None:
        self._log = log

    def questions(self, *args: Any, **kwargs: Any) -> list[QuestionRow]:
        return self._log.store().questions(*args, **kwargs)

    def count(self, *args: Any, **kwargs: Any) -> int:
        return self._log.store().count(*args, **kwargs)

    def iter_questions(self, *args: Any, **kwargs: Any) -> Any:
        return self._log.store().iter_questions(*args, **kwargs)


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
        self._cache: dict[tuple[int, int], tuple[float, Insights]] = {}
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self._embeddings is None:
            from bot.embedding import MiniLMEmbeddings

            self._embeddings = MiniLMEmbeddings()
        return list(self._embeddings.embed_documents(texts))

    def insights(self, since: float, until: float) -> Insights:
        """Insights over [since, until), the same window reused for a few seconds."""
        from bot.insights import build_insights

        key = (int(since // 60), int(until // 60))
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < CACHE_SECONDS:
                return hit[1]
            rows = self.reader.questions(since, until)
            result = build_insights(rows, self.embed, since, until)
            self._cache = {key: (now, result)}
            return result

    def reingest(self) -> str:
        """The same ingest as ``make ingest``: under its lock, swapped in atomically; the
        serving chain picks the new index up by itself."""
        from bot.ingest import ingest

        return ingest(self.settings, self._ingest_embeddings).summary()

"""The question log: every question asked, and every thumbs vote, written off the answer path.

Front ends hand :class:`QuestionLog` a :class:`LoggedQuestion` or :class:`LoggedVote` and
return at once: the entry goes on a bounded in-memory queue, and one writer thread per
process scrubs it (e-mail addresses, phone numbers, ID-like numbers: scrub.py), replaces
the client's address by a salted hash that changes daily, and writes it in batches. Writing
never blocks or fails an answer: a full queue drops the entry, a database that is down is
retried a few times, a row the database refuses (a number too large for its column, text
it cannot encode) is set aside while the rest of its batch is written, and each is counted
and logged as a warning, never raised. The writer also
purges rows older than the retention period, at start and hourly, and imports an old
``feedback.jsonl`` once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from bot.config import Settings
from bot.insights.feedback import LOG_NAME, read_records, vote_of
from bot.insights.logstore import LogStore
from bot.insights.scrub import scrub
from bot.types import Answer, Chunk, Citation, LoggedQuestion, LoggedVote

log = logging.getLogger(__name__)
MAX_PENDING = 10_000  # entries waiting for the writer; ~1 KB each
BATCH = 500
WRITE_INTERVAL = 0.5  # seconds between batches under steady traffic
RETRIES = 3  # a batch the database refused is tried again this many times, then dropped
RETRY_SECONDS = 2.0
PURGE_SECONDS = 3600.0
MAX_TEXT = 4000  # characters kept of a question or an answer
MAX_REMEMBERED = 10_000  # answers whose last vote is remembered, to drop repeated clicks
DAY = 86_400
Entry = LoggedQuestion | LoggedVote
# What a row the database refuses raises (a number too large for its column, text it cannot
# encode); anything else is the database's trouble and the whole batch is retried later.
BAD_ROW = (DataError, IntegrityError)
BAD_VALUE = (ValueError, TypeError, ArithmeticError)


def bad_row(exc: Exception) -> bool:
    """Whether ``exc`` is about the row written rather than the database."""
    return isinstance(exc, BAD_ROW) or isinstance(getattr(exc, "orig", None) or exc, BAD_VALUE)


def question_entry(
    answer: Answer, question: str, channel: str, latency_ms: float, **where: Any
) -> LoggedQuestion:
    """What a front end logs of one answered question (``where``: origin, session, turn,
    client). Its source: the passage quoted first, or for a refusal the nearest one."""
    top: Citation | Chunk | None = (answer.citations or answer.passages or [None])[0]
    return LoggedQuestion(
        time=time.time(), channel=channel, question=question, abstained=answer.abstained,
        source=top.source if top else "", section=top.section if top else "",
        score=round(answer.evidence, 4), latency_ms=round(latency_ms, 2), **where,
    )  # fmt: skip


def vote_entry(
    question: str,
    answer: str,
    citations: Sequence[Citation | Mapping[str, Any]],
    liked: object,
    *,
    abstained: bool = False,
    session: str = "",
    turn: int = 0,
) -> LoggedVote:
    """A click on an answer's thumbs (``liked`` as Gradio's ``LikeData.liked``)."""
    sections = [c.get("section") if isinstance(c, Mapping) else c.section for c in citations]
    return LoggedVote(
        time=time.time(), session=session, turn=turn, vote=vote_of(liked), question=question,
        answer=answer, abstained=abstained,
        sections=tuple(dict.fromkeys(str(s)[:300] for s in sections if s))[:10],
    )  # fmt: skip


class NoLog:
    """FAQBOT_QUESTION_LOG=off: nothing is kept."""

    enabled = False

    def question(self, entry: LoggedQuestion) -> None:
        pass

    def vote(self, entry: LoggedVote) -> None:
        pass

    def flush(self, timeout: float = 10.0) -> bool:
        return True

    def close(self) -> None:
        pass


class QuestionLog:
    """The log of one process. ``open_store`` is called in the writer thread, lazily, so a
    database that is down at start only delays the log, never the server."""

    enabled = True

    def __init__(
        self,
        open_store: Callable[[], LogStore],
        *,
        retention_days: int = 90,
        region: str = "US",
        feedback_dir: Path | None = None,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._open_store = open_store
        self.retention_days = retention_days
        self.region = region
        self.feedback_dir = feedback_dir
        self.clock = clock
        self._queue: queue.Queue[Entry | threading.Event | None] = queue.Queue(max_pending)
        self._store: LogStore | None = None
        self._store_lock = threading.Lock()
        self._votes: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._votes_lock = threading.Lock()
        self._purged = 0.0
        self.written = self.dropped = self.failed = self.set_aside = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="question-log")
        self._thread.start()

    # -- the answer path: never raises, never waits
    def question(self, entry: LoggedQuestion) -> None:
        self._put(entry)

    def vote(self, entry: LoggedVote) -> None:
        """One vote per answer per session: a click repeating its last vote is dropped, so
        one tab clicking 300 times cannot outweigh real feedback."""
        if entry.session:
            key = (entry.session, entry.turn)
            with self._votes_lock:
                if self._votes.get(key) == entry.vote:
                    self._votes.move_to_end(key)
                    return
                self._votes[key] = entry.vote
                self._votes.move_to_end(key)
                while len(self._votes) > MAX_REMEMBERED:
                    self._votes.popitem(last=False)
        self._put(entry)

    def _put(self, entry: Entry) -> None:
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("question log queue full: %d entries dropped so far", self.dropped)

    # -- for readers, tests and shutdown
    def store(self) -> LogStore:
        """The database (opened on first use; raises LogStoreError if it cannot be)."""
        with self._store_lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything logged so far is written (or given up on)."""
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self.flush(timeout)
            self._queue.put(None)
            self._thread.join(timeout)

    # -- the writer thread
    def _run(self) -> None:
        self._maintain()
        stop = False
        while not stop:
            batch: list[Entry] = []
            flushes: list[threading.Event] = []
            item = self._queue.get()  # waits for work, then takes what else is waiting
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    flushes.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= BATCH or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if batch:
                self._write_with_retries(batch, patient=not stop)
            for done in flushes:
                done.set()
            if 0 < len(batch) < BATCH and not (flushes or stop):
                # No backlog: let entries gather, one transaction for many; the writer wakes a few
                # times a second instead of once an answer (it shares the GIL with them).
                time.sleep(WRITE_INTERVAL)
            if self.clock() - self._purged > PURGE_SECONDS:
                self._maintain()

    def _write_with_retries(self, batch: list[Entry], patient: bool) -> None:
        for attempt in range(RETRIES + 1):
            problem = self._write(batch)
            if problem is None:
                return
            if bad_row(problem):  # some row is bad: find it, write the others
                batch = self._write_each(batch)
                if not batch:
                    return
            if attempt < RETRIES and patient:
                time.sleep(RETRY_SECONDS * (attempt + 1))
        self.failed += len(batch)
        log.warning("question log: gave up on %d entries", len(batch))

    def _write_each(self, batch: list[Entry]) -> list[Entry]:
        """Write entries one by one, setting aside each one the database refuses; what is
        left unwritten when the database itself fails, to retry."""
        for i, entry in enumerate(batch):
            problem = self._write([entry])
            if problem is not None and not bad_row(problem):
                return batch[i:]
            if problem is not None:
                self.set_aside += 1
                log.warning("question log: set aside one %s it cannot write (%d so far): %s",
                            type(entry).__name__, self.set_aside, problem)  # fmt: skip
        return []

    def _write(self, entries: Sequence[Entry]) -> Exception | None:
        """None when written, else what went wrong (logged)."""
        try:
            store = self.store()
            salt, day = store.salt(), int(self.clock() // DAY)
            asked = [self._clean_question(e, salt, day) for e in entries
                     if isinstance(e, LoggedQuestion)]  # fmt: skip
            voted = [self._clean_vote(e) for e in entries if isinstance(e, LoggedVote)]
            store.add(asked, voted)
        except Exception as exc:  # the log must never take the assistant down
            if len(entries) > 1 or not bad_row(exc):
                log.warning("question log: could not write %d entries: %s", len(entries), exc)
            return exc
        self.written += len(entries)
        return None

    def _clean_question(self, entry: LoggedQuestion, salt: str, day: int) -> LoggedQuestion:
        client = ""
        if entry.client:  # for abuse only: the same client on the same day, nothing more
            digest = hashlib.sha256(f"{salt}:{day}:{entry.client}".encode()).hexdigest()
            client = digest[:16]
        return replace(entry, question=self._scrub(entry.question), client=client)

    def _clean_vote(self, entry: LoggedVote) -> LoggedVote:
        return replace(
            entry, question=self._scrub(entry.question), answer=self._scrub(entry.answer)
        )

    def _scrub(self, text: str) -> str:
        return scrub(text[:MAX_TEXT], self.region)

    def _maintain(self) -> None:
        """Purge old rows and import an old feedback log; failures wait for the next hour."""
        self._purged = self.clock()
        try:
            store = self.store()
            gone = store.purge(self.clock() - self.retention_days * DAY)
            if gone:
                log.info(
                    "question log: purged %d rows older than %d days", gone, self.retention_days
                )
            if self.feedback_dir is not None:
                migrate_feedback(store, self.feedback_dir, self._scrub)
        except Exception as exc:
            log.warning("question log: maintenance failed (retried in an hour): %s", exc)


def migrate_feedback(store: LogStore, data_dir: Path, clean: Callable[[str], str]) -> int:
    """Move the votes of the old ``feedback.jsonl`` (and its rotated ``.1``...) into the
    store, once: each file's content is imported at most once, by whichever process gets
    there first, then the file is renamed ``*.migrated``. Votes imported."""
    files = sorted(data_dir.glob(f"{LOG_NAME}*"), key=_oldest_first)
    imported = 0
    for path in (p for p in files if not p.name.endswith(".migrated")):
        try:
            records = list(read_records([path]))
            entries = [_old_vote(r, clean) for r in records]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if store.import_votes(digest, entries):
                imported += len(entries)
                log.info("question log: imported %d votes from %s", len(entries), path)
            os.replace(path, path.with_name(path.name + ".migrated"))
        except FileNotFoundError:
            continue  # another process moved it first
    return imported


def _oldest_first(path: Path) -> int:
    """feedback.jsonl.2 is older than .1, which is older than feedback.jsonl."""
    suffix = path.name[len(LOG_NAME) :].lstrip(".")
    return -int(suffix) if suffix.isdigit() else 0


def _old_vote(record: Mapping[str, Any], clean: Callable[[str], str]) -> LoggedVote:
    try:
        when = datetime.fromisoformat(str(record.get("time"))).timestamp()
    except ValueError:
        when = time.time()
    sections = [c.get("section", "") for c in record.get("citations") or []]
    return LoggedVote(
        time=when, session=str(record.get("session") or "")[:64], turn=int(record["turn"]),
        vote=str(record["vote"]), question=clean(str(record.get("question") or "")),
        answer=clean(str(record.get("answer") or "")), abstained=bool(record.get("abstained")),
        sections=tuple(dict.fromkeys(str(s) for s in sections if s)),
    )  # fmt: skip


def open_log(settings: Settings) -> QuestionLog | NoLog:
    """The log the settings ask for: off, or SQLite/PostgreSQL per ``settings.log_url``,
    rows of ``settings.site`` only."""
    if not settings.question_log:
        return NoLog()
    url, site = settings.log_url, settings.site
    return QuestionLog(
        lambda: LogStore(url, site),
        retention_days=settings.log_retention_days,
        region=settings.phone_region,
        feedback_dir=Path(settings.data_dir),
    )

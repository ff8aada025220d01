"""The question log's database: SQLite in the data folder by default, PostgreSQL (or any
SQLAlchemy URL) for several replicas. Same tables and queries on both.

Every question and vote row carries its ``site`` (bot/sites.py; "" for the single site), and
a store reads and writes one site's rows only, so sites sharing a database (PostgreSQL) never
see each other's. A database made before the column existed gets it (default "") on opening.

Three tables: ``questions`` (one row per question, already scrubbed by bot/insights/questionlog.py),
``votes`` (every thumbs click; a question's vote is the latest one of its session and turn)
and ``meta`` (the client-hash salt, which feedback files were imported). Writes come from
several processes at once: SQLite runs in WAL mode and takes its write lock when a
transaction begins (``BEGIN IMMEDIATE``), so two writers queue up on the busy timeout
instead of failing; PostgreSQL needs nothing special.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from bot.errors import LogStoreError
from bot.types import LoggedQuestion, LoggedVote, QuestionRow

BUSY_TIMEOUT_SECONDS = 30  # SQLite: how long a writer waits for another's transaction
CREATE_ATTEMPTS = 5  # processes starting at once race to create the tables
SALT_KEY = "client_salt"
IMPORTED_KEY = "imported:"  # + the sha256 of an imported feedback file
ONLY = ("", "unanswered", "down")

# A row id that is BIGINT on PostgreSQL and the rowid alias (INTEGER) on SQLite.
RowId = BigInteger().with_variant(Integer(), "sqlite")
metadata = MetaData()
questions = Table(
    "questions", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("origin", String(200), nullable=False, default=""),
    Column("session", String(64), nullable=False, default=""),
    Column("turn", Integer, nullable=False, default=-1),
    Column("question", Text, nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("source", Text, nullable=False, default=""),
    Column("section", Text, nullable=False, default=""),
    Column("score", Float, nullable=False, default=0.0),
    Column("latency_ms", Float, nullable=False, default=0.0),
    Column("client", String(32), nullable=False, default=""),  # salted daily hash, or ""
    Column("site", String(40), nullable=False, default="", server_default=""),
    Index("questions_time", "time"),
    Index("questions_turn", "session", "turn"),
)  # fmt: skip
votes = Table(
    "votes", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("session", String(64), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("vote", String(8), nullable=False),
    Column("question", Text, nullable=False, default=""),
    Column("answer", Text, nullable=False, default=""),
    Column("abstained", Boolean, nullable=False, default=False),
    Column("sections", Text, nullable=False, default="[]"),  # JSON list of cited sections
    Column("site", String(40), nullable=False, default="", server_default=""),
    Index("votes_time", "time"),
    Index("votes_turn", "session", "turn"),
)  # fmt: skip
# Every read is of one site's rows in a time window.
questions_site = Index("questions_site_time", questions.c.site, questions.c.time)
votes_site = Index("votes_site_time", votes.c.site, votes.c.time)
meta = Table(
    "meta", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)  # fmt: skip


def engine_for(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` means the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("sqlite"):
        return create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=2)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN would be DEFERRED
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL keeps committed rows on a crash
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class LogStore:
    """One site's rows of a question log database (``site`` "": the single site's);
    thread-safe (one engine, a connection per call)."""

    def __init__(self, url: str, site: str = "") -> None:
        self.url, self.site = url, site
        try:
            self.engine = engine_for(url)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise LogStoreError(_redacted(url), str(exc)) from None
        self._salt: str | None = None
        self._lock = threading.Lock()
        self._create_tables()

    def _create_tables(self) -> None:
        for attempt in range(CREATE_ATTEMPTS):
            try:
                metadata.create_all(self.engine)
                _add_site_columns(self.engine)
                return
            except (IntegrityError, ProgrammingError, OperationalError) as exc:
                # Another process created them between the check and CREATE: look again.
                if attempt == CREATE_ATTEMPTS - 1:
                    raise LogStoreError(_redacted(self.url), str(exc.orig)) from None
                time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        self.engine.dispose()

    # -- writing
    def add(self, asked: Sequence[LoggedQuestion], voted: Sequence[LoggedVote]) -> None:
        """Rows as given (the caller has scrubbed them), in one transaction."""
        with self.engine.begin() as conn:
            if asked:
                rows = [{**_question_values(q), "site": self.site} for q in asked]
                conn.execute(questions.insert(), rows)
            if voted:
                conn.execute(
                    votes.insert(), [{**_vote_values(v), "site": self.site} for v in voted]
                )

    def import_votes(self, digest: str, voted: Iterable[LoggedVote]) -> bool:
        """Add an old feedback file's votes once: False if a file with this content
        (``digest``) was imported before, by this process or another."""
        with self.engine.begin() as conn:
            key = IMPORTED_KEY + digest
            if conn.execute(select(meta.c.value).where(meta.c.key == key)).first():
                return False
            conn.execute(meta.insert(), {"key": key, "value": str(time.time())})
            rows = [{**_vote_values(v), "site": self.site} for v in voted]
            if rows:
                conn.execute(votes.insert(), rows)
        return True

    def purge(self, before: float) -> int:
        """Delete this site's questions and votes older than ``before`` (Unix seconds); rows
        deleted."""
        old_q = (questions.c.time < before) & (questions.c.site == self.site)
        old_v = (votes.c.time < before) & (votes.c.site == self.site)
        with self.engine.begin() as conn:
            gone = conn.execute(questions.delete().where(old_q)).rowcount
            gone += conn.execute(votes.delete().where(old_v)).rowcount
        return int(gone)

    def salt(self) -> str:
        """The installation's secret salt for client hashes, made once and shared by every
        process and replica (it lives in the database)."""
        with self._lock:
            if self._salt is None:
                self._salt = self._read_or_make_salt()
            return self._salt

    def _read_or_make_salt(self) -> str:
        query = select(meta.c.value).where(meta.c.key == SALT_KEY)
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
            if row:
                return str(row[0])
        try:
            with self.engine.begin() as conn:
                conn.execute(meta.insert(), {"key": SALT_KEY, "value": secrets.token_hex(16)})
        except IntegrityError:
            pass  # another process made it first: use theirs
        with self.engine.begin() as conn:
            return str(conn.execute(query).scalar_one())

    # -- reading
    def questions(
        self,
        since: float = 0.0,
        until: float | None = None,
        search: str = "",
        only: str = "",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[QuestionRow]:
        """Newest first. ``search``: case-insensitive text in the question; ``only``:
        "unanswered" (abstained) or "down" (its latest vote is a thumbs-down)."""
        vote = _latest_vote()
        query = select(questions, vote.label("vote"))
        query = _filtered(query, vote, since, until, search, only, self.site)
        query = query.order_by(questions.c.time.desc(), questions.c.id.desc()).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_row(r._mapping) for r in conn.execute(query)]

    def count(
        self, since: float = 0.0, until: float | None = None, search: str = "", only: str = ""
    ) -> int:
        vote = _latest_vote()
        query = _filtered(select(func.count()).select_from(questions), vote, since, until,
                          search, only, self.site)  # fmt: skip
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def votes(self, since: float = 0.0) -> list[LoggedVote]:
        """Every click since ``since``, oldest first."""
        query = select(votes).where(votes.c.time >= since, votes.c.site == self.site)
        query = query.order_by(votes.c.time, votes.c.id)
        with self.engine.connect() as conn:
            return [_vote(r._mapping) for r in conn.execute(query)]


def _latest_vote() -> Any:
    """The latest vote on a question's answer, as a correlated subquery (NULL: none)."""
    return (
        select(votes.c.vote)
        .where(votes.c.session == questions.c.session, votes.c.turn == questions.c.turn)
        .where(votes.c.site == questions.c.site)
        .where(questions.c.session != "", questions.c.turn >= 0)
        .order_by(votes.c.time.desc(), votes.c.id.desc())
        .limit(1)
        .correlate(questions)
        .scalar_subquery()
    )


def _filtered(
    query: Any, vote: Any, since: float, until: float | None, search: str, only: str, site: str
) -> Any:
    if only not in ONLY:
        raise ValueError(f"only must be one of {ONLY}, not {only!r}")
    query = query.where(questions.c.site == site, questions.c.time >= since)
    if until is not None:
        query = query.where(questions.c.time < until)
    if search.strip():
        query = query.where(questions.c.question.icontains(search.strip(), autoescape=True))
    if only == "unanswered":
        query = query.where(questions.c.abstained.is_(True))
    elif only == "down":
        query = query.where(vote == "down")
    return query


def _add_site_columns(engine: Engine) -> None:
    """The ``site`` column and index on a log made before sites existed (its rows are the
    single site's, ""). Another process may add them first: that is fine."""
    for table in (questions, votes):
        if "site" in {c["name"] for c in inspect(engine).get_columns(table.name)}:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        f"ALTER TABLE {table.name} ADD COLUMN site VARCHAR(40) NOT NULL DEFAULT ''"
                    )
                )
        except (OperationalError, ProgrammingError):
            if "site" not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                raise
    for index in (questions_site, votes_site):
        index.create(engine, checkfirst=True)


def _question_values(q: LoggedQuestion) -> dict[str, Any]:
    return {
        "time": q.time, "channel": q.channel[:16], "origin": q.origin[:200],
        "session": q.session[:64], "turn": q.turn, "question": q.question,
        "abstained": q.abstained, "source": q.source, "section": q.section,
        "score": float(q.score), "latency_ms": float(q.latency_ms), "client": q.client[:32],
    }  # fmt: skip


def _vote_values(v: LoggedVote) -> dict[str, Any]:
    return {
        "time": v.time, "session": v.session[:64], "turn": v.turn, "vote": v.vote[:8],
        "question": v.question, "answer": v.answer, "abstained": v.abstained,
        "sections": json.dumps(list(v.sections), ensure_ascii=False),
    }  # fmt: skip


def _row(m: Any) -> QuestionRow:
    return QuestionRow(
        id=int(m["id"]), time=float(m["time"]), channel=m["channel"], question=m["question"],
        abstained=bool(m["abstained"]), source=m["source"], section=m["section"],
        score=float(m["score"]), latency_ms=float(m["latency_ms"]), origin=m["origin"],
        session=m["session"], turn=int(m["turn"]), vote=m["vote"] or "",
    )  # fmt: skip


def _vote(m: Any) -> LoggedVote:
    try:
        sections = tuple(str(s) for s in json.loads(m["sections"] or "[]"))
    except (ValueError, TypeError):
        sections = ()
    return LoggedVote(
        time=float(m["time"]), session=m["session"], turn=int(m["turn"]), vote=m["vote"],
        question=m["question"], answer=m["answer"], abstained=bool(m["abstained"]),
        sections=sections,
    )  # fmt: skip


def _redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable database URL)"

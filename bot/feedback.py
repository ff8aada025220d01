"""Thumbs up/down on answers: an append-only JSONL log that rotates, and its summary.

One JSON object a line: time, session, turn, vote ("up", "down" or "cleared"), question,
answer, abstained and citations. The log lives at ``<data_dir>/feedback.jsonl``; when the
next line would take it past ``max_bytes`` it is renamed to ``feedback.jsonl.1`` (older
backups shift up, the oldest is deleted), so the files never hold more than
``(backups + 1) * max_bytes``. A repeated click (same vote, same answer, same session) is
not written again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.types import Citation

log = logging.getLogger(__name__)
LOG_NAME = "feedback.jsonl"
# Answers are short; these caps only stop a hostile client from filling the log in a few lines.
MAX_FIELD_CHARS = 4000
MAX_CITATIONS = 10
VOTES = ("up", "down", "cleared")
# Answers whose last vote is remembered, to drop repeats: ~240 bytes each, 2.4 MB in all.
MAX_REMEMBERED = 10_000


def vote_of(liked: object) -> str:
    """Gradio's ``LikeData.liked`` (True, False, or "" when a vote is taken back) → a vote."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return "cleared"


def _cap(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    value = str(text or "")
    return value if len(value) <= limit else value[:limit] + "…"


def make_record(
    question: str,
    answer: str,
    citations: Sequence[Citation | Mapping[str, Any]],
    vote: str,
    *,
    abstained: bool = False,
    session: str = "",
    turn: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    cites = []
    for c in list(citations)[:MAX_CITATIONS]:
        d: Mapping[str, Any] = c if isinstance(c, Mapping) else vars(c)
        cites.append(
            {
                "n": int(d.get("n") or 0),
                "source": _cap(d.get("source"), 200),
                "section": _cap(d.get("section"), 300),
                "quote": _cap(d.get("quote"), 1000),
            }
        )
    return {
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "session": _cap(session, 64),
        "turn": int(turn),
        "vote": vote if vote in VOTES else "cleared",
        "question": _cap(question),
        "answer": _cap(answer),
        "abstained": bool(abstained),
        "citations": cites,
    }


class FeedbackLog:
    """Thread-safe appender; one instance per process serves every chat session.

    One vote per answer per session: a click that repeats the answer's last vote writes
    nothing, so one tab clicking "like" 300 times cannot push real feedback out of the
    rotating log. The last votes are remembered for at most ``max_remembered`` answers
    (least recently voted on forgotten first); a forgotten one written again is harmless,
    since the summary counts each answer by its latest line."""

    def __init__(
        self,
        data_dir: Path | str,
        max_bytes: int,
        backups: int = 1,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        self.path = Path(data_dir) / LOG_NAME
        self.max_bytes = max(1, max_bytes)
        self.backups = max(1, backups)
        self.max_remembered = max(1, max_remembered)
        self._votes: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def files(self) -> list[Path]:
        """Oldest first, so reading them in order replays the votes in time order."""
        rotated = [self.path.with_name(f"{LOG_NAME}.{i}") for i in range(self.backups, 0, -1)]
        return [p for p in [*rotated, self.path] if p.exists()]

    def append(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            self._write(record)

    def _write(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        size = self.path.stat().st_size if self.path.exists() else 0
        if size and size + len(line) > self.max_bytes:
            self._rotate()
        with self.path.open("ab") as fh:
            fh.write(line)

    def vote(
        self,
        question: str,
        answer: str,
        citations: Sequence[Citation | Mapping[str, Any]],
        liked: object,
        **details: Any,
    ) -> None:
        """Log one click on an answer's thumbs (``liked`` as Gradio's ``LikeData.liked``),
        unless it repeats this session's last vote on the answer."""
        record = make_record(question, answer, citations, vote_of(liked), **details)
        # Without a session, answers cannot be told apart: every click is written.
        key = (record["session"], record["turn"]) if record["session"] else None
        with self._lock:
            if key is not None and self._votes.get(key) == record["vote"]:
                self._votes.move_to_end(key)
                return
            try:
                self._write(record)
            except OSError as exc:  # a full disk must not break the chat
                log.warning("could not record feedback in %s: %s", self.path, exc)
                return
            if key is not None:
                self._votes[key] = record["vote"]
                self._votes.move_to_end(key)
                while len(self._votes) > self.max_remembered:
                    self._votes.popitem(last=False)

    def _rotate(self) -> None:
        for i in range(self.backups, 0, -1):
            src = self.path if i == 1 else self.path.with_name(f"{LOG_NAME}.{i - 1}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{LOG_NAME}.{i}"))

    def records(self) -> Iterator[dict[str, Any]]:
        yield from read_records(self.files())


def read_records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every well-formed record; a line cut short by a crash is skipped, not fatal."""
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("vote") in VOTES:
                    yield _normalized(record)


def _normalized(record: dict[str, Any]) -> dict[str, Any]:
    """Hand-edited or foreign lines must not crash the summary."""
    try:
        record["turn"] = int(record.get("turn") or 0)
    except (TypeError, ValueError):
        record["turn"] = 0
    cites = record.get("citations")
    record["citations"] = (
        [c for c in cites if isinstance(c, dict)] if isinstance(cites, list) else []
    )
    return record


@dataclass
class Summary:
    votes: int = 0  # every click, including changed minds
    up: int = 0  # latest vote per answer
    down: int = 0
    down_sections: Counter[str] = field(default_factory=Counter)
    abstained_down: int = 0
    recent_down: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rated(self) -> int:
        return self.up + self.down


def summarize(records: Iterable[Mapping[str, Any]], recent: int = 5) -> Summary:
    """Count each answer once, by its latest vote: a student who changes their mind
    (or takes a vote back) is not counted twice."""
    summary = Summary()
    latest: dict[tuple[str, int], Mapping[str, Any]] = {}
    for i, record in enumerate(records):
        summary.votes += 1
        key = (str(record.get("session") or f"?{i}"), int(record.get("turn") or 0))
        latest.pop(key, None)  # re-insert so dict order is the order of last votes
        latest[key] = record
    for record in latest.values():
        if record["vote"] == "up":
            summary.up += 1
        elif record["vote"] == "down":
            summary.down += 1
            if record.get("abstained"):
                summary.abstained_down += 1
            sections = {c.get("section", "") for c in record.get("citations") or []}
            summary.down_sections.update(_printable(s, 120) for s in sections if s)
            summary.recent_down.append(dict(record))
    summary.recent_down = summary.recent_down[-recent:][::-1]
    return summary


def format_summary(summary: Summary, where: str = "") -> str:
    if not summary.votes:
        return f"No feedback yet{f' in {where}' if where else ''}."
    rated = summary.rated
    pct = (lambda n: f"{100 * n / rated:.0f}%") if rated else (lambda n: "-")
    lines = [
        f"Feedback{f' in {where}' if where else ''}: {rated} answers rated "
        f"({summary.votes} clicks)",
        f"  thumbs up:   {summary.up:>5}  {pct(summary.up)}",
        f"  thumbs down: {summary.down:>5}  {pct(summary.down)}"
        + (
            f"  ({summary.abstained_down} of them on 'not in the guide' replies)"
            if summary.abstained_down
            else ""
        ),
    ]
    if summary.down_sections:
        lines.append("Sections cited in thumbs-down answers:")
        lines += [f"  {n:>4}  {s}" for s, n in summary.down_sections.most_common(5)]
    if summary.recent_down:
        lines.append("Latest thumbs-down:")
        for r in summary.recent_down:
            when = _printable(r.get("time", "?"), 32)
            lines.append(f"  {when}  Q: {_printable(r.get('question'), 100)}")
            lines.append(f"  {' ' * len(when)}  A: {_printable(r.get('answer'), 100)}")
    return "\n".join(lines)


def _printable(value: object, limit: int) -> str:
    """One line, no control characters: a logged question must not drive the terminal
    (ANSI escapes) of whoever reads the summary."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value or "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Thumbs up/down on answers: their summary (``python -m bot feedback``), and the reader of
the JSONL log that held them before the question log (bot/insights/questionlog.py imports it once).

The old log held one JSON object a line: time, session, turn, vote ("up", "down" or
"cleared"), question, answer, abstained and citations, in ``<data_dir>/feedback.jsonl`` and
its rotated ``feedback.jsonl.1``...
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.types import LoggedVote

LOG_NAME = "feedback.jsonl"
VOTES = ("up", "down", "cleared")


def vote_of(liked: object) -> str:
    """Gradio's ``LikeData.liked`` (True, False, or "" when a vote is taken back) → a vote."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return "cleared"


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
    recent_down: list[LoggedVote] = field(default_factory=list)

    @property
    def rated(self) -> int:
        return self.up + self.down


def summarize(votes: Iterable[LoggedVote], recent: int = 5) -> Summary:
    """Count each answer once, by its latest vote: a student who changes their mind
    (or takes a vote back) is not counted twice. ``votes`` oldest first."""
    summary = Summary()
    latest: dict[tuple[str, int], LoggedVote] = {}
    for i, vote in enumerate(votes):
        summary.votes += 1
        key = (vote.session or f"?{i}", vote.turn)
        latest.pop(key, None)  # re-insert so dict order is the order of last votes
        latest[key] = vote
    for vote in latest.values():
        if vote.vote == "up":
            summary.up += 1
        elif vote.vote == "down":
            summary.down += 1
            summary.abstained_down += vote.abstained
            summary.down_sections.update(_printable(s, 120) for s in set(vote.sections) if s)
            summary.recent_down.append(vote)
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
            when = datetime.fromtimestamp(r.time, UTC).isoformat(timespec="minutes")
            lines.append(f"  {when}  Q: {_printable(r.question, 100)}")
            lines.append(f"  {' ' * len(when)}  A: {_printable(r.answer, 100)}")
    return "\n".join(lines)


def _printable(value: object, limit: int) -> str:
    """One line, no control characters: a logged question must not drive the terminal
    (ANSI escapes) of whoever reads the summary."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value or "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

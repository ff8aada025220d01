"""What one ingest did: :class:`IngestResult` and its summary (bounded whatever a sitemap
lists), and the counts kept with the index (the manifest's ``extra["ingest"]``, written in
the swap) that /healthz and the admin page read back, so any server reading the index shows
the last build, whoever ran it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeGuard

from bot.types import IngestCounts, Skipped

RECORD_KEY = "ingest"
MAX_STAGES = 10  # read back from the index: a hand-edited manifest stays small on the page
STAGE_CHARS = 20


def counts_record(counts: IngestCounts) -> dict[str, Any]:
    """The counts as JSON-ready data for the manifest."""
    record = asdict(counts)
    record["stages"] = [[name, seconds] for name, seconds in counts.stages]
    return record


def read_counts(extra: Mapping[str, Any] | None) -> IngestCounts | None:
    """The counts a manifest's ``extra`` holds, or None (an index built before they were
    kept). Only known fields, only finite non-negative numbers: the rest is dropped."""
    raw = (extra or {}).get(RECORD_KEY)
    if not isinstance(raw, Mapping):
        return None
    values: dict[str, Any] = {}
    for spec in fields(IngestCounts):
        value = raw.get(spec.name)
        if spec.name == "stages":
            values["stages"] = _stages(value)
        elif _number(value):
            values[spec.name] = float(value) if spec.name in ("time", "seconds") else int(value)
    return IngestCounts(**values)


def _number(value: object) -> TypeGuard[float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value < 1e15
    )


def _stages(value: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, list):
        return ()
    pairs = [p for p in value[:MAX_STAGES] if isinstance(p, list) and len(p) == 2]
    return tuple(
        (str(name)[:STAGE_CHARS], float(seconds)) for name, seconds in pairs if _number(seconds)
    )


def counts_lines(counts: IngestCounts) -> list[str]:
    """What the summary says besides its head: web pages by outcome, what was left out as
    a copy or boilerplate, and the time each stage took. Bounded: numbers only."""
    lines = []
    if counts.pages or counts.fetched or counts.unchanged or counts.failed:
        failed = f"{counts.failed:,} failed"
        if counts.failed:
            failed += " (named below, with why)"
        lines.append(
            f"Web pages: {counts.fetched:,} fetched, {counts.unchanged:,} unchanged (304), "
            f"{failed}."
        )
    if counts.duplicates or counts.boilerplate:
        lines.append(
            f"Left out: {counts.duplicates:,} duplicate pages; "
            f"{counts.boilerplate:,} boilerplate blocks repeated across pages, indexed once."
        )
    if counts.stages:
        times = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in counts.stages)
        lines.append(f"Time: {times} (total {counts.seconds:.1f} s).")
    return lines


# The summary names what was skipped grouped by reason, a few names each, so its size is
# bounded whatever a sitemap lists (the admin page keeps it).
SUMMARY_GROUPS = 10
SUMMARY_SAMPLES = 5
SUMMARY_CHARS = 200  # per name and per reason


@dataclass(frozen=True)
class IngestResult:
    changed: bool
    files: int
    chunks: int
    sentences: int
    embedded: int  # texts that had to be embedded (the rest were reused)
    seconds: float
    generation: str
    texts: int = 0  # distinct texts with vectors: chunks, sentences, clauses, list items
    # Corpus files and web pages left out, with why: the ingest went on without them.
    skipped: tuple[Skipped, ...] = ()
    counts: IngestCounts = field(default_factory=IngestCounts)  # pages by outcome, stage times

    def summary(self) -> str:
        if not self.changed:
            head = (
                f"Index is up to date: {self.files} files, {self.chunks} chunks "
                f"(checked in {self.seconds:.2f} s); nothing to do."
            )
        else:
            counted = self.counts.chunks > 0  # a result made without counts says less
            reused = f"{self.counts.reused:,} reused" if counted else "the rest reused"
            head = (
                f"Ingested {self.files} files into {self.chunks} chunks and {self.sentences} "
                f"sentences ({self.embedded} embedded, {reused}) in {self.seconds:.1f} s."
            )
        lines = [head, *counts_lines(self.counts)]
        if self.skipped:
            n = len(self.skipped)
            lines.append(
                f"Skipped {n:,} file{'s' if n != 1 else ''}: {skipped_text(self.skipped)}."
            )
        return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def skipped_text(skipped: Sequence[Skipped]) -> str:
    """What was left out, by reason (the most common first): ``name (reason)`` for each of a
    few, else the count and the first few names."""
    groups: dict[str, list[str]] = {}
    for entry in skipped:
        groups.setdefault(entry.reason, []).append(entry.name)
    ranked = sorted(groups.items(), key=lambda group: -len(group[1]))
    parts: list[str] = []
    for reason, names in ranked[:SUMMARY_GROUPS]:
        if len(names) <= SUMMARY_SAMPLES:
            parts.extend(f"{_clip(name)} ({_clip(reason)})" for name in names)
        else:
            sample = ", ".join(_clip(name) for name in names[:SUMMARY_SAMPLES])
            parts.append(f"{len(names):,} × {_clip(reason)} (first {SUMMARY_SAMPLES}: {sample})")
    if len(ranked) > SUMMARY_GROUPS:
        rest = sum(len(names) for _reason, names in ranked[SUMMARY_GROUPS:])
        parts.append(f"{rest:,} more for {len(ranked) - SUMMARY_GROUPS:,} other reasons")
    return "; ".join(parts)

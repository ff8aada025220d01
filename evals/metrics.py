"""Matching and metrics exactly as FORMAT.md defines them. Pure functions."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from evals.dataset import Case

DASHES = dict.fromkeys([*range(0x2010, 0x2016), 0x2212], "-")
QUOTES = {
    0x2018: "'",
    0x2019: "'",
    0x201A: "'",
    0x201B: "'",
    0x201C: '"',
    0x201D: '"',
    0x201E: '"',
    0x201F: '"',
}
MARKUP = re.compile(r"[#*|`]")
CITATION_MARK = re.compile(r"\[\d+\]")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(DASHES).translate(QUOTES)
    text = MARKUP.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def supports(passage: str, evidence: Sequence[str]) -> bool:
    norm = normalize(passage)
    return any(normalize(e) and normalize(e) in norm for e in evidence)


def facts_match(answer: str, expected_facts: Sequence[Sequence[str]]) -> bool:
    norm = normalize(answer)
    return all(any(normalize(alt) in norm for alt in group) for group in expected_facts)


def hit_rank(passages: Sequence[str], evidence: Sequence[str], k: int) -> int | None:
    for rank, passage in enumerate(passages[:k], start=1):
        if supports(passage, evidence):
            return rank
    return None


def answer_words(text: str) -> int:
    return len(CITATION_MARK.sub(" ", text).split())


@dataclass(frozen=True)
class Outcome:
    """What the bot did on one case, reduced to what the metrics need."""

    case: Case
    answer: str
    abstained: bool
    citation_texts: list[str]
    passages: list[str]
    latency_ms: float

    def hit_rank(self, k: int = 5) -> int | None:
        return hit_rank(self.passages, self.case.evidence, k) if self.case.answerable else None

    @property
    def facts_ok(self) -> bool:
        return not self.abstained and facts_match(self.answer, self.case.expected_facts)

    @property
    def citation_ok(self) -> bool:
        return not self.abstained and any(
            supports(t, self.case.evidence) for t in self.citation_texts
        )

    @property
    def correct(self) -> bool:
        if not self.case.answerable:
            return self.abstained
        return self.facts_ok and self.citation_ok


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def compute_metrics(outcomes: Sequence[Outcome], k: int = 5) -> dict[str, float]:
    answerable = [o for o in outcomes if o.case.answerable]
    unanswerable = [o for o in outcomes if not o.case.answerable]
    ranks = [o.hit_rank(k) for o in answerable]
    latencies = [o.latency_ms for o in outcomes]
    words = [answer_words(o.answer) for o in answerable if not o.abstained]
    return {
        "hit_at_1": _share([r == 1 for r in ranks]),
        "hit_at_5": _share([r is not None and r <= 5 for r in ranks]),
        "mrr_at_5": (
            sum(1.0 / r for r in ranks if r is not None and r <= 5) / len(ranks) if ranks else 0.0
        ),
        "fact_recall": _share([o.facts_ok for o in answerable]),
        "citation_accuracy": _share([o.citation_ok for o in answerable]),
        "abstention_accuracy": _share([o.abstained for o in unanswerable]),
        "false_abstention_rate": _share([o.abstained for o in answerable]),
        "answer_words_p50": float(statistics.median(words)) if words else 0.0,
        "latency_ms_p50": _percentile(latencies, 0.5),
        "latency_ms_p95": _percentile(latencies, 0.95),
    }

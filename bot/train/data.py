"""The reader's training pairs, from real FAQ pages: every FAQ entry the project's own
loaders find (its question, and the answer under it) is a supervised example.

For each entry: its answer's opening span (what the answer step would quote) is a positive;
negatives are the entry's own question quoted back, the other entries' answers on the same
page, and the answer of the nearest entry of another institution (a near-topic question
the page does not answer). Questions are also typed the way students type them (lower
case, a typo, terse). Institutions, never entries or pages, are split into train and
held-out, so held-out figures are on sites the model never saw.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import FaqBotError
from bot.index.sentences import readable, split_sentences
from bot.index.text import STOPWORDS
from bot.ingest.chunking import chunk_loaded
from bot.ingest.loaders import convert

GROUPS = ("services", "courses", "public")
LATER_SPAN = 0.25
MIN_WORDS = 3  # a span with fewer words is a label or a leftover, not an answer
LETTERS = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Entry:
    institution: str
    group: str
    page: str
    question: str
    spans: tuple[str, ...]  # the answer's quotable spans, in order


@dataclass(frozen=True)
class Pair:
    question: str
    candidate: str
    label: float
    institution: str
    group: str


def manifest_rows(pages_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """(group, row) for every page each group's MANIFEST.tsv lists."""
    for group in GROUPS:
        manifest = pages_dir / group / "MANIFEST.tsv"
        if not manifest.is_file():
            continue
        with manifest.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) >= 5:
                    yield group, row


def manifests_hash(pages_dir: Path) -> str:
    digest = hashlib.sha256()
    for group in GROUPS:
        manifest = pages_dir / group / "MANIFEST.tsv"
        if manifest.is_file():
            digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def is_answer_span(text: str, question: str) -> bool:
    words = LETTERS.findall(text)
    return len(words) >= MIN_WORDS and _norm(text) != _norm(question)


def _norm(text: str) -> str:
    return " ".join(LETTERS.findall(text.lower()))


def read_entries(pages_dir: Path) -> tuple[list[Entry], int]:
    """Every FAQ entry with at least one quotable span, and how many pages were read."""
    if not pages_dir.is_dir():
        raise FaqBotError(f"No training pages at {pages_dir}: pass --pages with their folder.")
    entries: list[Entry] = []
    pages = 0
    for group, row in manifest_rows(pages_dir):
        path = pages_dir / group / row[0]
        try:
            document = convert(path.read_bytes(), row[0], path.suffix)
        except (FaqBotError, OSError):
            continue  # a page the loaders cannot read teaches nothing
        pages += 1
        for chunk in chunk_loaded(document, 1000):
            if not chunk.question:
                continue
            spans = [readable(s.text, chunk) for s in split_sentences(chunk)]
            quotable = tuple(s for s in spans if is_answer_span(s, chunk.question))
            if quotable:
                entries.append(Entry(row[4], group, row[0], chunk.question, quotable))
    return entries, pages


def held_out(institution: str, share: int = 10) -> bool:
    """One institution in ``share`` is held out, by a stable hash of its name."""
    return int(hashlib.sha256(institution.encode()).hexdigest(), 16) % share == 0


def typed(question: str, rng: random.Random) -> str:
    """The question as a student might type it: as written, lower case without the
    question mark, with one typo, or terse (its content words only)."""
    roll = rng.random()
    if roll < 0.45:
        return question
    if roll < 0.65:
        return question.lower().rstrip("?").strip()
    words = question.split()
    if roll < 0.85:
        long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            w = words[i]
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)
    content = [w for w in words if w.lower().strip("?,.") not in STOPWORDS]
    return (" ".join(content) or question).lower()


def build_pairs(
    entries: Sequence[Entry],
    nearest: Callable[[int], int | None],
    seed: int,
    same_page_negatives: int = 3,
) -> list[Pair]:
    """Training pairs for every entry (see the module's docstring). ``nearest(i)``: the
    index of the entry of another institution whose question is closest to entry i's."""
    rng = random.Random(seed)
    by_page: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        by_page.setdefault(entry.page, []).append(i)
    pairs: list[Pair] = []
    for i, entry in enumerate(entries):

        def pair(candidate: str, label: float, entry: Entry = entry) -> Pair:
            return Pair(typed(entry.question, rng), candidate, label, entry.institution,
                        entry.group)  # fmt: skip

        pairs.append(pair(entry.spans[0], 1.0))
        pairs.append(pair(entry.question, 0.0))  # its own question quoted back
        others = [j for j in by_page[entry.page] if j != i]
        for j in rng.sample(others, min(same_page_negatives, len(others))):
            pairs.append(pair(rng.choice(entries[j].spans[:2]), 0.0))
        if len(entry.spans) > 1 and rng.random() < 0.5:
            # a later sentence of its own answer: sometimes part of the answer, seldom the
            # sentence that answers (a soft label)
            pairs.append(pair(rng.choice(entry.spans[1:]), LATER_SPAN))
        near = nearest(i)
        if near is not None:
            pairs.append(pair(entries[near].spans[0], 0.0))
    return pairs

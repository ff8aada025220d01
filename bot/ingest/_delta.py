"""What a re-ingest writes: a delta generation over the live index's base when few sources
changed, a full one otherwise (bot/index/store.py describes both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import MODEL_NAME, Settings
from bot.index.store import BASE_KEY, CHUNKER_VERSION, GenerationStore, Location, Manifest
from bot.types import Chunk

# Above this share of the chunks a delta saves little (it writes that share of a full
# generation) and the index it leaves hides much of its base: every later ingest would carry
# those rows again until a full rebuild. A quarter keeps deltas small and their bases useful.
DELTA_SHARE = 0.25


@dataclass(frozen=True)
class DeltaPlan:
    base: str  # the full generation the delta reads through
    sources: frozenset[str]  # whose rows the delta holds: changed since the base, or new
    hidden: tuple[str, ...]  # the base's sources the delta replaces or that are gone


def plan_delta(
    location: Location,
    live: Manifest | None,
    chunks: Sequence[Chunk],
    settings: Settings,
    embeddings: Embeddings,
) -> DeltaPlan | None:
    """A delta over the live generation's base (the live one itself when it is full), or
    None when a full generation is due: no usable live index, or changes over the share.
    Chunks are compared whole (text, place, section, address...), read without vectors."""
    if (
        live is None
        or live.model != MODEL_NAME
        or live.chunk_chars != settings.chunk_chars
        or live.extra.get("chunker") != CHUNKER_VERSION
    ):
        return None
    base = str(live.extra.get(BASE_KEY) or live.generation)
    try:
        before = _by_source(GenerationStore(location, base, embeddings).all_chunks())
    except Exception:  # an unreadable base only costs a full generation
        return None
    now = _by_source(chunks)
    changed = frozenset(s for s, group in now.items() if before.get(s) != group)
    if sum(len(now[s]) for s in changed) > DELTA_SHARE * len(chunks):
        return None
    hidden = tuple(sorted(s for s in before if s in changed or s not in now))
    return DeltaPlan(base, changed, hidden)


def reusable_vectors(
    location: Location, live: Manifest | None, embeddings: Embeddings, plan: DeltaPlan | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Embedded text -> vector (float32 rows) of the live index's chunks and sentences: of
    the sources a delta writes only, or of everything for a full generation."""
    if live is None or live.model != MODEL_NAME:
        return {}, {}
    try:
        old = GenerationStore.of(location, live, embeddings)
        if plan is not None:
            return old.vectors_of_sources(plan.sources)
        return old.vectors_by_text("chunks"), old.vectors_by_text("sentences")
    except Exception:  # an unreadable old generation only costs re-embedding
        return {}, {}


def _by_source(chunks: Sequence[Chunk]) -> dict[str, set[Chunk]]:
    found: dict[str, set[Chunk]] = {}
    for chunk in chunks:
        found.setdefault(chunk.source, set()).add(chunk)
    return found

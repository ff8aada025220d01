"""Which documents are copies of one another, from their blocks (see ``boilerplate``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import Document

# Two documents are one when the text they share is at least this share of the longer
# one: a print version adds a line or two ("Printed from ..."), a second address nothing.
SAME_TEXT = 0.9
# A block on more documents than this pairs too many to be evidence of a copy (and a run
# of 10,000 pages must not compare every pair).
PAIRING_DOCS = 8


def duplicate_groups(keys: Sequence[Sequence[str]]) -> list[list[int]]:
    """Groups (indices, two or more) of documents whose blocks (``keys[i]``: document
    i's normalised blocks) are the same, or all but a small share of their text."""
    sets = [frozenset(k) for k in keys]
    totals = [sum(len(key) for key in s) for s in sets]
    holders: dict[str, list[int]] = {}
    for i, blocks in enumerate(sets):
        for key in blocks:
            holders.setdefault(key, []).append(i)
    # Pairs to compare: documents sharing a block few others hold; same texts are one.
    pairs = {(docs[0], other) for docs in _same_sets(sets) for other in docs[1:]}
    for docs in holders.values():
        if 1 < len(docs) <= PAIRING_DOCS:
            pairs.update((a, b) for n, a in enumerate(docs) for b in docs[n + 1 :])
    shared = {(a, b): sum(len(key) for key in sets[a] & sets[b]) for a, b in pairs}
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), size in shared.items():
        if size >= SAME_TEXT * max(totals[a], totals[b]) > 0:
            parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(root(i), []).append(i)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def _same_sets(sets: Sequence[frozenset[str]]) -> list[list[int]]:
    same: dict[frozenset[str], list[int]] = {}
    for i, blocks in enumerate(sets):
        same.setdefault(blocks, []).append(i)
    return [docs for docs in same.values() if len(docs) > 1]


def address(document: Document) -> str:
    """What names a document in citations and in the summary."""
    return document.url or document.source


def preferred(group: Sequence[Document]) -> Document:
    """The one of a group of copies to keep: the page the others name as canonical, else
    the shortest address (a print or ``?ref=`` address is longer), then the first by name."""
    named = {d.canonical for d in group} - {""}
    canonical = [d for d in group if address(d) in named]
    return min(canonical or group, key=lambda d: (len(address(d)), address(d)))

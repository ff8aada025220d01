"""What a site repeats on every page, taken out before chunking; copies of a page as one.

A college site wraps each page in the same header, menus, footer, cookie notice and
"Apply now" box. Markup cannot be trusted to mark them (half of real sites use plain
``<div>``s), so they are recognised from the run itself: a block (a line of a document's
text; a table is one block) that repeats verbatim, after normalising, on many documents is
boilerplate when it sits in a page's chrome: before the first or after the last block of
the page's own. Between two of the page's own blocks it is the page's content.

* **How many documents make "many"**: ``repeat_threshold(n)``, at least 4 (so a sentence
  on 2-3 files of a small corpus is never touched) and growing with log2 of the run, so a
  1,000-page site needs 10 pages: a section's own menu repeats on every page of the
  section, real text rarely on ten pages in a page's chrome.
* **Indexed once or not at all**: a boilerplate block that reads as a sentence and is not
  site-wide (on fewer than ``SITE_WIDE_MIN`` documents or half the run) keeps its first
  copy, so a small corpus whose pages end with the same contact sentence still answers
  from it. Menus, address lines, notices on every page: not at all.
* A heading goes only with everything under it, and a page heading whose body would be
  emptied keeps its first block ("Yes." under an FAQ question), so sections stay right.

Near-duplicates are one document: pages naming the same ``<link rel="canonical">`` and
pages whose text, once the boilerplate is out, is the same (a print version, one page at
two addresses). The canonical address is kept, else the shortest.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.ingest._near_duplicates import address as _address
from bot.ingest._near_duplicates import duplicate_groups, preferred
from bot.types import Document, Section, SiteDocuments, Skipped

MIN_REPEATS = 4  # a block on 2-3 documents is never boilerplate, whatever the run's size
# A sentence in the chrome of this many documents, and of this share of the run, is the
# site's template (a cookie notice, an "Apply now" box): not kept even once. Below, it may
# be the one place a fact is written (a contact line ending each page of a small corpus).
SITE_WIDE_MIN = 10
ONCE_SHARE = 0.25
SENTENCE_WORDS = 5  # a block of fewer words is a label or a link, not a sentence
HEADING = re.compile(r"^#{1,6} ")
LIST_MARK = re.compile(r"^\s*(?:[-*+•–]|\d+[.)])\s+")
WORD = re.compile(r"\w+")
SPACES = re.compile(r"\s+")


def repeat_threshold(documents: int) -> int:
    """On how many documents a block must appear to be recognised as repeated."""
    return max(MIN_REPEATS, math.ceil(math.log2(max(documents, 2))))


def site_documents(documents: Sequence[Document]) -> SiteDocuments:
    """The run's documents with the site's repeated blocks removed and each group of
    copies reduced to one; what was dropped is named in ``duplicates``."""
    kept, duplicates = _one_per_canonical(documents)
    blocks = [_blocks(d) for d in kept]
    counts: Counter[str] = Counter(key for doc in blocks for key in {b.key for b in doc})
    threshold = repeat_threshold(len(kept))
    repeated = [[counts[b.key] >= threshold for b in doc] for doc in blocks]
    chrome = [_chrome(r) for r in repeated]
    # Copies are found from each page's own blocks, before anything is kept once.
    own = [
        [b.key for b, c in zip(doc, mask, strict=True) if not c]
        for doc, mask in zip(blocks, chrome, strict=True)
    ]
    copies = _copies(kept, own)
    duplicates += [
        Skipped(_address(kept[i]), f"duplicate of {_address(kept[j])}") for i, j in copies.items()
    ]
    once_limit = max(SITE_WIDE_MIN, math.ceil(len(kept) * ONCE_SHARE))
    kept_once: set[str] = set()
    removed_keys: set[str] = set()
    removed_chars = 0
    cleaned: list[Document] = []
    for n, document in enumerate(kept):
        if n in copies:
            continue
        doc_blocks, drop = blocks[n], list(chrome[n])
        for i, block in enumerate(doc_blocks):
            # A sentence repeated on a few pages (not site-wide) is indexed once, here.
            once = counts[block.key] < once_limit and not block.heading
            if drop[i] and once and _sentence(block.key) and block.key not in kept_once:
                kept_once.add(block.key)
                drop[i] = False
        _keep_structure(document, doc_blocks, drop, repeated[n])
        gone = [b for b, d in zip(doc_blocks, drop, strict=True) if d]
        removed_keys.update(b.key for b in gone)
        removed_chars += sum(b.end - b.start for b in gone)
        if doc_blocks and len(gone) == len(doc_blocks):
            duplicates.append(Skipped(_address(document), "only text repeated across the site"))
        elif gone:
            cleaned.append(_without(document, doc_blocks, drop))
        else:
            cleaned.append(document)
    return SiteDocuments(
        tuple(cleaned),
        tuple(sorted(duplicates, key=lambda s: s.name)),
        len(removed_keys),
        removed_chars,
    )


# -- blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    key: str  # normalised text: what is compared across documents
    heading: bool = False


def _normalise(line: str) -> str:
    line = HEADING.sub("", line.strip())
    return SPACES.sub(" ", LIST_MARK.sub("", line)).strip().casefold()


def _blocks(document: Document) -> list[_Block]:
    """The document's non-empty lines with their offsets; a table's rows are one block
    (a row without its header means nothing); headings as the loaders write them."""
    text = document.text
    heading_ends = {_heading_end(document, s) for s in document.sections}
    out: list[_Block] = []
    pos = 0
    table: list[tuple[int, int, str]] = []

    def close_table() -> None:
        if table:
            key = "\n".join(_normalise(t) for _, _, t in table)
            out.append(_Block(table[0][0], table[-1][1], key))
            table.clear()

    for line in text.split("\n"):
        start, end = pos, pos + len(line.rstrip())
        pos += len(line) + 1
        stripped = line.strip()
        if stripped.startswith("|"):
            table.append((start, end, stripped))
            continue
        close_table()
        if stripped and _normalise(line):
            out.append(_Block(start, end, _normalise(line), end in heading_ends))
    close_table()
    return out


def _heading_end(document: Document, section: Section) -> int:
    """Where a section's heading line ends: right before its body's separator."""
    return len(document.text[: section.start].rstrip())


def _sentence(key: str) -> bool:
    return key.rstrip("\"')”’").endswith((".", "!", "?")) and len(WORD.findall(key)) >= (
        SENTENCE_WORDS
    )


def _chrome(repeated: list[bool]) -> list[bool]:
    """Repeated blocks before the page's first own block or after its last one: where
    headers, menus, sidebars, boxes and footers sit in any template. A repeated block
    between two of the page's own ("Credits: 3", a list's lead-in on every course page)
    is the page's content."""
    own = [i for i, r in enumerate(repeated) if not r]
    first, last = (own[0], own[-1]) if own else (len(repeated), -1)
    return [r and (i < first or i > last) for i, r in enumerate(repeated)]


def _keep_structure(
    document: Document, blocks: list[_Block], drop: list[bool], repeated: list[bool]
) -> None:
    """A heading goes only with all it governs; a page's own heading keeps at least the
    first block of its body (an FAQ answer "Yes." is on many pages, and is the answer)."""
    at = {b.end: i for i, b in enumerate(blocks) if b.heading}
    for section in document.sections:
        head = at.get(_heading_end(document, section))
        if head is None:
            continue
        inside = [
            i
            for i, b in enumerate(blocks)
            if i != head and b.start >= section.start and b.end <= section.end
        ]
        if drop[head] and not all(drop[i] for i in inside):
            drop[head] = False
        if not repeated[head]:
            direct = [i for i in inside if i < _next_heading(blocks, head)]
            if direct and all(drop[i] for i in direct):
                drop[direct[0]] = False


def _next_heading(blocks: list[_Block], head: int) -> int:
    return next((i for i in range(head + 1, len(blocks)) if blocks[i].heading), len(blocks))


def _without(document: Document, blocks: list[_Block], drop: list[bool]) -> Document:
    """The document without the dropped blocks; sections and PDF page starts moved with
    the text they index (a section emptied of its heading is gone)."""
    text = document.text
    parts: list[str] = []
    moved: list[tuple[int, int, int]] = []  # (old start, old end, new start) of kept blocks
    size = 0
    after_kept = ""  # the separator right after the last kept block
    last_end = 0  # end of the block before this one, kept or not
    for block, gone in zip(blocks, drop, strict=True):
        gap = text[last_end : block.start]
        last_end = block.end
        if moved and moved[-1][1] == block.start - len(gap):
            after_kept = gap
        if gone:
            continue
        if moved:
            # The wider of the separators around what was cut: a paragraph break stays one.
            breaks = max(after_kept.count("\n"), gap.count("\n"))
            sep = "\n" * min(max(breaks, 1), 2)
            parts.append(sep)
            size += len(sep)
        moved.append((block.start, block.end, size))
        parts.append(text[block.start : block.end])
        size += block.end - block.start
    new_text = "".join(parts) + ("\n" if parts else "")
    dropped_heads = {b.end for b, d in zip(blocks, drop, strict=True) if d and b.heading}
    sections = tuple(
        _moved_section(s, moved)
        for s in document.sections
        if _heading_end(document, s) not in dropped_heads
    )
    pages = tuple(_new_start(p, moved, len(new_text)) for p in document.page_starts)
    return replace(document, text=new_text, sections=sections, page_starts=pages)


def _new_start(offset: int, moved: list[tuple[int, int, int]], length: int) -> int:
    """Where the first kept block at or after ``offset`` now starts."""
    for old_start, old_end, new in moved:
        if old_end > offset:
            return new + max(0, offset - old_start)
    return length


def _new_end(offset: int, moved: list[tuple[int, int, int]]) -> int:
    """Where the last kept block ending at or before ``offset`` now ends."""
    end = 0
    for old_start, old_end, new in moved:
        if old_start >= offset:
            break
        end = new + min(old_end, offset) - old_start
    return end


def _moved_section(section: Section, moved: list[tuple[int, int, int]]) -> Section:
    head_end = _new_end(section.start, moved)
    start = max(_new_start(section.start, moved, head_end), head_end)
    end = _new_end(section.end, moved)
    if end <= start:  # nothing of its body is left
        start = end = head_end
    return replace(section, start=start, end=end)


# -- copies -------------------------------------------------------------------------


def _one_per_canonical(documents: Sequence[Document]) -> tuple[list[Document], list[Skipped]]:
    """One document per canonical address (a page without one is its own)."""
    groups: dict[str, list[Document]] = {}
    for document in documents:
        groups.setdefault(document.canonical or _address(document), []).append(document)
    kept: list[Document] = []
    skipped: list[Skipped] = []
    for document in documents:
        group = groups[document.canonical or _address(document)]
        best = preferred(group)
        if document is best:
            kept.append(document)
        else:
            skipped.append(Skipped(_address(document), f"duplicate of {_address(best)}"))
    return kept, skipped


def _copies(documents: list[Document], own: list[list[str]]) -> dict[int, int]:
    """Which documents are copies (index → the index of the one kept): their own blocks
    are the same, or nearly (a print version's extra line; see ``duplicate_groups``)."""
    copies: dict[int, int] = {}
    for group in duplicate_groups(own):
        best = preferred([documents[i] for i in group])
        at = next(i for i in group if documents[i] is best)
        copies.update({i: at for i in group if i != at})
    return copies

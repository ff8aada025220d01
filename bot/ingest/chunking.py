"""Split corpus files into section-aware chunks. Pure functions, no I/O.

Plain-text guides have implicit headings (a short line without end punctuation followed by
body text); Markdown files have ``#`` headings. A chunk never crosses a section, its text
is an exact slice ``source_text[start:end]``, and what it needs to be understood on its own
(the heading path, a table's header row, a list's lead-in sentence) travels in ``context``
and is embedded with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from bot.index.sentences import (
    LIST_ITEM,
    MD_HEADING,
    NUMBERED,
    SENTENCE_END,
    TABLE_ROW,
    TABLE_RULE,
    split_sentences,
)
from bot.types import Chunk, Document

END_PUNCT = ".!?:;,"
MAX_HEADING_CHARS = 80
MAX_QUESTION_CHARS = 200


@dataclass(frozen=True)
class _Unit:
    kind: str  # heading | para | item | row | head | question
    start: int
    end: int
    text: str
    level: int = 0  # headings only


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()
    return digest[:20]


def chunk_loaded(document: Document, chunk_chars: int = 700) -> list[Chunk]:
    """Chunk what a loader made of a file or web page. Every type but plain text arrives
    as Markdown-flavoured text; each chunk learns its page's address (with the ``#id`` of
    its heading) and the PDF pages it lies on."""
    markdown = document.kind != "txt"
    entries = frozenset(" > ".join(s.path) for s in document.sections if s.question)
    chunks = chunk_document(document.text, document.source, chunk_chars, markdown, entries)
    anchors = {" > ".join(s.path): s.anchor for s in document.sections if s.anchor}
    out = []
    for chunk in chunks:
        url = document.url
        anchor = anchors.get(chunk.section, "")
        if url and anchor:
            url = f"{url.split('#', 1)[0]}#{anchor}"
        first, last = document.page_at(chunk.start), document.page_at(max(chunk.end - 1, 0))
        pages = "" if first is None else str(first) if first == last else f"{first}-{last}"
        out.append(replace(chunk, url=url, pages=pages))
    return out


def chunk_document(
    text: str,
    source: str,
    chunk_chars: int = 700,
    markdown: bool | None = None,
    entries: frozenset[str] = frozenset(),
) -> list[Chunk]:
    """Chunk one file's text. ``source`` is the name citations will show. A section whose
    title is a question, or whose path is in ``entries`` (FAQ entries a loader found,
    such as "Lost materials" in a list of policies), is one chunk: its answer, whole."""
    if markdown is None:
        markdown = source.lower().endswith((".md", ".markdown"))
    units = _label_units(_lines(text), markdown)
    chunks: list[Chunk] = []
    for path, section_units in _sections(units):
        section = " > ".join(path)
        entry = bool(path) and (path[-1].endswith("?") or section in entries)
        chunks.extend(_pack(section_units, section, source, text, chunk_chars, entry))
    return chunks


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    pos = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        yield pos, pos + len(line.rstrip()), line.rstrip()
        pos += len(raw)


def _label_units(lines: Iterator[tuple[int, int, str]], markdown: bool) -> list[_Unit]:
    raw = [(s, e, t) for s, e, t in lines if t.strip()]
    units: list[_Unit] = []
    for i, (start, end, line) in enumerate(raw):
        stripped = line.strip()
        nxt = raw[i + 1][2].strip() if i + 1 < len(raw) else ""
        md = MD_HEADING.match(stripped) if markdown else None
        if md:
            units.append(_Unit("heading", start, end, stripped, level=len(md.group(1))))
        elif TABLE_ROW.match(stripped):
            is_head = TABLE_RULE.match(nxt) is not None or TABLE_RULE.match(stripped) is not None
            units.append(_Unit("head" if is_head else "row", start, end, stripped))
        elif _is_question_line(stripped):
            after = raw[i + 2][2].strip() if i + 2 < len(raw) else ""
            if not markdown and _answer_follows(nxt, after):
                units.append(_Unit("heading", start, end, stripped))  # an FAQ entry
            else:
                units.append(_Unit("question", start, end, stripped))
        elif (
            not markdown
            and units
            and units[-1].kind == "heading"
            and units[-1].text.endswith("?")
            and _looks_like_heading(stripped, nxt)
        ):
            units.append(_Unit("para", start, end, stripped))  # a short answer stays one
        elif LIST_ITEM.match(stripped) and not (
            not markdown and _looks_like_heading(stripped, nxt)
        ):
            units.append(_Unit("item", start, end, stripped))
        elif not markdown and _looks_like_heading(stripped, nxt):
            units.append(_Unit("heading", start, end, stripped))
        elif units and units[-1].kind == "para" and _continues(units[-1].text, stripped, markdown):
            prev = units[-1]
            units[-1] = _Unit("para", prev.start, end, prev.text + " " + stripped)
        else:
            units.append(_Unit("para", start, end, stripped))
    return units


def _is_question_line(line: str) -> bool:
    return line.endswith("?") and len(line) <= MAX_QUESTION_CHARS and not _is_sentence_para(line)


def _answer_follows(nxt: str, after: str) -> bool:
    """Whether the line after a plain-text question line is its answer. Not when it is
    another question (a list of bare questions, like an FAQ index) or a heading over its
    own body; but a short answer without a full stop ("Building 4, second floor") that is
    followed by the next question or the end is an answer, not a heading."""
    if not nxt or _is_question_line(nxt) or TABLE_ROW.match(nxt):
        return False
    if _looks_like_heading(nxt, after):
        return not after or _is_question_line(after)
    return True


def _is_sentence_para(line: str) -> bool:
    # A paragraph that merely ends with a question (several sentences) is body text.
    return len(SENTENCE_END.findall(line)) >= 1


def _looks_like_heading(line: str, nxt: str) -> bool:
    if not nxt or len(line) > MAX_HEADING_CHARS or line[-1] in END_PUNCT:
        return False
    if TABLE_ROW.match(line) or not re.search(r"[A-Za-z]", line):
        return False
    # A numbered line followed by another numbered line is a list, not a heading.
    return not (LIST_ITEM.match(line) and LIST_ITEM.match(nxt))


def _continues(previous: str, line: str, markdown: bool) -> bool:
    """Hard-wrapped paragraph lines join their paragraph; separate paragraphs do not."""
    if markdown:
        return True
    return previous[-1] not in ".!?:" and line[0].islower()


def _sections(units: list[_Unit]) -> Iterator[tuple[list[str], list[_Unit]]]:
    """Group units under heading paths.

    Plain text has no heading levels, so they are inferred: a heading directly followed by
    another heading is a parent, and later headings stay its children while they look like
    the first child (both numbered, or both starting with the same word).
    """
    path: list[str] = []
    levels: list[int] = []
    child_shape: str | None = None
    current: list[_Unit] = []
    for i, unit in enumerate(units):
        if unit.kind != "heading":
            current.append(unit)
            continue
        if current and any(u.kind != "heading" for u in current):
            yield list(path), current
            current = []
        title = MD_HEADING.sub(r"\2", unit.text) if unit.level else unit.text
        if unit.level:  # Markdown: explicit levels
            while levels and levels[-1] >= unit.level:
                levels.pop()
                path.pop()
            levels.append(unit.level)
            path.append(title)
        else:
            nxt_is_heading = i + 1 < len(units) and units[i + 1].kind == "heading"
            if child_shape is not None and _shape(title) == child_shape:
                path = [*path[:1], title]
            elif nxt_is_heading:
                path = [title]
                child_shape = _shape(units[i + 1].text)
                current.append(unit)
                continue
            else:
                path = [title]
                child_shape = None
        current.append(unit)
    if current:
        yield list(path), current


def _shape(title: str) -> str:
    if title.endswith("?"):
        return "#question"  # FAQ entries are siblings whatever word they start with
    if NUMBERED.match(title):
        return "#numbered"
    return title.split()[0].lower() if title.split() else ""


def _pack(
    units: list[_Unit], section: str, source: str, text: str, chunk_chars: int, entry: bool
) -> Iterator[Chunk]:
    question = section.rsplit(" > ", 1)[-1] if entry else ""
    if question:
        # A question and its answer are one chunk however long the answer: each sentence
        # is still embedded on its own, so a long answer is found by the part asked about.
        chunk_chars = sum(len(u.text) + 1 for u in units)
    pieces = [p for u in units for p in _split_long(u, text, chunk_chars)]
    table_head = ""
    lead_in = ""
    group: list[_Unit] = []

    def flush() -> Iterator[Chunk]:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        body = text[start:end]
        context = []
        if lead_in and group[0].kind == "item" and lead_in not in body:
            context.append(lead_in)
        if table_head and group[0].kind == "row":
            context.append(table_head)
        answerless = all(u.kind in ("heading", "question") for u in group)
        has_question = any(u.kind == "question" for u in group)
        kind = "questions" if answerless and has_question else "text"
        yield Chunk(
            chunk_id(source, start, end, body),
            source,
            section,
            start,
            end,
            body,
            "\n".join(context),
            kind,
            question,
        )

    size = 0
    for i, unit in enumerate(pieces):
        if unit.kind == "head":
            table_head = unit.text if not TABLE_RULE.match(unit.text) else table_head
        if unit.kind == "para" and i + 1 < len(pieces) and pieces[i + 1].kind == "item":
            # The sentence that introduces the list, e.g. "Funding sources for US candidates:".
            lead_in = SENTENCE_END.split(unit.text)[-1]
        only_headings = all(u.kind == "heading" for u in group)
        if group and not only_headings and size + len(unit.text) + 1 > chunk_chars:
            yield from flush()
            group, size = [], 0
        group.append(unit)
        size += len(unit.text) + 1
    yield from flush()


def _split_long(unit: _Unit, text: str, chunk_chars: int) -> list[_Unit]:
    """Split an over-long paragraph at sentence ends so no chunk is much over budget."""
    if unit.kind != "para" or unit.end - unit.start <= chunk_chars:
        return [unit]
    probe = Chunk("", "", "", unit.start, unit.end, text[unit.start : unit.end])
    out: list[_Unit] = []
    for span in split_sentences(probe):
        if out and span.end - out[-1].start <= chunk_chars:
            last = out[-1]
            out[-1] = _Unit("para", last.start, span.end, last.text + " " + span.text)
        else:
            out.append(_Unit("para", span.start, span.end, span.text))
    return out

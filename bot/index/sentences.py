"""Sentences of a chunk: where each sentence, list item and table row lies, what it is
embedded as, and how it reads when quoted. Pure functions, no I/O."""

from __future__ import annotations

import re

from bot.types import Chunk, Span

MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+\S")
BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A sentence ends at . ! ? followed by space and something that starts a sentence,
# but not after abbreviations such as "e.g." or "U.S.".
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[$~]?[A-Z0-9])")
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "U.S.", "Dr.", "No.", "approx.", "Inc.", "St.")


def split_sentences(chunk: Chunk) -> list[Span]:
    """Sentences, list items and table rows of a chunk, with absolute offsets."""
    spans: list[Span] = []
    offset = 0
    lines = chunk.text.split("\n")
    for i, line in enumerate(lines):
        line_start = chunk.start + offset
        offset += len(line) + 1
        stripped = line.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not stripped or TABLE_RULE.match(stripped) or (stripped and TABLE_RULE.match(nxt)):
            continue  # blank, a table's rule line, or its header row (kept as context)
        heading = MD_HEADING.match(stripped)
        if heading:
            # A heading names its section (embedded with it) and answers nothing. An FAQ
            # entry's question is kept as a span of its own: it is matched against the
            # user's question (never quoted: it ends with "?").
            if chunk.question and heading.group(2) == chunk.question:
                at = line_start + line.index(chunk.question)
                spans.append(Span(at, at + len(chunk.question), chunk.question))
            continue
        lead = len(line) - len(line.lstrip())
        if TABLE_ROW.match(stripped) or stripped.endswith("?"):
            spans.append(Span(line_start + lead, line_start + lead + len(stripped), stripped))
            continue
        piece_start = lead
        for match in SENTENCE_END.finditer(line):
            candidate = line[piece_start : match.start()].rstrip("\"')]")
            if candidate.endswith(ABBREVIATIONS) or NUMBERED.fullmatch(candidate + " "):
                continue  # "e.g." or the "4." of a numbered heading ends no sentence
            spans.append(_span(line, line_start, piece_start, match.start()))
            piece_start = match.end()
        spans.append(_span(line, line_start, piece_start, len(line)))
    return [s for s in spans if s.text]


def sentence_embed_text(chunk: Chunk, span: Span) -> str:
    """What a sentence is embedded as: under its section title, table rows with their column
    names. (Also prefixing the first sentence of its list item was measured and dropped:
    gate fact recall 0.833 -> 0.789.)"""
    title = chunk.section.rsplit(" > ", 1)[-1]
    body = readable(span.text, chunk)
    return f"{title}: {body}" if title and title != span.text else body


PIECE_MIN_WORDS = 12
CLAUSE_BREAK = re.compile(r"; |: | — ")
LIST_SEPARATOR = re.compile(r", (?:and |or )?| and ")
A_WORD = re.compile(r"[^\W\d_]{3,}")


def sentence_pieces(chunk: Chunk, span: Span) -> list[str]:
    """Extra texts a long sentence is embedded as, each under its section title: its
    clauses, and the items of a list it holds. "Is ergonomics tested?" is close to
    "Safety: ergonomics" but far from the 40-word sentence that lists it among nine topics.
    Short sentences have none."""
    body = readable(span.text, chunk)
    if len(body.split()) < PIECE_MIN_WORDS:
        return []
    title = chunk.section.rsplit(" > ", 1)[-1]
    clauses = [c for c in CLAUSE_BREAK.split(body) if c.strip()]
    pieces: list[str] = []
    for clause in clauses:
        items = [x for x in LIST_SEPARATOR.split(clause) if x.strip()]
        if len(items) >= 3:
            pieces += items
        elif len(clauses) > 1:
            pieces.append(clause)
    prefix = f"{title}: " if title else ""
    return [f"{prefix}{p.strip()}" for p in pieces if A_WORD.search(p)]


def subject_of(span: Span, chunk: Chunk) -> str:
    """The heading a sentence leans on for its subject, when it is the first sentence right
    under that heading ("4. Maintenance Awareness" / "The module most directly relevant...").
    Empty when the sentence stands on its own."""
    offset = span.start - chunk.start
    line_start = chunk.text.rfind("\n", 0, offset) + 1
    if chunk.text[line_start:offset].strip() or line_start == 0:
        return ""  # not the first sentence of its line, or no line above it
    previous = chunk.text[chunk.text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1].strip()
    titles = chunk.section.split(" > ")
    if previous in titles:
        return NUMBERED.sub("", previous)
    return ""


def readable(text: str, chunk: Chunk) -> str:
    """A quote as it reads in prose: no list bullet; table rows labelled by the header."""
    if TABLE_ROW.match(text):
        header = table_header(chunk)
        cells = _cells(text)
        if header and len(header) == len(cells):
            return "; ".join(f"{h}: {c}" for h, c in zip(header, cells, strict=True)) + "."
        return ", ".join(cells) + "."
    if LIST_ITEM.match(text):
        return BULLET.sub("", text)
    return text


def table_header(chunk: Chunk) -> list[str]:
    """Column names: the row above the rule line, or the header carried in the context."""
    lines = chunk.text.split("\n")
    for i, line in enumerate(lines[:-1]):
        if TABLE_ROW.match(line) and TABLE_RULE.match(lines[i + 1].strip()):
            return _cells(line)
    carried = [line for line in chunk.context.split("\n") if TABLE_ROW.match(line)]
    return _cells(carried[0]) if carried else []


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _span(line: str, line_start: int, start: int, end: int) -> Span:
    piece = line[start:end]
    left = len(piece) - len(piece.lstrip())
    text = piece.strip()
    return Span(line_start + start + left, line_start + start + left + len(text), text)

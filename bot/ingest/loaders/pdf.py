"""PDF files with a text layer, read with pypdf (BSD; 5x faster than pdfplumber here and
it keeps word spaces that pdfplumber's defaults drop).

pypdf gives each line's text with its font and size, so the layout is rebuilt from that:
lines repeated at the top or bottom of most pages (running headers, "Page 3 of 9") and a
table of contents are dropped; headings are lines in a larger font, or bold numbered lines
("2.1 Qualifying exams") whose numbers follow on from the previous heading's, nested by
their numbering; wrapped lines are joined into paragraphs and list items, with words
hyphenated at a line end ("pro-" / "gram") joined again; a bold question line starts an
FAQ entry. Each heading records its page, and ``page_starts`` where each page begins.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from bot.errors import CorpusError
from bot.ingest.loaders.structure import TextBuilder, is_question, strip_q_prefix
from bot.types import Document

NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(\S.*)$")
BULLET = re.compile(r"^([•●▪■◦‣∙·*–—-]|\(?[a-z0-9]{1,2}[.)])\s+(?=\S)")
BULLET_GLYPHS = str.maketrans(dict.fromkeys("\x7f\x95\uf0b7\uf0a7\uf076\uf0d8\uf0fc", "•"))
SUB_BULLETS = ("◦", "–", "—", "-", "‣")
PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?\W*$", re.I)
TOC_LEADER = re.compile(r"(?:\.\s*){3,}\s*\d+$")
TOC_TITLE = re.compile(r"^(?:table of )?contents$", re.I)
TRAILING_PAGE = re.compile(r"\s+\d{1,3}$")
BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|,b\b|-b\b|bx", re.I)
LARGER = 1.15  # a heading font is at least this much larger than body text
PARA_GAP = 1.4  # a gap this many line spacings wide starts a new paragraph


@dataclass
class _Line:
    text: str
    size: float
    bold: bool
    y: float
    page: int
    kind: str = "body"  # body | heading | drop
    level: int = 0
    number: tuple[int, ...] = ()
    pieces: list[tuple[str, float, bool]] = field(default_factory=list)


def load_pdf(data: bytes, name: str) -> Document:
    path = name  # what error messages name
    from pypdf.errors import PyPdfError

    reader = _open(data, name)
    try:
        lines = [line for n, page in enumerate(reader.pages, 1) for line in _page_lines(page, n)]
    except PyPdfError as exc:  # a damaged object or page tree, or one past pypdf's limits
        raise CorpusError(path, _unreadable(exc)) from None
    if not any(c.isalnum() for line in lines for c in line.text):
        raise CorpusError(
            path,
            "has no text layer (a scanned PDF?): it needs OCR; export it with text or add a "
            "text version",
        )
    _drop_running_lines(lines, len(reader.pages))
    _drop_contents(lines)
    _find_headings(lines)
    builder = TextBuilder()
    _emit(lines, builder)
    text, sections, page_starts = builder.build()
    title = _metadata_title(reader) or next((s.title for s in sections), "")
    return Document(name, text, title, kind="pdf", sections=sections, page_starts=page_starts)


def _open(data: bytes, path: str):  # -> pypdf.PdfReader
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
    except (PyPdfError, OSError, ValueError) as exc:
        raise CorpusError(path, _unreadable(exc)) from None
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs only restrict editing: no password
        except (DependencyError, NotImplementedError) as exc:
            raise CorpusError(path, f"is encrypted in a way that cannot be read ({exc})") from None
        if not opened:
            raise CorpusError(
                path,
                "is encrypted (password-protected); save a copy without the password or add "
                "a text version",
            )
    return reader


def _unreadable(exc: Exception) -> str:
    return f"is not a readable PDF ({exc}); re-export it from its source app"


def _metadata_title(reader) -> str:
    try:
        title = (reader.metadata or {}).get("/Title") or ""
    except Exception:  # a damaged info dictionary only costs the title
        return ""
    return " ".join(str(title).split())


def _page_lines(page, number: int) -> list[_Line]:
    pieces: list[tuple[str, float, bool, float]] = []

    def visit(text, cm, tm, font, font_size) -> None:
        # The font's height on the page: its size scaled by the text and page matrices.
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = (font_size or 0) * math.hypot(c, d)
        name = str((font or {}).get("/BaseFont", ""))
        pieces.append((text, size, bool(BOLD_FONT.search(name)), y))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    current: list[tuple[str, float, bool]] = []
    y = 0.0

    def close() -> None:
        text = _normal("".join(t for t, _, _ in current))
        if text:
            words = [(t, s, b) for t, s, b in current if t.strip()]
            size = round(max(s for _, s, _ in words) * 2) / 2
            bold = all(b for _, _, b in words)
            lines.append(_Line(text, size, bold, y, number, pieces=words))
        current.clear()

    for text, size, bold, at in pieces:
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                close()
            if part:
                if not any(t.strip() for t, _, _ in current):
                    y = at
                current.append((part, size, bold))
    close()
    return lines


def _normal(text: str) -> str:
    # NFKC turns ligatures (ﬁ, ﬀ) and full-width forms into plain letters; symbol-font
    # bullets come out as private-use or control characters.
    text = unicodedata.normalize("NFKC", text).translate(BULLET_GLYPHS)
    return " ".join(text.split())


def _drop_running_lines(lines: list[_Line], pages: int) -> None:
    """Running headers/footers: a line (digits ignored) at the top or bottom of most pages,
    and bare page numbers there."""
    by_page: dict[int, list[_Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges = [page[:2] + page[-2:] for page in by_page.values()]
    seen: Counter[str] = Counter()
    for edge in edges:
        seen.update({_shape(line) for line in edge})
    for edge in edges:
        for line in edge:
            repeated = pages >= 3 and seen[_shape(line)] >= max(2, pages // 2)
            if repeated or PAGE_NUMBER.match(line.text):
                line.kind = "drop"


def _shape(line: _Line) -> str:
    return re.sub(r"\d+", "#", line.text.lower())


def _drop_contents(lines: list[_Line]) -> None:
    """A table of contents: dot-leader lines, or numbered lines ending in a page number
    whose title appears again later as a line of its own."""
    later = {line.text for line in lines}
    for i, line in enumerate(lines):
        if line.kind == "drop":
            continue
        stripped = TRAILING_PAGE.sub("", line.text)
        numbered = NUMBERED.match(line.text)
        if TOC_LEADER.search(line.text) or (
            numbered and stripped != line.text and stripped in later
        ):
            line.kind = "drop"
            previous = lines[i - 1] if i else None
            if previous is not None and TOC_TITLE.match(previous.text):
                previous.kind = "drop"


def _find_headings(lines: list[_Line]) -> None:
    body = [line for line in lines if line.kind == "body"]
    weights: Counter[float] = Counter()
    for line in body:
        weights[line.size] += len(line.text)
    if not weights:
        return
    body_size = weights.most_common(1)[0][0]
    previous: tuple[int, ...] | None = None
    for line in body:
        match = NUMBERED.match(line.text)
        title = match.group(2) if match else line.text
        shaped = len(line.text) <= 120 and title[:1].isupper() and title[-1] not in ".,;:"
        larger = line.size >= body_size * LARGER
        if match and shaped and (larger or line.bold):
            number = tuple(int(n) for n in match.group(1).split("."))
            if _follows(previous, number):
                line.kind, line.number, previous = "heading", number, number
                continue
        if larger and shaped and any(c.isalpha() for c in line.text):
            line.kind = "heading"
    _merge_wrapped_headings(lines)
    _levels([line for line in lines if line.kind == "heading"])


def _follows(previous: tuple[int, ...] | None, number: tuple[int, ...]) -> bool:
    """3.2 may follow 3.1, 3.1.4, 2 or 3 (and skip one, for a heading lost in extraction)."""
    if previous is None:
        return len(number) == 1 or all(n <= 2 for n in number)
    if number[:-1] == previous and number[-1] in (1, 2):
        return True
    for depth in range(1, len(previous) + 1):
        if number[:-1] == previous[: depth - 1] and len(number) == depth:
            return 0 < number[-1] - previous[depth - 1] <= 2
    return False


def _merge_wrapped_headings(lines: list[_Line]) -> None:
    previous: _Line | None = None
    for line in lines:
        if line.kind == "drop":
            continue
        if (
            previous is not None
            and line.kind == previous.kind == "heading"
            and not line.number
            and line.page == previous.page
            and line.size == previous.size
            and abs(previous.y - line.y) <= line.size * 1.6
        ):
            previous.text = f"{previous.text} {line.text}"
            line.kind = "drop"
            continue
        previous = line


def _levels(headings: list[_Line]) -> None:
    numbered = [h for h in headings if h.number]
    size_level: dict[float, int] = {}
    for h in numbered:
        size_level.setdefault(h.size, len(h.number))
    top = max((h.size for h in numbered), default=0.0)
    has_title = any(not h.number and h.size > top for h in headings) and bool(numbered)
    shift = 1 if has_title else 0
    unnumbered_sizes = sorted({h.size for h in headings if not h.number}, reverse=True)
    for h in headings:
        if h.number:
            h.level = len(h.number) + shift
        elif numbered and h.size > top:
            h.level = 1
        elif h.size in size_level:
            h.level = size_level[h.size] + shift
        elif numbered:
            h.level = max(size_level.values()) + shift + 1
        else:
            h.level = unnumbered_sizes.index(h.size) + 1


def _emit(lines: list[_Line], builder: TextBuilder) -> None:
    kept = [line for line in lines if line.kind != "drop"]
    spacing = _line_spacing(kept)
    block: list[_Line] = []
    for i, line in enumerate(kept):
        if line.kind == "heading":
            _flush(block, builder)
            block = []
            builder.heading(line.text, line.level, page=line.page)
            continue
        prev = kept[i - 1] if i else None
        if block and prev is not None and not _continues(prev, line, spacing):
            _flush(block, builder)
            block = []
        block.append(line)
    _flush(block, builder)


def _line_spacing(lines: list[_Line]) -> float:
    gaps = [
        round(a.y - b.y, 1)
        for a, b in itertools.pairwise(lines)
        if a.page == b.page and a.kind == b.kind == "body" and 0 < a.y - b.y < 3 * a.size
    ]
    return statistics.median(gaps) if gaps else 12.0


def _continues(prev: _Line, line: _Line, spacing: float) -> bool:
    if BULLET.match(line.text) or _question_lead(line):
        return False
    if prev.page != line.page:
        return prev.text[-1:] not in ".!?:"  # a sentence carried over the page break
    if prev.bold != line.bold and _question_lead(prev):
        return False
    return prev.y - line.y <= spacing * PARA_GAP


def _question_lead(line: _Line) -> bool:
    body, prefixed = strip_q_prefix(line.text)
    return (line.bold and is_question(body)) or (prefixed and is_question(body))


def _flush(block: list[_Line], builder: TextBuilder) -> None:
    if not block:
        return
    if _question_lead(block[0]):
        builder.entry(block[0].text, question=True)
        block = block[1:]
        if not block:
            return
    bullet = BULLET.match(block[0].text)
    text, pages = _join(block)
    if bullet:
        depth = 1 if bullet.group(1) in SUB_BULLETS else 0
        cut = bullet.end()
        builder.item(text[cut:], depth, pages=[(max(0, r - cut), p) for r, p in pages])
    else:
        builder.paragraph(text, pages=pages)


def _join(block: list[_Line]) -> tuple[str, list[tuple[int, int]]]:
    """The block's lines as one line, hyphenated words rejoined, with where each page's
    first line starts in it."""
    text = ""
    pages: list[tuple[int, int]] = []
    for line in block:
        if not text:
            start = 0
        elif re.search(r"[a-z]-$", text) and line.text[:1].islower():
            word = text.rsplit(" ", 1)[-1]
            # "pro-" + "gram" is one word; "start-of-" + "year" keeps its hyphens.
            text = text if word.count("-") > 1 else text[:-1]
            start = len(text)
        else:
            text += " "
            start = len(text)
        text += line.text
        if not pages or pages[-1][1] != line.page:
            pages.append((start, line.page))
    return text, pages

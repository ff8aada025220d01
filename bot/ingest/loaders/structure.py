"""Build a loader's Markdown-flavoured text and its sections in one pass.

Every loader except plain text turns its file into blocks (headings, paragraphs, list
items, table rows) and hands them to a ``TextBuilder``, so the text conventions and the
FAQ rules live in one place: a question in any of its forms (a heading, a bold line, a
``Q:`` line, a lone question paragraph followed by its answer) becomes a heading line whose
section has ``question=True`` and whose body is exactly the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.types import Section

Q_PREFIX = re.compile(r"^(?:Q|Question)\s*(?:[:.)\-–—]\s*|\s+(?=\S))", re.IGNORECASE)
A_PREFIX = re.compile(r"^(?:A|Answer)\s*[:.)\-–—]\s*", re.IGNORECASE)
# Two sentences ("Call us. We answer in a day?") are a paragraph, not a question line.
INNER_SENTENCE = re.compile(r"[.!]\s+[A-Z]")
LIST_MARKER = re.compile(r"^\s*(?:[-*+•–]|\d+[.)])\s+")
HEADING_LIKE = re.compile(r"^(#{1,6})(\s)")
MAX_QUESTION_CHARS = 300
SHORT_QUESTION_CHARS = 100
MAX_NAV_CHARS = 80
WS = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")


def clean_inline(text: str) -> str:
    """One line: whitespace runs collapsed, no line breaks."""
    return WS.sub(" ", text.replace("\n", " ")).strip()


def strip_q_prefix(text: str) -> tuple[str, bool]:
    """("How do I apply?", True) for "Q: How do I apply?"; the flag says a prefix was there.
    A bare "Q" word needs a question after it ("Q How...?"), so "Quarter" keeps its Q."""
    match = Q_PREFIX.match(text)
    if match and text[match.end() :].strip() and (match.group(0).strip() or text.endswith("?")):
        return text[match.end() :].strip(), True
    return text, False


def strip_a_prefix(text: str) -> str:
    return A_PREFIX.sub("", text, count=1)


def is_question(text: str) -> bool:
    """A question as FAQ pages write one: ends with "?", short, not a paragraph."""
    text = text.strip().rstrip("\"'”’)")
    if not text.endswith("?") or len(text) > MAX_QUESTION_CHARS:
        return False
    # "Call the office. It opens at 9. Questions?" is prose; a short line with an
    # abbreviation ("Can I park at St. Mary's?") is still a question.
    return len(text) <= SHORT_QUESTION_CHARS or not INNER_SENTENCE.search(text)


def is_question_line(text: str) -> bool:
    """A plain line that asks a question on its own: a question starting like a sentence."""
    body, _ = strip_q_prefix(text.strip())
    return bool(body) and (body[0].isupper() or body[0].isdigit()) and is_question(body)


@dataclass(frozen=True)
class Run:
    """A piece of inline text. ``bold``: inside <strong>/<b>/**; ``marked``: the page marks
    it as a question (class="question"); ``link``/``local_link``: inside a link / an
    in-page link (#top); ``brk``: a line break ("hard" <br> or "soft" Markdown newline)."""

    text: str
    bold: bool = False
    marked: bool = False
    local_link: bool = False
    brk: str = ""
    link: bool = False


@dataclass
class _Block:
    kind: str  # heading | para | item | row
    text: str
    level: int = 0
    question: bool | None = None
    anchor: str = ""
    page: int | None = None
    derived: bool = False  # a question heading made from a non-heading (bold, Q:, ...)
    pages: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, page)
    close_after: bool = False  # the FAQ entry it belongs to ends after this block


class TextBuilder:
    """Collects blocks in reading order; ``build()`` returns the text and its sections."""

    def __init__(self) -> None:
        self._blocks: list[_Block] = []
        self._explicit_level = 0
        self._after_question = False

    # -- headings -------------------------------------------------------------------
    def heading(
        self,
        title: str,
        level: int,
        *,
        question: bool | None = None,
        anchor: str = "",
        page: int | None = None,
    ) -> None:
        title, had_prefix = strip_q_prefix(clean_inline(title))
        if not title:
            return
        if question is None:
            question = had_prefix or is_question(title)
        level = max(1, min(level, 6))
        if not question:
            self._explicit_level = level  # entries nest under topics, not under questions
        self._blocks.append(_Block("heading", title, level, question, anchor, page))
        self._after_question = question

    def entry(self, title: str, *, question: bool | None = None, anchor: str = "") -> bool:
        """A heading made from an FAQ entry that is not a heading element (a <summary>, a
        <dt>, a bold or Q: line): one level under the last real heading. False (nothing
        added) when the title is empty."""
        title, had_prefix = strip_q_prefix(clean_inline(title))
        if not title:
            return False
        if question is None:
            question = had_prefix or is_question(title)
        level = min(self._explicit_level + 1, 6)
        self._blocks.append(_Block("heading", title, level, question, anchor, derived=True))
        self._after_question = question
        return True

    def close_entry(self) -> None:
        """The current FAQ entry (a <details>, a <dt>/<dd> pair) ends here: text after it
        belongs to the enclosing section, not to the last answer."""
        if self._blocks:
            self._blocks[-1].close_after = True

    # -- body -----------------------------------------------------------------------
    def paragraph(self, text: str, *, pages: Sequence[tuple[int, int]] = ()) -> None:
        lines = [WS.sub(" ", line).strip() for line in text.split("\n")]
        lines = [_escape(line) for line in lines if line]
        if not lines:
            return
        body = "\n".join(lines)
        if self._after_question:
            body = strip_a_prefix(body)
        self._blocks.append(_Block("para", body, pages=list(pages)))
        self._after_question = False

    def item(self, text: str, depth: int = 0, *, pages: Sequence[tuple[int, int]] = ()) -> None:
        text = clean_inline(text)
        if text:
            prefix = "  " * depth + "- "
            marks = [(rel + len(prefix), page) for rel, page in pages]
            self._blocks.append(_Block("item", prefix + text, pages=marks))
            self._after_question = False

    def table(self, rows: Sequence[Sequence[str]]) -> None:
        cells = [[clean_inline(c).replace("|", "/") for c in row] for row in rows]
        cells = [row for row in cells if any(row)]
        if not cells:
            return
        width = max(len(row) for row in cells)
        for i, row in enumerate(cells):
            padded = row + [""] * (width - len(row))
            self._blocks.append(_Block("row", "| " + " | ".join(padded) + " |"))
            if i == 0:
                self._blocks.append(_Block("row", "|" + " --- |" * width))
        self._after_question = False

    def block(self, runs: Sequence[Run], *, anchor: str = "") -> None:
        """One paragraph-like block of inline runs, with the FAQ rules applied: a block the
        page marks as a question, or whose first line is bold or ``Q:`` and asks a
        question, starts an entry; the rest of the block is its answer."""
        runs = [r for r in runs if r.brk or r.text]
        words = [r for r in runs if not r.brk and r.text.strip()]
        if not words or all(r.local_link for r in words):
            return  # empty, or only "Back to top"-style in-page links
        if all(r.link for r in words) and sum(len(r.text) for r in words) <= MAX_NAV_CHARS:
            return  # a bare link line ("Library Homepage"): navigation, not an answer
        lines = _split_lines(runs)
        first = lines[0]
        first_text = clean_inline("".join(r.text for r in first))
        first_words = [r for r in first if r.text.strip()]
        emphasised = bool(first_words) and all(r.bold or r.marked for r in first_words)
        marked = bool(first_words) and all(r.marked for r in first_words)
        stripped, had_prefix = strip_q_prefix(first_text)
        asks = is_question(stripped)
        starts_entry = (emphasised and (asks or had_prefix or marked)) or (had_prefix and asks)
        if starts_entry and len(first_text) <= MAX_QUESTION_CHARS:
            self.entry(first_text, question=True, anchor=anchor)
            rest = lines[1:]
        else:
            rest = lines
        if rest:
            self.paragraph(_join_lines(rest))

    # -- output ---------------------------------------------------------------------
    def build(self) -> tuple[str, tuple[Section, ...], tuple[int, ...]]:
        """The text, its sections, and the offsets where each page starts (PDF only)."""
        blocks = self._promote_lone_questions()
        parts: list[str] = []
        offsets: list[tuple[int, int]] = []  # (start, end) of each block in the text
        pos = 0
        page_marks: dict[int, int] = {}
        for i, b in enumerate(blocks):
            if i:
                tight = b.kind in ("item", "row") and blocks[i - 1].kind == b.kind
                sep = "\n" if tight else "\n\n"
                parts.append(sep)
                pos += len(sep)
            line = "#" * b.level + " " + b.text if b.kind == "heading" else b.text
            offsets.append((pos, pos + len(line)))
            for rel, page in b.pages:
                page_marks.setdefault(page, pos + _shift(b, rel))
            if b.page is not None:
                page_marks.setdefault(b.page, pos)
            parts.append(line)
            pos += len(line)
        text = "".join(parts) + ("\n" if parts else "")
        return text, _sections(blocks, offsets), _page_starts(page_marks, len(text))

    def _promote_lone_questions(self) -> list[_Block]:
        """A paragraph that is one question line, followed by a paragraph or list that is
        not a question, is an FAQ entry written without markup."""
        blocks = list(self._blocks)
        level = 0
        for i, b in enumerate(blocks):
            if b.kind == "heading" and not b.derived:
                level = b.level
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if (
                b.kind == "para"
                and "\n" not in b.text
                and is_question_line(b.text)
                and nxt is not None
                and nxt.kind in ("para", "item", "row")
                and not is_question_line(nxt.text)
            ):
                title, _ = strip_q_prefix(b.text)
                blocks[i] = _Block(
                    "heading", title, min(level + 1, 6), True, b.anchor, b.page, True, b.pages
                )
                blocks[i + 1].text = strip_a_prefix(nxt.text)
        return blocks


def _shift(block: _Block, rel: int) -> int:
    return rel + (block.level + 1 if block.kind == "heading" else 0)


def _escape(line: str) -> str:
    # A paragraph line that happens to start with "# " must not read as a heading.
    return HEADING_LIKE.sub(r"\\\1\2", line)


def _split_lines(runs: Sequence[Run]) -> list[list[Run]]:
    lines: list[list[Run]] = [[]]
    for r in runs:
        if r.brk:
            lines.append([r])  # keep the break so the rest can be rejoined as it was
        else:
            lines[-1].append(r)
    return [line for line in lines if any(not r.brk and r.text.strip() for r in line)]


def _join_lines(lines: Sequence[Sequence[Run]]) -> str:
    out: list[str] = []
    for i, line in enumerate(lines):
        for r in line:
            if r.brk:
                if i:
                    out.append("\n" if r.brk == "hard" else " ")
            else:
                out.append(r.text)
    return "".join(out)


def _sections(blocks: list[_Block], offsets: list[tuple[int, int]]) -> tuple[Section, ...]:
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for i, b in enumerate(blocks):
        if b.kind != "heading":
            continue
        while stack and stack[-1][0] >= b.level:
            stack.pop()
        stack.append((b.level, b.text))
        # The body runs to the next heading of the same or a higher level, or to the end
        # of the entry (a closed <details>), whichever comes first.
        last = i
        for j in range(i + 1, len(blocks)):
            if blocks[j].kind == "heading" and blocks[j].level <= b.level:
                break
            last = j
            if blocks[j].close_after and b.derived:
                break
        if last == i:
            start = end = offsets[i][1]
        else:
            start, end = offsets[i + 1][0], offsets[last][1]
        question = bool(b.question) and last > i  # a question with no answer is a heading
        path = tuple(title for _, title in stack)
        sections.append(Section(path, start, end, question, b.anchor, b.page))
    return tuple(sections)


def _page_starts(marks: dict[int, int], length: int) -> tuple[int, ...]:
    if not marks:
        return ()
    starts: list[int] = []
    for page in range(max(marks), 0, -1):
        starts.append(marks.get(page, starts[-1] if starts else length))
    return tuple(reversed(starts))

"""Plain-text files: the text exactly as written (offsets are the file's own), with its FAQ
structure found from the lines.

A question line (a line that starts like a sentence and ends with "?") followed by a line
that is not a question starts an FAQ entry; its answer is every line up to the next
question or heading, however short ("Building 4, second floor" stays an answer). ``Q:`` /
``A:`` prefixes are left in the text but kept out of the question and the answer span.
Other headings are short, unpunctuated lines standing alone (not right after a question);
the chunker still finds its own implicit headings in the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import CorpusError
from bot.ingest.loaders.structure import A_PREFIX, LIST_MARKER, is_question_line, strip_q_prefix
from bot.types import Document, Section

MAX_HEADING_CHARS = 80
END_PUNCT = ".!?:;,"


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # without trailing spaces
    text: str  # stripped
    blank_before: bool


def load_text(data: bytes, name: str) -> Document:
    text = decode_text(data, name)
    return Document(name, text, _title(text), kind="txt", sections=text_sections(text))


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise CorpusError(name, "looks binary (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            name, f"is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None


def text_sections(text: str) -> tuple[Section, ...]:
    lines = _lines(text)
    kinds = _kinds(lines)
    sections: list[Section] = []
    heading = ""
    for i, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if kind == "heading":
            heading = line.text
            last = _last_body_line(kinds, i, stop={"heading"})
            start, end = _span(lines, i, last)
            sections.append(Section((heading,), start, end))
        elif kind == "question":
            question, _ = strip_q_prefix(line.text)
            last = _last_body_line(kinds, i, stop={"heading", "question"})
            start, end = _span(lines, i, last)
            answer = A_PREFIX.match(text[start:end])
            start = start + answer.end() if answer and start + answer.end() < end else start
            path = (heading, question) if heading else (question,)
            sections.append(Section(path, start, end, question=True))
    return tuple(sections)


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    blank = True
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n").rstrip()
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            out.append(_Line(pos + lead, pos + len(body), stripped, blank))
        blank = not stripped
        pos += len(raw)
    return out


def _kinds(lines: list[_Line]) -> list[str]:
    kinds = ["body"] * len(lines)
    for i, line in enumerate(lines):
        prev = lines[i - 1] if i else None
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None:
            continue
        continues = prev is not None and not line.blank_before and prev.text[-1] in ",-"
        if (
            is_question_line(line.text)
            and not LIST_MARKER.match(line.text)
            and not continues
            and not is_question_line(nxt.text)
        ):
            kinds[i] = "question"
        elif (
            line.blank_before
            and (i == 0 or kinds[i - 1] != "question")
            and _looks_like_heading(line.text)
        ):
            kinds[i] = "heading"
    return kinds


def _looks_like_heading(text: str) -> bool:
    return (
        len(text) <= MAX_HEADING_CHARS
        and text[-1] not in END_PUNCT
        and any(c.isalpha() for c in text)
        and not LIST_MARKER.match(text)
        and "|" not in text
    )


def _last_body_line(kinds: list[str], i: int, stop: set[str]) -> int:
    last = i
    for j in range(i + 1, len(kinds)):
        if kinds[j] in stop:
            break
        last = j
    return last


def _span(lines: list[_Line], i: int, last: int) -> tuple[int, int]:
    if last == i:
        return lines[i].end, lines[i].end
    return lines[i + 1].start, lines[last].end


def _title(text: str) -> str:
    for raw in text.splitlines():
        if raw.strip():
            return raw.strip()[:200]
    return ""

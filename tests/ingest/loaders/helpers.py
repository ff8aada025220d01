"""Helpers of the loader tests: the sample files and the invariants every loaded
document must keep (sections point at real text, answers are exact)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.types import Document, Section

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
# Markup and template syntax that must never reach a loader's text.
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|\{\{|\}\}|\{%|%\}|\{#|#\}|<\?|\?>|<!--|-->|&[a-z]+;")


def section(doc: Document, title: str) -> Section:
    found = [s for s in doc.sections if s.title == title]
    assert found, f"no section {title!r}; have {[s.title for s in doc.sections]}"
    return found[0]


def body(doc: Document, title: str) -> str:
    s = section(doc, title)
    return doc.text[s.start : s.end]


def questions(doc: Document) -> dict[str, str]:
    return {s.title: doc.text[s.start : s.end] for s in doc.sections if s.question}


def check_consistent(doc: Document, *, heading_lines: bool = True) -> None:
    """Offsets in range, bodies trimmed, each heading present as a ``#`` line right before
    its body, every question with a non-empty answer that holds no heading."""
    for s in doc.sections:
        assert 0 <= s.start <= s.end <= len(doc.text), s
        text = doc.text[s.start : s.end]
        assert text == text.strip(), (s, text)
        if heading_lines:
            assert re.search(r"(?m)^#{1,6} " + re.escape(s.title) + "$", doc.text), s
            if text and not text.startswith("#"):
                before = doc.text[: s.start].rstrip("\n").rsplit("\n", 1)[-1]
                assert before.lstrip("#").strip() == s.title, (s, before)
        if s.question:
            assert text, s
            assert not re.search(r"(?m)^#{1,6} ", text), (s, text)

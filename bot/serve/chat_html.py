"""The Gradio chat's HTML, built by pure functions that escape each piece of text:
questions, answers, quotes and passages alike (the corpus is edited by hand, so it is
untrusted too). bot/serve/ui.py shows it with ``render_markdown=False``."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.types import Answer, Citation

NO_SOURCE_HTML = (
    '<p class="faq-muted">Ask a question, then pick one of its sources here to read the '
    "full passage, with the quoted sentence highlighted.</p>"
)
ABSTAIN_TIP = "Try asking in other words, or pick one of the suggested questions."
GREETING_CHARS = 200
# Markdown, HTML and autolinks are made of these ("www.x.com", "a@b.c", "&lt;"); letters,
# digits and spaces carry no markup.
PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
CITE_MARKER = re.compile(r"\[(\d{1,3})\]")
MARKDOWN_HEADING = re.compile(r"(?m)^#{1,6}[ \t]+")


def escape(text: object) -> str:
    """Text → HTML that shows exactly that text."""
    return html.escape(str(text if text is not None else ""), quote=True)


def _with_markers(escaped: str, numbers: set[int]) -> str:
    """Style ``[n]`` markers that point at a real citation; leave any other brackets as text."""
    sup = '<sup class="faq-cite" title="Source {0}">[{0}]</sup>'
    return CITE_MARKER.sub(
        lambda m: sup.format(int(m[1])) if int(m[1]) in numbers else m[0], escaped
    )


def _source_label(c: Citation) -> str:
    where = escape(c.source) + (f", p. {escape(c.pages)}" if c.pages else "")
    if c.url.startswith(("https://", "http://")):  # never a javascript: or data: address
        href = escape(c.url)
        where = f'<a href="{href}" target="_blank" rel="noopener noreferrer">{where}</a>'
    return (
        f'<span class="faq-src-n">[{c.n}]</span> '
        f'<span class="faq-src-section">{escape(c.section or "(no section)")}</span> '
        f'<span class="faq-src-file">· {where}</span>'
    )


def format_question(text: object, limit: int) -> str:
    """The user's message as shown in the chat; a huge paste is shortened, not echoed."""
    value = text if isinstance(text, str) else ""
    shown = escape(value[:limit])
    if len(value) > limit:
        shown += f'<span class="faq-muted"> … ({len(value) - limit:,} more characters)</span>'
    return f'<div class="faq-question">{shown}</div>'


def format_answer_text(text: str, citations: Sequence[Citation] = ()) -> str:
    """The answer body alone (also used while it streams in)."""
    numbers = {c.n for c in citations}
    return f'<div class="faq-answer">{_with_markers(escape(text), numbers)}</div>'


def format_sources(citations: Sequence[Citation]) -> str:
    """A collapsed "Sources" block: each citation's section, file and quoted sentence."""
    if not citations:
        return ""
    items = "".join(
        f'<li>{_source_label(c)}<blockquote class="faq-quote">{escape(c.quote)}</blockquote></li>'
        for c in citations
    )
    label = "Source" if len(citations) == 1 else f"Sources ({len(citations)})"
    return (
        f'<details class="faq-sources"><summary>{label}</summary>'
        f'<ol class="faq-src-list">{items}</ol></details>'
    )


def format_abstention(text: str) -> str:
    """Not an error: the guide does not cover it, and here is where to ask instead."""
    return (
        f'<div class="faq-abstain" role="note"><p>{escape(text)}</p>'
        f'<p class="faq-muted">{escape(ABSTAIN_TIP)}</p></div>'
    )


def format_answer(answer: Answer) -> str:
    if answer.abstained:
        return format_abstention(answer.text)
    return format_answer_text(answer.text, answer.citations) + format_sources(answer.citations)


def format_notice(message: str) -> str:
    """A problem with the message itself (empty, too long...), said as a chat reply."""
    return f'<div class="faq-notice" role="note">{escape(message)}</div>'


def format_passage(citation: Citation | None) -> str:
    """The full passage of one source, with the quoted sentence highlighted."""
    if citation is None:
        return NO_SOURCE_HTML
    # Loaders write headings as Markdown "#" lines: show the heading, not the marks.
    passage = MARKDOWN_HEADING.sub("", citation.passage or citation.quote)
    at = passage.find(citation.quote) if citation.quote else -1
    marked = f"<mark>{escape(citation.quote)}</mark>"
    if at >= 0:
        body = escape(passage[:at]) + marked + escape(passage[at + len(citation.quote) :])
    else:  # the quote was reworded (LLM mode): show both rather than guess a location
        body = f"{marked}\n\n{escape(passage)}"
    head = f'<div class="faq-passage-head">{_source_label(citation)}</div>'
    return f'{head}<div class="faq-passage">{body}</div>'


def greeting_from(text: str, limit: int = GREETING_CHARS) -> str:
    """A greeting, shown exactly as typed in the chat's placeholder: one short
    line, every ASCII punctuation mark as a numeric character reference ("!" -> "&#33;").
    Gradio renders the placeholder as markdown with HTML allowed; a reference is shown as
    its character but is never markup, in HTML or markdown (a backslash escape would be
    shown inside our ``<p>``, an HTML block where markdown is not read)."""
    printable = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    line = " ".join(printable.split())[:limit]
    return PUNCTUATION.sub(lambda m: f"&#{ord(m[0])};", line)


def source_choices(citations: Sequence[Citation]) -> list[tuple[str, str]]:
    # Radio labels render as text (not HTML) in Gradio, so no escaping here.
    return [(f"[{c.n}] {c.section or c.source}", str(c.n)) for c in citations]

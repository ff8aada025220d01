"""Markdown pages (Jekyll/Hugo/MkDocs sources): rendered to the shared plain-text shape.

What a site generator would not show as content goes first: front matter, HTML comments
(they often hide stale policies), Liquid/Jinja tags and expressions, PHP/ERB blocks. The
rest is parsed with markdown-it (CommonMark plus tables), so inline markup (``**``, links,
code spans) is reduced to its text and bold question lines become FAQ entries.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.ingest.loaders.html import add_fragment
from bot.ingest.loaders.structure import Run, TextBuilder, clean_inline
from bot.ingest.loaders.text import decode_text
from bot.types import Document

FRONT_MATTER = re.compile(
    r"\A(?:---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)
TITLE_FIELD = re.compile(r"^title\s*[:=]\s*(.+?)\s*$", re.M)
# Liquid {% comment %}/{% raw %} blocks first, then every remaining tag or expression.
TEMPLATE = re.compile(
    r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}"
    r"|\{#.*?#\}"
    r"|\{%.*?%\}"
    r"|\{\{.*?\}\}"
    r"|<\?(?:php|=)?.*?(?:\?>|\Z)"
    r"|<%.*?%>"
    r"|<!--.*?(?:-->|\Z)",
    re.S,
)
ATTR_LIST = re.compile(r"\s*\{:?\s*([^}]*)\}\s*$")  # kramdown "## Fees {#fees .big}"
ANCHOR_ID = re.compile(r"#([\w-]+)")
HTML_ANCHOR = re.compile(r"""<a\s[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.I)
SUMMARY = re.compile(r"<summary[^>]*>(.*?)</summary>", re.I | re.S)
TAG = re.compile(r"<[^>]+>")
BR = re.compile(r"<br\s*/?>", re.I)


def load_markdown(data: bytes, name: str) -> Document:
    text, title, sections = markdown_to_text(decode_text(data, name), name)
    return Document(name, text, title, kind="md", sections=sections)


def strip_templates(source: str) -> tuple[str, str]:
    """(body, front-matter title): front matter, comments and template tags removed."""
    title = ""
    match = FRONT_MATTER.match(source)
    if match:
        field = TITLE_FIELD.search(match.group(1))
        title = field.group(1).strip().strip("\"'") if field else ""
        source = source[match.end() :]
    return TEMPLATE.sub("", source), title


def markdown_to_text(source: str, name: str = "page") -> tuple[str, str, tuple]:
    body, title = strip_templates(source)
    # The commonmark preset's maxNesting (20) already cuts deep lists and quotes short.
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    builder = TextBuilder()
    _Renderer(builder, name).render(tokens)
    text, sections, _ = builder.build()
    if not title:
        title = next((s.title for s in sections if len(s.path) == 1), "")
    return text, title, sections


class _Renderer:
    def __init__(self, builder: TextBuilder, name: str) -> None:
        self.b = builder
        self.name = name  # what an error names
        self.depth = -1
        self.anchor = ""
        self.open_details = 0
        self.item_open = False
        self.row: list[str] = []
        self.rows: list[list[str]] = []

    def render(self, tokens: list[Token]) -> None:
        i = 0
        while i < len(tokens):
            i = self._token(tokens, i)

    def _token(self, tokens: list[Token], i: int) -> int:
        tok = tokens[i]
        kind = tok.type
        if kind == "heading_open":
            title = _inline_text(tokens[i + 1])
            anchor = self.anchor
            attrs = ATTR_LIST.search(title)
            if attrs:
                title = title[: attrs.start()]
                found = ANCHOR_ID.search(attrs.group(1))
                anchor = found.group(1) if found else anchor
            self.b.heading(title, int(tok.tag[1]), anchor=anchor)
            self.anchor = ""
            return i + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.depth -= 1
        elif kind == "list_item_open":
            self.item_open = True
        elif kind == "inline" and self._in_cell(tokens, i):
            self.row.append(_inline_text(tok))
        elif kind == "inline" and self.depth >= 0 and self.item_open:
            self.b.item(_inline_text(tok), self.depth)
            self.item_open = False  # a second paragraph of the item reads as a paragraph
        elif kind == "inline":
            self.b.block(_runs(tok), anchor=self.anchor)
            self.anchor = ""
        elif kind == "tr_close":
            self.rows.append(self.row)
            self.row = []
        elif kind == "table_close":
            self.b.table(self.rows)
            self.rows = []
        elif kind in ("fence", "code_block"):
            self.b.paragraph(tok.content)
        elif kind == "html_block":
            self._html(tok.content)
        return i + 1

    def _in_cell(self, tokens: list[Token], i: int) -> bool:
        return i > 0 and tokens[i - 1].type in ("th_open", "td_open")

    def _html(self, html: str) -> None:
        anchor = HTML_ANCHOR.search(html)
        if anchor and not clean_inline(TAG.sub("", html)):
            self.anchor = anchor.group(1)  # <a name="fees"></a> before a heading
            return
        opens, closes = html.lower().count("<details"), html.lower().count("</details>")
        summary = SUMMARY.search(html)
        if opens > closes and summary:
            # A <details> left open: its answer follows as Markdown, up to </details>.
            add_fragment(self.b, html[: summary.start()], self.name)
            if self.b.entry(clean_inline(TAG.sub("", summary.group(1)))):
                self.open_details += 1
            add_fragment(self.b, html[summary.end() :], self.name)
        elif closes > opens and self.open_details:
            cut = html.lower().index("</details>")
            add_fragment(self.b, html[:cut], self.name)
            self.b.close_entry()
            self.open_details -= 1
            add_fragment(self.b, html[cut + len("</details>") :], self.name)
        else:
            add_fragment(self.b, html, self.name)


def _runs(tok: Token) -> list[Run]:
    runs: list[Run] = []
    bold = 0
    for child in tok.children or []:
        kind = child.type
        if kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind in ("text", "code_inline"):
            runs.append(Run(child.content, bold=bold > 0))
        elif kind == "softbreak":
            runs.append(Run("\n", brk="soft"))
        elif kind == "hardbreak" or (kind == "html_inline" and BR.match(child.content)):
            runs.append(Run("\n", brk="hard"))
    return runs


def _inline_text(tok: Token) -> str:
    return clean_inline("".join(r.text if not r.brk else " " for r in _runs(tok)))

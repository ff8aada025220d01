"""HTML pages: the main content as Markdown-flavoured text, FAQ entries as sections.

Parsed with selectolax's Lexbor engine, which repairs broken markup as a browser does. The
walk keeps the page's main element (``<main>``, ``role=main``, a single ``<article>``,
``#content``) and drops what a reader never sees as content: navigation, banners and
footers, scripts, styles, forms, comments, hidden elements and in-page link lists (a table
of contents, "Back to top"). Measured against trafilatura on the shared corpora (see the
loaders' report): trafilatura loses the FAQ entries written as ``<p class="q">`` and all
anchors, and returns no question structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.errors import CorpusError
from bot.ingest.loaders.structure import Run, TextBuilder, clean_inline
from bot.types import Document

SKIP = {
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "head", "nav", "aside", "form", "button", "select", "input", "textarea",
    "img", "picture", "video", "audio", "map", "dialog", "link", "meta", "title",
}  # fmt: skip
BANNERS = {"header", "footer"}  # page banners, unless inside the main content
SKIP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "dialog",
              "alertdialog", "menu", "menubar", "toolbar"}  # fmt: skip
SKIP_CLASSES = {"breadcrumb", "breadcrumbs", "cookie", "cookies", "cookie-banner",
                "skip-link", "skiplink", "sr-only", "visually-hidden", "screen-reader-text",
                "navbar", "site-header", "site-footer", "share", "social"}  # fmt: skip
BLOCKS = {
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "html", "li", "main", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
NESTED = {"ul", "ol", "dl", "table", "details", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
HEADINGS = {f"h{n}": n for n in range(1, 7)}
BOLD = {"strong", "b"}
QUESTION_CLASS = re.compile(r"^(?:q|question|faq-?q(?:uestion)?|.*-question|question-.*)$")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")
MAIN_SELECTORS = ("main", "[role=main]", "#content", "#main-content", "#main", ".main-content")
# Deeper than any real page (they stay under 40). Lexbor's parse time grows with depth times
# elements (100,000 nested <div> take minutes) and the walk below recurses per level.
MAX_NESTING = 200
CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def load_html(data: bytes, name: str) -> Document:
    html = decode_html(data)
    tree = _parse(html, name)
    text, title, sections = _page_text(tree)
    if not text.strip():
        raise CorpusError(name, "has no text (the page's content may be drawn by JavaScript)")
    canonical = canonical_link(tree, name)
    return Document(name, text, title, kind="html", sections=sections, canonical=canonical)


def canonical_link(tree: LexborHTMLParser, name: str) -> str:
    """The address ``<link rel="canonical">`` names, made absolute against the page's own
    address (``name`` when it is one); "" when there is none or it cannot be resolved."""
    for node in tree.css("link[rel][href]"):
        if "canonical" not in (node.attributes.get("rel") or "").lower().split():
            continue
        href = (node.attributes.get("href") or "").strip()
        if urlsplit(name).scheme in ("http", "https"):
            href = urljoin(name, href)
        if urlsplit(href).scheme in ("http", "https"):
            return urldefrag(href).url
        return ""  # relative, on a file without an address: nothing to compare it with
    return ""


def decode_html(data: bytes) -> str:
    """Bytes as a browser would read them: BOM, then UTF-8, then the declared charset."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = CHARSET.search(data[:4096])
    encoding = declared.group(1).decode("ascii").lower() if declared else "cp1252"
    if encoding in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        encoding = "cp1252"  # what browsers use for these labels
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("cp1252", errors="replace")


def html_to_text(html: str, name: str = "page") -> tuple[str, str, tuple]:
    """(text, title, sections) of a whole page (``name``: what an error names)."""
    return _page_text(_parse(html, name))


def _parse(html: str, name: str) -> LexborHTMLParser:
    check_nesting(html, name)
    return LexborHTMLParser(html)


def _page_text(tree: LexborHTMLParser) -> tuple[str, str, tuple]:
    title_node = tree.css_first("title")
    title = clean_inline(title_node.text()) if title_node else ""
    root, found_main = _main_content(tree)
    builder = TextBuilder()
    if root is not None:
        _Walker(builder, in_main=found_main).walk(root, _Ctx())
    text, sections, _ = builder.build()
    if not title:
        h1 = tree.css_first("h1")
        title = clean_inline(h1.text()) if h1 else ""
    return text, title, sections


def add_fragment(builder: TextBuilder, html: str, name: str = "page") -> None:
    """Walk an HTML fragment (a raw HTML block inside Markdown) into ``builder``."""
    check_nesting(html, name)
    tree = LexborHTMLParser(f"<body>{html}</body>")
    if tree.body is not None:
        _Walker(builder, in_main=True).walk(tree.body, _Ctx())


def check_nesting(html: str, name: str) -> None:
    """Refuse markup nested over ``MAX_NESTING`` elements deep, measured before Lexbor
    parses it: libxml2 parses in linear time and stops at its own depth limit (256)."""
    parser = lxml.etree.HTMLParser(no_network=True, recover=True)
    try:
        root = lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    except lxml.etree.LxmlError:
        return  # nothing libxml2 can build a tree from: no nesting to speak of
    depth = deepest = 0
    if root is not None:
        for event, _ in lxml.etree.iterwalk(root, events=("start", "end")):
            depth += 1 if event == "start" else -1
            deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise CorpusError(
            name,
            f"has elements nested over {MAX_NESTING} deep (broken or hostile markup): fix "
            "the page's HTML",
        )


def _main_content(tree: LexborHTMLParser) -> tuple[LexborNode | None, bool]:
    for selector in MAIN_SELECTORS:
        node = tree.css_first(selector)
        if node is not None and clean_inline(node.text()):
            return node, True
    articles = tree.css("article")
    if len(articles) == 1:
        return articles[0], True
    return tree.body, False


@dataclass(frozen=True)
class _Ctx:
    bold: bool = False
    marked: bool = False
    local_link: bool = False
    link: bool = False
    in_main: bool = False
    depth: int = -1  # list nesting
    anchor: str = ""  # id of the nearest enclosing element


class _Walker:
    def __init__(self, builder: TextBuilder, *, in_main: bool) -> None:
        self.b = builder
        self.in_main = in_main
        self.runs: list[Run] = []
        self.pending_anchor = ""  # an empty <a name> / id'd element just before a heading

    # -- dispatch -------------------------------------------------------------------
    def walk(self, node: LexborNode, ctx: _Ctx) -> None:
        for child in node.iter(include_text=True):
            self.visit(child, ctx)
        self.flush(ctx)

    def visit(self, node: LexborNode, ctx: _Ctx) -> None:
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content or ""
            if text:
                self.runs.append(Run(text, ctx.bold, ctx.marked, ctx.local_link, link=ctx.link))
            return
        if tag.startswith("-") or tag.startswith("!") or self._skipped(node, tag, ctx):
            return
        attrs = node.attributes
        ident = attrs.get("id") or (attrs.get("name") if tag == "a" else None) or ""
        if ident and not clean_inline(node.text()):
            self.pending_anchor = ident
        inner = ctx
        if ident:
            inner = replace(inner, anchor=ident)
        if _is_question_class(attrs.get("class")):
            inner = replace(inner, marked=True)
        if tag in ("main", "article"):
            inner = replace(inner, in_main=True)
        if tag == "br":
            self.runs.append(Run("\n", brk="hard"))
        elif tag in HEADINGS:
            self.flush(ctx)
            self._heading(node, HEADINGS[tag], inner)
        elif tag in ("ul", "ol"):
            self.flush(ctx)
            if not _is_link_list(node, strict=not self.in_main):
                self._list(node, replace(inner, depth=ctx.depth + 1))
        elif tag == "dl":
            self.flush(ctx)
            self._definitions(node, inner)
        elif tag == "details":
            self.flush(ctx)
            self._details(node, inner)
        elif tag == "table":
            self.flush(ctx)
            self._table(node, inner)
        elif tag == "pre":
            self.flush(ctx)
            self.b.paragraph(node.text())
        elif tag in BLOCKS:
            self.flush(ctx)
            self.walk(node, inner)
        else:  # inline: <a>, <span>, <em>, <strong>, <abbr>, ...
            if tag in BOLD:
                inner = replace(inner, bold=True)
            href = (attrs.get("href") or "") if tag == "a" else ""
            if href:
                inner = replace(inner, link=True, local_link=href.startswith("#"))
            for child in node.iter(include_text=True):
                self.visit(child, inner)

    def flush(self, ctx: _Ctx) -> None:
        if self.runs:
            runs, self.runs = self.runs, []
            if any(r.text.strip() for r in runs):
                self.b.block(runs, anchor=self.pending_anchor or ctx.anchor)
                self.pending_anchor = ""

    # -- elements -------------------------------------------------------------------
    def _skipped(self, node: LexborNode, tag: str, ctx: _Ctx) -> bool:
        attrs = node.attributes
        if tag in SKIP or (tag in BANNERS and not ctx.in_main):
            return True
        if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
            return True
        if HIDDEN_STYLE.search((attrs.get("style") or "").lower()):
            return True
        if (attrs.get("role") or "").lower() in SKIP_ROLES:
            return True
        classes = set((attrs.get("class") or "").lower().split())
        return bool(classes & SKIP_CLASSES)

    def _heading(self, node: LexborNode, level: int, ctx: _Ctx) -> None:
        """The heading's own text; blocks inside it (an unclosed <h2> swallows the
        paragraphs after it, as a browser parses it) are walked as body after it."""
        children = list(node.iter(include_text=True))
        cut = next((i for i, c in enumerate(children) if c.tag in BLOCKS), len(children))
        runs: list[Run] = []
        for child in children[:cut]:
            tag = child.tag or "-"
            if tag == "-text":
                runs.append(Run(child.text_content or ""))
            elif not tag.startswith("-") and not self._skipped(child, tag, ctx):
                self._collect(child, ctx, runs, None)
        title = clean_inline("".join(r.text for r in runs))
        self.b.heading(title, level, anchor=self._anchor(node, ctx))
        for child in children[cut:]:
            self.visit(child, ctx)
        self.flush(ctx)

    def _anchor(self, node: LexborNode, ctx: _Ctx) -> str:
        own = node.attributes.get("id")
        if own:
            return own
        for a in node.css("a[name], [id]"):
            ident = a.attributes.get("id") or a.attributes.get("name")
            if ident:
                return ident
        anchor = self.pending_anchor or ctx.anchor
        self.pending_anchor = ""
        return anchor

    def _inline_text(self, node: LexborNode, ctx: _Ctx | None = None) -> str:
        runs: list[Run] = []
        self._collect(node, ctx or _Ctx(in_main=True), runs, None)
        return clean_inline("".join(r.text for r in runs))

    def _collect(
        self, node: LexborNode, ctx: _Ctx, runs: list[Run], nested: list[LexborNode] | None
    ) -> None:
        """The visible text under ``node`` as one line. With ``nested``, block structures
        (a sub-list, a table) are set aside there instead, to be walked after the item."""
        for child in node.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                runs.append(Run(child.text_content or ""))
            elif tag.startswith("-") or self._skipped(child, tag, ctx):
                continue
            elif nested is not None and tag in NESTED:
                nested.append(child)
            else:
                spaced = tag in BLOCKS or tag == "br"
                if spaced:
                    runs.append(Run(" "))
                self._collect(child, ctx, runs, nested)
                if spaced:
                    runs.append(Run(" "))

    def _list(self, node: LexborNode, ctx: _Ctx) -> None:
        for li in node.iter():
            if li.tag != "li" or self._skipped(li, "li", ctx):
                continue
            runs: list[Run] = []
            nested: list[LexborNode] = []
            self._collect(li, ctx, runs, nested)
            self.b.item("".join(r.text for r in runs), max(ctx.depth, 0))
            for child in nested:
                self.visit(child, ctx)
                self.flush(ctx)

    def _definitions(self, node: LexborNode, ctx: _Ctx) -> None:
        open_entry = False
        for child in node.iter():
            if child.tag == "dt":
                if open_entry:
                    self.b.close_entry()
                anchor = self._anchor(child, ctx)
                open_entry = self.b.entry(self._inline_text(child), anchor=anchor)
            elif child.tag == "dd":
                self.walk(child, ctx)
        if open_entry:
            self.b.close_entry()

    def _details(self, node: LexborNode, ctx: _Ctx) -> None:
        summary = node.css_first("summary")
        opened = False
        if summary is not None:
            anchor = node.attributes.get("id") or self._anchor(summary, ctx)
            opened = self.b.entry(self._inline_text(summary), anchor=anchor)
        for child in node.iter(include_text=True):
            if child.tag != "summary":
                self.visit(child, ctx)
        self.flush(ctx)
        if opened:
            self.b.close_entry()

    def _table(self, node: LexborNode, ctx: _Ctx) -> None:
        rows = [tr for tr in node.css("tr") if _nearest_table(tr) == node.mem_id]
        layout = any(
            inner.mem_id != node.mem_id
            for inner in node.css("table, ul, ol, dl, h1, h2, h3, h4, h5, h6, details, pre")
        )
        cells = [[c for c in tr.iter() if c.tag in ("td", "th")] for tr in rows]
        if layout or max((len(r) for r in cells), default=0) < 2:
            self.walk(node, ctx)  # a layout table: read its cells as blocks
            return
        self.b.table([[self._inline_text(c, ctx) for c in row] for row in cells])


def _is_question_class(classes: str | None) -> bool:
    return any(QUESTION_CLASS.match(c) for c in (classes or "").lower().split())


def _is_link_list(node: LexborNode, *, strict: bool) -> bool:
    """A table of contents (every item only an in-page #link) or, outside a main element,
    a menu (every item only links)."""
    items = [li for li in node.iter() if li.tag == "li"]
    if not items:
        return False
    for li in items:
        text = clean_inline(li.text())
        links = [a for a in li.css("a") if a.attributes.get("href")]
        link_text = clean_inline(" ".join(a.text() for a in links))
        if not links or link_text != text:
            return False
        local = all((a.attributes.get("href") or "").startswith("#") for a in links)
        if not local and not strict:
            return False
    return True


def _nearest_table(node: LexborNode) -> int | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent.mem_id if parent is not None else None

"""The plain data that passes between stages: loaders and the web fetcher hand ``Document``
to chunking. Frozen dataclasses only, no behaviour beyond small derived properties, so any
stage can import this module without importing another stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """One heading of a document and the span of ``Document.text`` it governs.

    ``path`` is the heading path, outermost first (the last item is this heading).
    ``start``/``end`` are offsets of the section's body (the text after the heading, up to
    the next heading of the same or a higher level) in ``Document.text``. A section whose
    heading is a question (an FAQ entry, in any of its forms) has ``question=True``: its
    body is the answer, kept whole. ``anchor`` is the heading's ``id`` on a web page
    (without ``#``), ``page`` the 1-based PDF page its heading is on."""

    path: tuple[str, ...]
    start: int
    end: int
    question: bool = False
    anchor: str = ""
    page: int | None = None

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass(frozen=True)
class Document:
    """What a loader makes of one file or web page.

    ``text`` is the extracted content: navigation, scripts, styles, hidden elements,
    comments, front matter and template tags are already gone. It is Markdown-flavoured
    plain text: headings are ``#`` lines (one ``#`` per level), list items start with
    ``- ``, and paragraphs are separated by a blank line, so one chunker serves every type.
    ``sections`` index the headings in ``text`` (offsets into it); ``page_starts[i]`` is
    the offset in ``text`` where PDF page ``i + 1`` begins (empty for other types)."""

    source: str  # the name citations show: path relative to the corpus, or the page's URL
    text: str
    title: str = ""
    url: str = ""  # the web address a citation links to ("" for a local file)
    kind: str = "text"  # "txt" | "md" | "html" | "pdf" | "docx" | "web"
    sections: tuple[Section, ...] = ()
    page_starts: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based PDF page holding ``offset``, or None for documents without pages."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Skipped:
    """A corpus file or web page that was not ingested, and why (shown in the summary)."""

    name: str
    reason: str


@dataclass(frozen=True)
class FetchedPage:
    """One web page as fetched: its bytes, its final URL after same-host redirects, and the
    validators a conditional request sends next time. ``not_modified``: the server answered
    304 and ``content`` is the cached copy (hash it to see nothing changed). ``stale``: this
    fetch failed (named in the skipped list) and ``content`` is the last good copy. ``links``:
    the page's same-host links (HTML only), absolute and without fragment."""

    url: str
    content: bytes
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    stale: bool = False
    links: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Chunk:
    """A contiguous slice of one corpus file, with what is needed to cite it."""

    id: str
    source: str
    section: str
    start: int
    end: int
    text: str
    context: str = ""
    kind: str = "text"  # "questions": only bare questions (an FAQ index), holds no answer
    question: str = ""  # an FAQ entry's question: the section is the question, text its answer
    url: str = ""  # a web page's address (with the heading's #id where it has one)
    pages: str = ""  # PDF pages the chunk lies on: "3" or "3-4"

    @property
    def embed_text(self) -> str:
        parts = [self.section, self.context, self.text]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Span:
    """A sentence, list item or table row inside a source file."""

    start: int
    end: int
    text: str

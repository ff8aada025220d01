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
    canonical: str = ""  # the address the page names as its own (<link rel="canonical">)

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
class SiteDocuments:
    """A run's documents with what repeats across the site taken out: ``duplicates`` are
    pages dropped as copies of another (reason "duplicate of <address>"),
    ``boilerplate_blocks`` the distinct repeated blocks recognised (navigation, footers,
    notices) and ``boilerplate_chars`` the characters they removed from all pages."""

    documents: tuple[Document, ...]
    duplicates: tuple[Skipped, ...] = ()
    boilerplate_blocks: int = 0
    boilerplate_chars: int = 0


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
class Progress:
    """How far one ingest stage has got: ``done`` of ``total`` (0: not known yet).

    ``stage`` is "fetching" (pages), "loading" (files and pages parsed), "chunking"
    (documents), "embedding" (texts) or "writing" (chunks and sentences stored)."""

    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class IngestCounts:
    """What one ingest did, as its summary, /healthz and the admin page show it. Web pages:
    ``fetched`` fresh, ``unchanged`` (304), ``failed`` (named with why in the summary; a
    failed page's last good copy is still indexed). ``duplicates``: documents left out as
    copies of another; ``boilerplate``: blocks repeated across pages, indexed once.
    ``stages``: (stage, seconds) in the order they ran."""

    time: float = 0.0  # Unix seconds when it finished
    seconds: float = 0.0
    files: int = 0  # corpus files read
    pages: int = 0  # web pages indexed
    fetched: int = 0
    unchanged: int = 0
    failed: int = 0
    duplicates: int = 0
    boilerplate: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0  # distinct texts embedded by this ingest
    reused: int = 0  # distinct texts whose vectors came from the previous generation
    stages: tuple[tuple[str, float], ...] = ()


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


# The answer path: question analysis -> retrieval -> answer composition.


@dataclass(frozen=True)
class Question:
    """What question analysis reads in a question, once, before retrieval.

    ``text`` is the question as typed; ``topic`` the earlier user turn(s) a follow-up leans
    on ("" when it stands alone); ``spelled`` the question with typos and chat shorthand
    read ("hw many" -> "how many"), what the model embeds and what the answer step reads
    for what is asked. ``tokens`` are its search words as the corpus spells them,
    ``unknown`` those the corpus never uses, ``reduced`` the question without them.
    ``kinds`` are the kinds of fact asked for ("date", "count", ...), ``counts`` what a
    "how many" counts, ``pinned`` the names and numbers a quote must mention,
    ``unknown_names`` names the corpus never mentions, ``listed`` the plural noun of
    "what are the modules?"."""

    text: str
    topic: str = ""
    spelled: str = ""
    topic_spelled: str = ""
    tokens: tuple[str, ...] = ()
    topic_tokens: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    reduced: str = ""
    kinds: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    pinned: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()
    listed: str = ""
    hints: tuple[str, ...] = ()  # shapes of answer a sentence earns a bonus for ("money", ...)
    several: bool = False  # asks more than one thing ("how many questions, how long...")
    wants_list: bool = False  # asks for a list or a breakdown, answered by the list whole


@dataclass(frozen=True)
class Hit:
    """A retrieved passage and its rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence (list item, table row) of a retrieved passage."""

    score: float
    dense: float
    chunk: Chunk
    span: Span


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for a question: scored passages and their scored sentences.

    ``unknown_meaning`` is how much of the question's meaning rests on words the corpus
    never uses (1 - cosine between the question and the question without them);
    ``outline`` the section listing the parts a "what are the modules?" asks for, with
    each part's first sentence."""

    question: Question
    hits: list[Hit]
    sentences: list[ScoredSentence] = field(default_factory=list)
    unknown_meaning: float = 0.0
    outline: tuple[str, tuple[ScoredSentence, ...]] = ("", ())
    # The reader's probability that the best candidate answers the question (None: no
    # reader ran); the answer step abstains below the reader's threshold.
    answerability: float | None = None


@dataclass(frozen=True)
class Citation:
    """``[n]`` of an answer: the quoted passage text and where to find it."""

    n: int
    source: str
    section: str
    quote: str  # the cited text, exactly as in the source file
    start: int  # offsets of the quote in the source file
    end: int
    passage: str = ""  # the whole chunk the quote came from
    url: str = ""  # the web page it is from (with the heading's #id), "" for a file
    pages: str = ""  # the PDF page(s) of its passage: "3" or "3-4"


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    passages: list[Chunk] = field(default_factory=list)  # what retrieval ranked highest
    evidence: float = 0.0  # the best sentence's score: how close the pages came to the question


# The question log (bot/insights/questionlog.py) and what the insights
# (bot/insights/grouping.py) make of it.


@dataclass(frozen=True)
class LoggedQuestion:
    """One question as a front end hands it to the log. ``question`` is as typed and
    ``client`` the rate limiter's key (an address): the log scrubs the one and keeps only a
    salted hash of the other, so neither reaches the store as given. ``turn`` -1: no vote
    can refer to it (the JSON API has no turns)."""

    time: float  # Unix seconds
    channel: str  # "chat" (the Gradio page), "widget" (the embed chat), "api" (/api/ask)
    question: str
    abstained: bool
    source: str = ""  # the passage retrieval ranked first, and its section
    section: str = ""
    score: float = 0.0  # the evidence score (Answer.evidence)
    latency_ms: float = 0.0
    origin: str = ""  # the site the widget is embedded in, or the API caller's Origin
    session: str = ""
    turn: int = -1
    client: str = ""


@dataclass(frozen=True)
class LoggedVote:
    """A thumbs up/down ("up", "down", or "cleared" when taken back) on one answer of a
    session. ``sections`` are the sections the answer cited."""

    time: float
    session: str
    turn: int
    vote: str
    question: str = ""
    answer: str = ""
    abstained: bool = False
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionRow:
    """A stored question (already scrubbed) with the latest vote on its answer ("" none)."""

    id: int
    time: float
    channel: str
    question: str
    abstained: bool
    source: str = ""
    section: str = ""
    score: float = 0.0
    latency_ms: float = 0.0
    origin: str = ""
    session: str = ""
    turn: int = -1
    vote: str = ""


@dataclass(frozen=True)
class Gap:
    """A group of questions the pages did not answer well (abstained or thumbs-down), by
    meaning: what page to write. ``source``/``section``/``score``: the nearest passage the
    assistant had for any of them, and its evidence score."""

    size: int
    examples: tuple[str, ...]  # up to three, the most typical first
    unanswered: int  # of ``size``: how many it abstained on (the rest got a thumbs-down)
    source: str = ""
    section: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class Topic:
    """A section that answered questions, and how many."""

    source: str
    section: str
    questions: int
    down: int = 0  # of them, answers voted down


@dataclass(frozen=True)
class Day:
    day: str  # "2026-12-01" (UTC)
    questions: int
    abstained: int
    up: int
    down: int


@dataclass(frozen=True)
class Insights:
    since: float  # Unix seconds: the window's start
    until: float
    questions: int
    abstained: int
    up: int
    down: int
    gaps: tuple[Gap, ...] = ()  # largest first
    topics: tuple[Topic, ...] = ()  # most asked first
    days: tuple[Day, ...] = ()  # oldest first, every day of the window (zeros included)

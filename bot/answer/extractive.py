"""The extractive answer: composed from the scored sentences retrieval returns.

It quotes the best sentence (list item, table row), the one after it in its passage and
up to two more that score close, or a whole list when one is asked for; sentences that run
on one line are one quote and one ``[n]`` marker. When the evidence is too weak, or no
strong sentence holds the kind of fact asked for, it abstains instead of guessing. The
optional LLM answer (``bot/answer/llm.py``) falls back to this one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.answer.kinds import answers_kind
from bot.config import Profile
from bot.index.sentences import LIST_ITEM, NUMBERED, readable, split_sentences, subject_of
from bot.index.text import tokenize
from bot.types import Answer, Chunk, Citation, Retrieval, ScoredSentence, Span

MAX_WORDS = 60
MAX_SENTENCES = 3
MAX_LIST_ITEMS = 6
SHORT_SENTENCE_WORDS = 8  # this short and not first on its line: it continues the one before
LEANING_WORDS = frozenset({"this", "that", "these", "those", "it", "they", "such"})
# A second or third sentence joins the answer only if it scores this close to the best.
SECONDARY_MIN_RATIO = 0.85
ABSTAIN_TEXT = Profile().not_covered  # the site profile's own text replaces it
UNKNOWN_MEANING_PENALTY = 1.0
TYPED_CANDIDATES = 6


def abstain(text: str = ABSTAIN_TEXT, passages: Sequence[Chunk] = ()) -> Answer:
    return Answer(text, [], True, list(passages))


class ExtractiveAnswerer:
    """Quote and condense the best sentences of the top passages."""

    def __init__(
        self,
        min_evidence: float = 0.26,
        not_covered: str = ABSTAIN_TEXT,
        reader_threshold: float = 0.5,
    ) -> None:
        self.min_evidence = min_evidence
        self.not_covered = not_covered  # the site profile's refusal and where to ask instead
        self.reader_threshold = reader_threshold  # see Retrieval.answerability

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        passages = [h.chunk for h in retrieval.hits]
        scored = retrieval.sentences
        asked = retrieval.question
        # A question about a thing the guide never names is not answered by what it does say.
        if not scored or asked.unknown_names or self._too_weak(scored, retrieval):
            return abstain(self.not_covered, passages)
        if retrieval.answerability is not None and retrieval.answerability < self.reader_threshold:
            return abstain(self.not_covered, passages)
        listing, listed = retrieval.outline
        if listed:  # "What are the modules?" is answered by the section that lists them
            return outline_answer(listing, listed[:MAX_LIST_ITEMS], passages)
        if asked.kinds:
            # Only sentences holding the kind of fact asked for (a year, a price...) can
            # answer; if no strong passage has one, the guide does not say.
            # A question asking several things spreads its words and names over them: no
            # one quote needs to share them.
            topic = (
                () if asked.several else tuple(t for t in asked.tokens if t not in asked.unknown)
            )
            # The strongest sentences, and every sentence of the best one's passage: the
            # fact may sit on the line after the one that matches the question best.
            pool = [
                x
                for i, x in enumerate(scored)
                if i < TYPED_CANDIDATES or x.chunk.id == scored[0].chunk.id
            ]
            typed = [
                x for x in pool if answers_kind(x, asked.kinds, asked.pinned, asked.counts, topic)
            ]
            if not typed:
                return abstain(self.not_covered, passages)
            # The best quote holds the fact; the rest of a question that asks several
            # things ("how many questions, how long...") may be answered by any sentence.
            rest = [x for x in scored if x not in typed] if asked.several else []
            scored = [*typed, *rest]
        selected = self._select(scored, asked.wants_list)
        chosen = [with_lead(item, selected) for item in selected]
        parts, citations = [], []
        for n, group in enumerate(runs(chosen), start=1):
            first = group[0]
            subject = subject_of(first.span, first.chunk)
            prefix = f"{subject} — " if subject else ""
            text = " ".join(readable(x.span.text, x.chunk) for x in group)
            parts.append(f"{prefix}{text} [{n}]")
            citations.append(citation(n, joined(group)))
        return Answer(" ".join(parts), citations, False, passages)

    def _too_weak(self, scored: Sequence[ScoredSentence], retrieval: Retrieval) -> bool:
        # The more of the question's meaning rests on words the guide never uses, the
        # stronger the evidence must be: "are calculators allowed?" is not answered by the
        # exam-format passage. Weighing meaning rather than counting words spares "help me
        # find..." (dev abstention 0.44 -> 0.53 at the same false-abstention rate).
        threshold = self.min_evidence + UNKNOWN_MEANING_PENALTY * retrieval.unknown_meaning
        return max(x.score for x in scored) < threshold

    def _select(self, scored: list[ScoredSentence], wants_list: bool) -> list[ScoredSentence]:
        best = scored[0]
        if wants_list and LIST_ITEM.match(best.span.text):
            whole = whole_list(best)
            if len(whole) >= 2:  # "what are the steps?" is answered by the steps, not one
                return whole
        if introduces_list(best):
            items = list_after(best, scored)
            if items:  # "...fall into one of three categories:" is answered by its list
                lead = [x for x in scored if _between(best, x) and not LIST_ITEM.match(x.span.text)]
                return [best, *sorted(lead, key=lambda x: x.span.start), *items]
        chosen = [best]
        words = _words(best.span.text)
        seen = set(tokenize(best.span.text))
        for item in scored[1:]:
            if len(chosen) == MAX_SENTENCES or item.score < best.score * SECONDARY_MIN_RATIO:
                break
            if item.span.text.rstrip().endswith(":"):
                continue  # a lead-in without its list says nothing
            tokens = set(tokenize(item.span.text))
            new = len(tokens - seen) / (len(tokens) or 1)
            if new < 0.5 or words + _words(item.span.text) > MAX_WORDS:
                continue
            chosen.append(item)
            words += _words(item.span.text)
            seen |= tokens
        after = next_sentence(best, scored)
        # The sentence after the best one in its passage often finishes its thought
        # ("...must meet your advisor." "Your advisor must email us approval.").
        if (
            after is not None
            and all(after.span.start != x.span.start for x in chosen)
            and words + _words(after.span.text) <= MAX_WORDS
            and not after.span.text.rstrip().endswith(":")
        ):
            chosen.append(after)
        # Read in document order, so a lead-in sentence comes before its detail.
        return sorted(chosen, key=lambda s: (s.chunk.source, s.span.start))


def next_sentence(item: ScoredSentence, pool: Sequence[ScoredSentence]) -> ScoredSentence | None:
    """The candidate sentence that follows ``item`` in its passage, if any."""
    later = [x for x in pool if x.chunk.id == item.chunk.id and x.span.start > item.span.start]
    return min(later, key=lambda x: x.span.start, default=None)


def runs(chosen: Sequence[ScoredSentence]) -> list[list[ScoredSentence]]:
    """Chosen sentences grouped into runs that follow each other on one line of one
    passage: a run is quoted, and cited, as one stretch of the page."""
    groups: list[list[ScoredSentence]] = []
    for item in chosen:
        if groups and runs_on(groups[-1][-1], item):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def runs_on(before: ScoredSentence, after: ScoredSentence) -> bool:
    """Does ``after`` follow ``before`` on the same line of the same passage?"""
    if before.chunk.id != after.chunk.id or before.span.end > after.span.start:
        return False
    gap = stretch(after.chunk, before.span.end, after.span.start).text
    return not gap.strip() and "\n" not in gap


def joined(group: Sequence[ScoredSentence]) -> ScoredSentence:
    """One run of sentences as one quote, exactly as the page has it."""
    first, last = group[0], group[-1]
    if len(group) == 1:
        return first
    span = stretch(first.chunk, first.span.start, last.span.end)
    return ScoredSentence(first.score, first.dense, first.chunk, span)


def stretch(chunk: Chunk, start: int, end: int) -> Span:
    """The chunk's text between two file offsets, as a span of the file."""
    return Span(start, end, chunk.text[start - chunk.start : end - chunk.start])


def citation(n: int, item: ScoredSentence) -> Citation:
    chunk, span = item.chunk, item.span
    return cite(n, chunk, span)


def cite(n: int, chunk: Chunk, span: Span) -> Citation:
    """Citation ``[n]`` of one sentence of a chunk, with where to find it."""
    return Citation(
        n, chunk.source, chunk.section, span.text, span.start, span.end, chunk.text,
        chunk.url, chunk.pages,
    )  # fmt: skip


def outline_answer(title: str, parts: Sequence[ScoredSentence], passages: list[Chunk]) -> Answer:
    """ "What are the modules?": the sub-section titles of the section that lists them, each
    cited with its first sentence ("The four required modules: Safety [1]; ...")."""
    names = [NUMBERED.sub("", item.chunk.section.split(" > ")[-1]) for item in parts]
    listed = "; ".join(f"{name} [{n}]" for n, name in enumerate(names, start=1))
    heading = title.split(" > ")[-1]
    return Answer(
        f"{heading}: {listed}.",
        [citation(n, item) for n, item in enumerate(parts, start=1)],
        False,
        passages,
    )


def with_lead(item: ScoredSentence, selected: Sequence[ScoredSentence] = ()) -> ScoredSentence:
    """A sentence that leans on the one before it on its line ("This is one reason...",
    "The most common category.") is quoted together with it: alone it says nothing.
    Not when that sentence is quoted anyway (``selected``)."""
    chunk, span = item.chunk, item.span
    words = span.text.split()
    leans = len(words) <= SHORT_SENTENCE_WORDS or (words and words[0].lower() in LEANING_WORDS)
    line_start = chunk.start + chunk.text.rfind("\n", 0, span.start - chunk.start) + 1
    if not leans or line_start == span.start:  # stands alone, or first on its line
        return item
    before = [s for s in split_sentences(chunk) if line_start <= s.start < span.start]
    if not before or any(x.span.start == before[-1].start for x in selected):
        return item
    return ScoredSentence(item.score, item.dense, chunk, stretch(chunk, before[-1].start, span.end))


def introduces_list(item: ScoredSentence) -> bool:
    """A sentence that ends with ":", or whose paragraph does ("Your grade is based on these
    weights. They vary by project:"), leads the list after it."""
    chunk = item.chunk
    rest = chunk.text[item.span.end - chunk.start :].split("\n", 1)[0]
    return (rest.strip() or item.span.text).rstrip().endswith(":")


def _between(lead: ScoredSentence, other: ScoredSentence) -> bool:
    """Whether ``other`` is a later sentence of the lead's own paragraph."""
    if other.chunk.id != lead.chunk.id or other.span.start <= lead.span.start:
        return False
    gap = lead.chunk.text[lead.span.end - lead.chunk.start : other.span.start - lead.chunk.start]
    return "\n" not in gap


def list_after(lead: ScoredSentence, pool: list[ScoredSentence]) -> list[ScoredSentence]:
    """The list items that directly follow a lead-in sentence, in order."""
    chunk = lead.chunk
    candidates = sorted(
        (x for x in pool if x.chunk.id == chunk.id and x.span.start > lead.span.start),
        key=lambda x: x.span.start,
    )
    items: list[ScoredSentence] = []
    cursor = lead.span.end
    for item in candidates:
        between = chunk.text[cursor - chunk.start : item.span.start - chunk.start]
        if "\n" in between and not LIST_ITEM.match(item.span.text):
            break  # a new line that is not a list item: the list is over
        if LIST_ITEM.match(item.span.text):
            items.append(item)
            if len(items) == MAX_LIST_ITEMS:
                break
        cursor = item.span.end
    return items


def whole_list(item: ScoredSentence) -> list[ScoredSentence]:
    """The list a list item belongs to, in order (each item's first sentence), led by the
    line above it when that line introduces it ("Bring these documents:")."""
    chunk = item.chunk
    lines: list[tuple[int, str]] = []  # (offset in the file, text) of each line
    offset = chunk.start
    for line in chunk.text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    at = max(i for i, (start, _) in enumerate(lines) if start <= item.span.start)
    first = last = at
    while first > 0 and LIST_ITEM.match(lines[first - 1][1]):
        first -= 1
    while last + 1 < len(lines) and LIST_ITEM.match(lines[last + 1][1]):
        last += 1
    above = first - 1
    while above >= 0 and not lines[above][1].strip():
        above -= 1
    if above >= 0 and lines[above][1].rstrip().endswith(":"):
        first = above
    wanted = {start for start, _ in lines[first : last + 1]}
    spans: dict[int, Span] = {}  # line start -> its first sentence
    for span in split_sentences(chunk):
        line_start = max(start for start, _ in lines if start <= span.start)
        if line_start in wanted:
            spans.setdefault(line_start, span)
    ordered = [spans[start] for start in sorted(spans)][: MAX_LIST_ITEMS + 1]
    return [ScoredSentence(item.score, item.dense, chunk, span) for span in ordered]


def _words(text: str) -> int:
    return len(text.split())

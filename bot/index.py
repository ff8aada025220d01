"""The in-memory view of one index generation that retrieval reads: chunks, BM25, sentence
vectors (with their clauses and list items), and the corpus's own words, so question words
can be respelled or matched to the word the guide uses."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.chunking import Chunk
from bot.store import GenerationStore, StoredSentence
from bot.text import (
    SHORTHAND,
    STOPWORDS,
    TOKEN,
    is_answer_candidate,
    is_fragment,
    stem,
    tokenize,
    words,
)

# What a misspelled function word was meant to be: "whats" is "what", not "what's".
SLIP_TARGETS = sorted(w for w in STOPWORDS if "'" not in w)
TOKEN_RUN = re.compile(r"[^\W\d_]+")
SPELL_MIN = 0.82
NAME = re.compile(r"\b[A-Z][^\W_]*")
# Where a capital marks no name: a sentence's start, and a person's own name ("I'm Maria").
SENTENCE_START = re.compile(r"(^|[.?!:]\s+|[\"'(]\s*|\bI'm\s+|\bI am\s+|\bname is\s+)$", re.I)
# Cosine a word needs to stand in for a corpus word: "salary"~"wage" 0.72, "test"~"exam" 0.67,
# but "refund"~"reimburse" 0.61 is another thing.
RELATED_WORD_MIN = 0.66
# A clause or list item of a long sentence stands in for the sentence when it is closer to
# the question by more than this (clauses are short, so they match loosely more often).
PIECE_MARGIN = 0.05
# A name or number in the question pins the fact asked for ("how much is OSHA 30"), unless
# it is in more than this share of passages: then it is the guide's topic ("CPT"), not a pin.
PIN_MAX_SHARE = 1 / 3
WORD = re.compile(TOKEN.pattern, re.I)  # text.TOKEN, keeping the case: "SMSCP", "Siemens"
# Where a capital marks no name in the guide: a line, sentence, list item or table cell start.
LINE_START = re.compile(r"(^[\s#>*-]*|[.?!:;|]\s+|[\"'(]\s*)$")
NUMBER = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Correction:
    """What one question word becomes: a search token (None: no topic in it), whether the
    corpus knows it, and its corrected spelling when it was a typo."""

    token: str | None
    known: bool
    spelled: str | None = None
    related: bool = False  # known only through a related corpus word ("salary" -> "wage")


def title_case(question: str) -> bool:
    """A Title Case Question: its capitals mark no names."""
    inner = [w for w in TOKEN_RUN.findall(question)[1:] if w != "I"]
    return sum(w[0].isupper() for w in inner) > len(inner) / 2


def proper_words(texts: Iterable[str]) -> frozenset[str]:
    """Words a text writes with a capital inside its sentences and never in lower case
    ("Siemens", "SMSCP"): names, even when a question types them in lower case."""
    lower: set[str] = set()
    cased: set[str] = set()
    for text in texts:
        for line in text.splitlines():
            for m in WORD.finditer(line):
                word = m[0]
                if word.islower():
                    lower.add(word)
                elif word.lower() != word and not LINE_START.search(line[: m.start()]):
                    cased.add(word.lower())
    return frozenset(w for w in cased - lower - STOPWORDS if len(w) > 1)


class CorpusIndex:
    """In-memory view of one index generation: chunks, BM25 and sentence vectors."""

    def __init__(
        self,
        store: GenerationStore,
        chunks: Sequence[Chunk],
        sentences: Sequence[StoredSentence],
        sentence_matrix: np.ndarray,
    ) -> None:
        from rank_bm25 import BM25Okapi

        self.store = store
        self.chunks = {c.id: c for c in chunks}
        self.order = [c.id for c in chunks]
        whole = [row for row, s in enumerate(sentences) if s.piece == 0]
        self.sentences = [sentences[row] for row in whole]
        self.sentence_matrix = sentence_matrix[whole] if len(whole) else sentence_matrix
        # Clause and list-item vectors, each pointing at the sentence row it belongs to.
        row_of = {(s.chunk_id, s.span.start): row for row, s in enumerate(self.sentences)}
        pieces = [
            row
            for row, s in enumerate(sentences)
            if s.piece and (s.chunk_id, s.span.start) in row_of
        ]
        self.piece_matrix = sentence_matrix[pieces] if pieces else np.zeros((0, 1), np.float32)
        self.piece_sentence = np.asarray(
            [row_of[(sentences[r].chunk_id, sentences[r].span.start)] for r in pieces],
            dtype=np.intp,
        )
        self.sentence_rows: dict[str, list[int]] = {}
        for row, sentence in enumerate(self.sentences):
            self.sentence_rows.setdefault(sentence.chunk_id, []).append(row)
        tokens = [tokenize(self.chunks[cid].embed_text) for cid in self.order]
        self.bm25 = BM25Okapi(tokens) if tokens else None
        self.vocabulary = frozenset(t for doc in tokens for t in doc)
        self.passage_count = Counter(t for doc in tokens for t in set(doc))
        self.sentence_tokens = [frozenset(tokenize(s.embed_text)) for s in self.sentences]
        # Fixed per sentence, so worked out once here rather than for every question.
        self.candidate = [
            is_answer_candidate(s.span.text, set(self.chunks[s.chunk_id].section.split(" > ")))
            for s in self.sentences
        ]
        self.fragment = [is_fragment(s.span.text) for s in self.sentences]
        # Words the guide always writes with a capital ("Siemens", "SMSCP"): names, even
        # when a question types them in lower case.
        self.proper_words = proper_words(c.text for c in chunks)
        self.term_words: list[str] = []
        self.term_matrix = np.zeros((0, 1), dtype=np.float32)
        self._embeddings: Embeddings | None = None
        self.known_words: frozenset[str] = frozenset()
        self._corrections: dict[str, Correction] = {}  # per generation: vocabulary fixed

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of every sentence to the question: the better of the whole sentence and
        (less the margin) its closest clause or list item."""
        if not self.sentences:
            return np.zeros(0, dtype=np.float32)
        sims = self.sentence_matrix @ vector
        if len(self.piece_sentence):
            np.maximum.at(sims, self.piece_sentence, self.piece_matrix @ vector - PIECE_MARGIN)
        return sims

    def idf(self, token: str) -> float:
        if self.bm25 is None:
            return 1.0
        return max(float(self.bm25.idf.get(token, self.bm25.average_idf)), 0.05)

    @classmethod
    def load(cls, store: GenerationStore, embeddings: Embeddings | None = None) -> CorpusIndex:
        sentences, matrix = store.all_sentences()
        index = cls(store, store.all_chunks(), sentences, matrix)
        if embeddings is not None:
            index.learn_related_words(embeddings)
        return index

    def learn_related_words(self, embeddings: Embeddings) -> None:
        """Embed the corpus's own words once, so a question word the guide never uses
        ("salary", "test") can be matched to the one it does use ("wage", "exam")."""
        surface = sorted({w for c in self.chunks.values() for w in words(c.text) if len(w) > 2})
        self.term_words = surface
        self.term_matrix = np.asarray(embeddings.embed_documents(surface), dtype=np.float32)
        self._embeddings = embeddings
        known = getattr(embeddings, "known_words", None)
        self.known_words = known() if known else frozenset()

    def related_word(self, word: str) -> str | None:
        if not len(self.term_words) or self._embeddings is None:
            return None
        vector = np.asarray(self._embeddings.embed_query(word), dtype=np.float32)
        sims = self.term_matrix @ vector
        best = int(np.argmax(sims))
        return self.term_words[best] if sims[best] >= RELATED_WORD_MIN else None

    def correct(self, question_words: list[str]) -> tuple[list[str], list[str]]:
        """Question words → (search tokens, tokens the corpus never uses)."""
        fixed: list[str] = []
        unknown: list[str] = []
        for word in question_words:
            found = self._correction(word)
            if found.token is None:
                continue
            fixed.append(found.token)
            if not found.known:
                unknown.append(found.token)
        return fixed, unknown

    def spell(self, question: str) -> str:
        """The question with its misspelled words fixed, for embedding: the model reads
        "wat does the qualty modul say" far worse than the corrected words."""
        return TOKEN_RUN.sub(lambda m: self._correction(m[0].lower()).spelled or m[0], question)

    def unknown_names(self, question: str) -> list[str]:
        """Capitalised words inside a sentence of the question ("in Ohio", "with CompTIA")
        the guide never uses: names of things it does not mention. A related word does not
        count ("Texas" is not "state"). None in a Title Case Question: capitals mark nothing."""
        found = [
            m for m in NAME.finditer(question) if not SENTENCE_START.search(question[: m.start()])
        ]
        if title_case(question):
            return []
        fixes = [(m[0], self._correction(m[0].lower())) for m in found]
        return [name for name, fix in fixes if fix.token and (fix.related or not fix.known)]

    def pinned(self, question: str) -> list[str]:
        """The names the guide knows and numbers after them that the question asks about
        ("Siemens", "SMSCP", "1" in "how much is Siemens SMSCP Level 1"): a quote that
        answers it must mention them. The guide's own topic ("CPT") pins nothing."""
        pins: list[str] = []
        previous: str | None = None
        titled = title_case(question)
        for m in WORD.finditer(question):
            word, lower = m[0], m[0].lower()
            if NUMBER.fullmatch(lower):
                if previous is not None and (previous in pins or previous == "level"):
                    pins.append(lower)
                previous = None
                continue
            fix = self._correction(lower)
            previous = fix.token
            if fix.token is None or not fix.known or fix.related or lower in STOPWORDS:
                continue
            capital = (
                word[0].isupper()
                and not titled
                and not SENTENCE_START.search(question[: m.start()])
            )
            # Typed in lower case, a name counts only when it is no English word as well:
            # "osha" is the name, "certified" may just be a word.
            typed_name = lower in self.proper_words and lower not in self.known_words
            if not (capital or word.isupper() or typed_name):
                continue
            share = self.passage_count[fix.token] / max(len(self.order), 1)
            if share <= PIN_MAX_SHARE and fix.token not in pins:
                pins.append(fix.token)
        return pins

    def outline(self, noun: str) -> tuple[str, list[str]]:
        """The section whose title names ``noun`` ("modules": "The four required modules")
        and its sub-sections' first chunks, in order. Only when exactly one section with
        two or more sub-sections names it; else ("", [])."""
        token = stem(noun)
        parts: dict[str, dict[str, str]] = {}
        for cid in self.order:
            *parent, child = self.chunks[cid].section.split(" > ")
            if parent:
                parts.setdefault(" > ".join(parent), {}).setdefault(child, cid)
        named = [
            (title, list(children.values()))
            for title, children in parts.items()
            if len(children) >= 2 and token in tokenize(title.split(" > ")[-1])
        ]
        return named[0] if len(named) == 1 else ("", [])

    def without(self, question: str, tokens: set[str]) -> str:
        """The question with the words that become one of ``tokens`` taken out."""
        return TOKEN_RUN.sub(
            lambda m: "" if self._correction(m[0].lower()).token in tokens else m[0], question
        )

    def _correction(self, word: str) -> Correction:
        if word not in self._corrections:
            if len(self._corrections) > 50_000:  # typed words are unbounded: cap memory
                self._corrections.clear()
            self._corrections[word] = self._correct_word(word)
        return self._corrections[word]

    def _correct_word(self, word: str) -> Correction:
        """Stem a question word; one the corpus never uses becomes a misspelling's fix or a
        related corpus word."""
        if word in SHORTHAND:
            return replace(self._correct_word(SHORTHAND[word]), spelled=SHORTHAND[word])
        token = stem(word)
        if token in self.vocabulary or token.isdigit() or word in STOPWORDS:
            return Correction(token, True)
        real_word = word in self.known_words
        if not real_word and len(word) >= 3:
            # "wat", "wich", "whats": a misspelled question word, not a topic
            slip = difflib.get_close_matches(word, SLIP_TARGETS, n=1, cutoff=0.75)
            if slip:
                return Correction(None, True, slip[0])
        if len(word) == 1:  # "n" for "and": no topic in one letter
            return Correction(None, True)
        # A real English word is no typo: "score" must not become "scope", or questions
        # the guide does not cover would look covered. "saftey" may become "safety".
        cutoff = 0.9 if real_word else 0.75
        close = difflib.get_close_matches(token, self.vocabulary, n=1, cutoff=cutoff)
        # Three letters ("exm") are a typo only when one letter is missing from a corpus word.
        if close and (len(token) >= 4 or (not real_word and len(close[0]) == 4)):
            # Respelled for the model only when surely the same word ("qualty"), not a
            # neighbour ("cheapest"/"cheaper" can be a fine match for search, not meaning).
            spelled = difflib.get_close_matches(word, self.term_words, n=1, cutoff=SPELL_MIN)
            return Correction(close[0], True, spelled[0] if spelled else None)
        for form in dict.fromkeys((word, token)):  # "tested" or else "test" may relate
            related = self.related_word(form)
            if related is not None:
                return Correction(stem(related), True, related=True)
        return Correction(token, False)

"""The in-memory view of one index generation that retrieval reads: chunks, BM25, sentence
vectors (with their clauses and list items), and the corpus's own words, so question words
can be respelled or matched to the word the guide uses."""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.index.names import WORD, initialisms, proper_words
from bot.index.store import GenerationStore, StoredSentence
from bot.index.text import (
    SHORTHAND,
    STOPWORDS,
    TOKEN,
    TOKEN_RUN,
    CloseWords,
    is_answer_candidate,
    is_fragment,
    starts_sentence,
    stem,
    title_case,
    tokenize,
    words,
)
from bot.types import Chunk

# What a misspelled function word was meant to be: "whats" is "what", not "what's".
SLIP_TARGETS = sorted(w for w in STOPWORDS if "'" not in w)
SPELL_MIN = 0.82
NAME = re.compile(r"\b[A-Z][^\W_]*")
# Cosine a word needs to stand in for a corpus word: "salary"~"wage" 0.72, "test"~"exam" 0.67,
# but "refund"~"reimburse" 0.61 is another thing.
RELATED_WORD_MIN = 0.66
# A clause or list item of a long sentence stands in for the sentence when it is closer to
# the question by more than this (clauses are short, so they match loosely more often).
PIECE_MARGIN = 0.05
# A name or number in the question pins the fact asked for ("how much is OSHA 30"), unless
# it is in more than this share of passages: then it is the pages' topic ("ILL" on a library
# FAQ), not a pin.
PIN_MAX_SHARE = 1 / 3
NUMBER = re.compile(r"\d+(\.\d+)?")
# A question is text of any length. Only its first this many distinct words the corpus does
# not use get a search (a spelling fix, then a related word: a model call, ~3 ms of CPU):
# 99% of the eval questions have at most 7 such words (the longest 13, its answer the same),
# a pasted 2,000 characters hundreds.
MAX_WORD_SEARCHES = 8
# Corrections kept of words the corpus does not use (typed words are unbounded): a few
# hundred bytes each, and a repeated question finds its words here.
CORRECTIONS_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Correction:
    """What one question word becomes: a search token (None: no topic in it), whether the
    corpus knows it, and its corrected spelling when it was a typo."""

    token: str | None
    known: bool
    spelled: str | None = None
    related: bool = False  # known only through a related corpus word ("salary" -> "wage")


Reading = dict[str, Correction]  # one question's words, each with what it becomes


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
        self.initialisms = initialisms(c.text for c in chunks)
        self.term_words: list[str] = []
        self.term_matrix = np.zeros((0, 1), dtype=np.float32)
        self._embeddings: Embeddings | None = None
        self.known_words: frozenset[str] = frozenset()
        self._slips = CloseWords(SLIP_TARGETS)
        self._close_tokens = CloseWords(self.vocabulary)
        self._close_terms = CloseWords(())
        # Per generation (the vocabulary is fixed), shared by the threads serving questions.
        self._corrections: OrderedDict[str, Correction] = OrderedDict()
        self._lock = threading.Lock()

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
        self._close_terms = CloseWords(surface)
        self.term_matrix = np.asarray(embeddings.embed_documents(surface), dtype=np.float32)
        self._embeddings = embeddings
        known = getattr(embeddings, "known_words", None)
        self.known_words = known() if known else frozenset()

    def related_words(self, words: Sequence[str]) -> dict[str, str | None]:
        """The corpus word each word means, if one is close enough: all in one model call."""
        found: dict[str, str | None] = dict.fromkeys(words)
        if not len(self.term_words) or self._embeddings is None or not found:
            return found
        # Not through the query-vector cache: the outcome is kept with the correction, and
        # the words of one long question must not push out the vectors of many questions.
        vectors = np.asarray(self._embeddings.embed_documents(list(found)), dtype=np.float32)
        # One matrix-vector product per word: a matrix-matrix one wakes BLAS's threads, whose
        # spinning took 10 ms of CPU per question (benchmarks/soak.py's mix).
        sims = [self.term_matrix @ vector for vector in vectors]
        for word, row in zip(found, sims, strict=True):
            best = int(np.argmax(row))
            found[word] = self.term_words[best] if row[best] >= RELATED_WORD_MIN else None
        return found

    def related_word(self, word: str) -> str | None:
        return self.related_words([word])[word]

    def read(self, *texts: str) -> Reading:
        """What every word of the texts (a question, the earlier one it leans on) becomes.
        Only the first MAX_WORD_SEARCHES distinct words that need a search (a spelling fix,
        a related word) get one; the rest count as words the corpus never uses."""
        words: list[tuple[int, str]] = []
        offset = 0  # the first text's words first
        for text in texts:
            lowered = text.lower().replace("’", "'")  # as search_words() reads it
            words += [(offset + m.start(), m[0]) for m in TOKEN.finditer(lowered)]
            words += [
                (offset + m.start(), m[0].lower())
                for pattern in (WORD, TOKEN_RUN, NAME)
                for m in pattern.finditer(text)
            ]
            offset += len(text) + 1
        fixes: Reading = {}
        searched: list[str] = []
        for _, word in sorted(words, key=lambda found: found[0]):
            base = SHORTHAND.get(word, word)
            if word in fixes or base in searched:
                continue
            plain = self._plain(base)
            if plain is None and len(searched) < MAX_WORD_SEARCHES:
                searched.append(base)
                continue
            fixes[word] = self._shorthand(word, plain or Correction(stem(base), False))
        done = self._searched(searched)
        for _, word in words:
            base = SHORTHAND.get(word, word)
            if word not in fixes and base in done:
                fixes[word] = self._shorthand(word, done[base])
        return fixes

    def correct(
        self, question_words: list[str], reading: Reading | None = None
    ) -> tuple[list[str], list[str]]:
        """Question words → (search tokens, tokens the corpus never uses)."""
        fixes = self.read(" ".join(question_words)) if reading is None else reading
        fixed: list[str] = []
        unknown: list[str] = []
        for word in question_words:
            found = self._fix(word, fixes)
            if found.token is None:
                continue
            fixed.append(found.token)
            if not found.known:
                unknown.append(found.token)
        return fixed, unknown

    def spell(self, question: str, reading: Reading | None = None) -> str:
        """The question with its misspelled words fixed, for embedding: the model reads
        "wat does the qualty modul say" far worse than the corrected words."""
        fixes = self.read(question) if reading is None else reading
        return TOKEN_RUN.sub(lambda m: self._fix(m[0].lower(), fixes).spelled or m[0], question)

    def unknown_names(self, question: str, reading: Reading | None = None) -> list[str]:
        """Capitalised words inside a sentence of the question ("in Ohio", "with CompTIA")
        the guide never uses: names of things it does not mention. A related word does not
        count ("Texas" is not "state"). None in a Title Case Question: capitals mark nothing."""
        if title_case(question):
            return []
        fixes = self.read(question) if reading is None else reading
        found = [m[0] for m in NAME.finditer(question) if not starts_sentence(question, m.start())]
        named = [(name, self._fix(name.lower(), fixes)) for name in found]
        return [name for name, fix in named if fix.token and (fix.related or not fix.known)]

    def pinned(self, question: str, reading: Reading | None = None) -> list[str]:
        """The names the guide knows and numbers after them that the question asks about
        ("Siemens", "SMSCP", "1" in "how much is Siemens SMSCP Level 1"): a quote that
        answers it must mention them. The pages' own topic pins nothing."""
        fixes = self.read(question) if reading is None else reading
        pins: list[str] = []
        previous: str | None = None
        titled = title_case(question)
        for m in WORD.finditer(question):
            word, lower = m[0], m[0].lower()
            if NUMBER.fullmatch(lower):
                if previous is not None and previous in pins:
                    pins.append(lower)
                previous = None
                continue
            fix = self._fix(lower, fixes)
            previous = fix.token
            if fix.token is None or not fix.known or fix.related or lower in STOPWORDS:
                continue
            capital = word[0].isupper() and not titled and not starts_sentence(question, m.start())
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

    def without(self, question: str, tokens: set[str], reading: Reading | None = None) -> str:
        """The question with the words that become one of ``tokens`` taken out."""
        fixes = self.read(question) if reading is None else reading
        return TOKEN_RUN.sub(
            lambda m: "" if self._fix(m[0].lower(), fixes).token in tokens else m[0], question
        )

    def cache_info(self) -> tuple[int, int]:
        """(words whose correction is kept, the most that are kept)."""
        return len(self._corrections), CORRECTIONS_CACHE_SIZE

    def _fix(self, word: str, reading: Reading) -> Correction:
        found = reading.get(word)
        if found is None:  # a word not read from the question's text: read on its own
            base = SHORTHAND.get(word, word)
            found = self._shorthand(word, self._plain(base) or self._searched([base])[base])
        return found

    @staticmethod
    def _shorthand(word: str, fix: Correction) -> Correction:
        """Chat shorthand reads as the word it stands for ("hrs" is "hours")."""
        return replace(fix, spelled=SHORTHAND[word]) if word in SHORTHAND else fix

    def _plain(self, word: str) -> Correction | None:
        """What a word the corpus uses, a stop word, a number or a letter becomes; None for
        a word that needs a search."""
        token = stem(word)
        if token in self.vocabulary or token.isdigit() or word in STOPWORDS:
            return Correction(token, True)
        if word in self.initialisms:  # "lbcc": the short form of a name the pages spell out
            return Correction(token, True)
        if len(word) == 1:  # "n" for "and": no topic in one letter
            return Correction(None, True)
        return None

    def _searched(self, words: list[str]) -> dict[str, Correction]:
        """Corrections of words the corpus never uses, kept (LRU) once worked out: a
        misspelling's fix, else a related corpus word (all looked up in one model call)."""
        with self._lock:
            done = {w: self._corrections[w] for w in words if w in self._corrections}
            for word in done:
                self._corrections.move_to_end(word)
        todo = [w for w in words if w not in done]
        spelled = {w: self._spelling(w) for w in todo}
        lookup = [w for w in todo if spelled[w] is None]
        related = self.related_words(lookup)
        # "tested" or else "test" may relate
        again = [stem(w) for w in lookup if related[w] is None and stem(w) != w]
        related.update(self.related_words([w for w in again if w not in related]))
        found: dict[str, Correction] = {}
        for word in todo:
            fix = spelled[word]
            if fix is None:
                means = related[word] or related.get(stem(word))
                fix = (
                    Correction(stem(means), True, related=True)
                    if means is not None
                    else Correction(stem(word), False)
                )
            found[word] = fix
        with self._lock:
            self._corrections.update(found)
            while len(self._corrections) > CORRECTIONS_CACHE_SIZE:
                self._corrections.popitem(last=False)
        return {**done, **found}

    def _spelling(self, word: str) -> Correction | None:
        """A misspelled word's fix, if it is one. A real English word is no typo: "score"
        must not become "scope", or questions the guide does not cover would look covered.
        "saftey" may become "safety"."""
        token = stem(word)
        if word in self.known_words:
            return None  # a real word is never respelled: "president" is not "residents"
        if len(word) >= 3:
            # "wat", "wich", "whats": a misspelled question word, not a topic
            slip = self._slips.best(word, 0.75)
            if slip:
                return Correction(None, True, slip)
        close = self._close_tokens.best(token, 0.75)
        # Three letters ("exm") are a typo only when one letter is missing from a corpus word.
        if close and (len(token) >= 4 or len(close) == 4):
            # Respelled for the model only when surely the same word ("qualty"), not a
            # neighbour ("cheapest"/"cheaper" can be a fine match for search, not meaning).
            return Correction(close, True, self._close_terms.best(word, SPELL_MIN))
        return None

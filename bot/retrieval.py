"""Hybrid retrieval: BM25 and dense search fused by reciprocal rank fusion.

Three ranked lists vote for each chunk: BM25 over the chunk text (with its heading and
context), Chroma's dense top-k over chunk vectors, and the best single-sentence similarity
inside each chunk (a precise fact in a long chunk should not be diluted). Follow-up
questions are resolved against earlier user turns before any of that runs.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.chunking import Chunk, Span
from bot.store import GenerationStore, StoredSentence
from bot.text import (
    DURATION,
    DURATION_QUESTION,
    MONEY_QUESTION,
    NUMBER_QUESTION,
    STOPWORDS,
    is_answer_candidate,
    is_fragment,
    resolve_query,
    stem,
    tokenize,
    words,
)

TOKEN_RUN = re.compile(r"[^\W\d_]+")
SPELL_MIN = 0.82
RRF_K = 60
CANDIDATES = 20
RERANK_FUSION_WEIGHT = 0.5  # how much the fused rank counts next to the best sentence
RERANK_PASSAGE_WEIGHT = 0.5  # ... and the whole passage's similarity
FRAGMENT_PENALTY = 0.1
# A sentence holding the question's rarest word (in at most this share of the passages)
# gets a bonus: "bundle" or "cybersecurity" pins the answer down where "CPT" cannot.
FOCUS_BONUS = 0.05
FOCUS_MAX_SHARE = 0.1
SENTENCE_DENSE = 0.65  # sentence score = meaning similarity ...
SENTENCE_LEXICAL = 0.25  # ... plus the idf-weighted share of question words it contains
# Cosine a word needs to stand in for a corpus word: "salary"~"wage" 0.72, "test"~"exam" 0.67,
# but "refund"~"reimburse" 0.61 is another thing.
RELATED_WORD_MIN = 0.66
# Weight of each ranked list in the fusion; measured on evals/datasets/dev.jsonl.
WEIGHTS = {"bm25": 1.0, "dense": 1.0, "sentence": 1.0}


@dataclass(frozen=True)
class Correction:
    """What one question word becomes: a search token (None: no topic in it), whether the
    corpus knows it, and its corrected spelling when it was a typo."""

    token: str | None
    known: bool
    spelled: str | None = None


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence, scored against the question."""

    score: float
    dense: float
    chunk: Chunk
    span: Span


@dataclass
class Retrieval:
    """What retrieval found, with the scored sentences the answer step picks from."""

    query: str
    hits: list[Hit]
    query_tokens: list[str]
    unknown_terms: list[str] = field(default_factory=list)
    sentences: list[ScoredSentence] = field(default_factory=list)
    # How much of the question's meaning rests on words the guide never uses: 1 - cosine
    # between the question and the question without them (0.0 when there are none).
    unknown_meaning: float = 0.0


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
        self.sentences = list(sentences)
        self.sentence_matrix = sentence_matrix
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
        self.term_words: list[str] = []
        self.term_matrix = np.zeros((0, 1), dtype=np.float32)
        self._embeddings: Embeddings | None = None
        self.known_words: frozenset[str] = frozenset()
        self._corrections: dict[str, Correction] = {}  # per generation: vocabulary fixed

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

    def _correction(self, word: str) -> Correction:
        if word not in self._corrections:
            if len(self._corrections) > 50_000:  # typed words are unbounded: cap memory
                self._corrections.clear()
            self._corrections[word] = self._correct_word(word)
        return self._corrections[word]

    def _correct_word(self, word: str) -> Correction:
        """Stem a question word; one the corpus never uses becomes a misspelling's fix or a
        related corpus word."""
        token = stem(word)
        if token in self.vocabulary or token.isdigit() or word in STOPWORDS:
            return Correction(token, True)
        real_word = word in self.known_words
        if not real_word and len(word) >= 3:
            # "wat", "wich", "whats": a misspelled question word, not a topic
            slip = difflib.get_close_matches(word, STOPWORDS, n=1, cutoff=0.75)
            if slip:
                return Correction(None, True, slip[0])
        if len(word) == 1:  # "n" for "and": no topic in one letter
            return Correction(None, True)
        # A real English word is no typo: "score" must not become "scope", or questions
        # the guide does not cover would look covered. "saftey" may become "safety".
        cutoff = 0.9 if real_word else 0.75
        close = difflib.get_close_matches(token, self.vocabulary, n=1, cutoff=cutoff)
        if close and len(token) >= 4:
            # Respelled for the model only when surely the same word ("qualty"), not a
            # neighbour ("cheapest"/"cheaper" can be a fine match for search, not meaning).
            spelled = difflib.get_close_matches(word, self.term_words, n=1, cutoff=SPELL_MIN)
            return Correction(close[0], True, spelled[0] if spelled else None)
        for form in dict.fromkeys((word, token)):  # "tested" or else "test" may relate
            related = self.related_word(form)
            if related is not None:
                return Correction(stem(related), True)
        return Correction(token, False)


class HybridRetriever:
    """Ranks chunks for a question (and its chat history) by fused BM25 + dense evidence."""

    def __init__(
        self,
        index: CorpusIndex,
        embeddings: Embeddings,
        k: int = 5,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.index = index
        self.embeddings = embeddings
        self.k = k
        self.weights = dict(WEIGHTS if weights is None else weights)

    def retrieve(
        self, question: str, history: Sequence[dict[str, str]] = (), k: int | None = None
    ) -> Retrieval:
        k = k or self.k
        question, topic = resolve_query(question, history)
        vector = question_vector = self._vector(self.index.spell(question))
        tokens, unknown = self.index.correct(words(question))
        bm25_tokens = list(tokens)
        if topic:
            # Read as one text, the model resolves "does that go up" against the earlier
            # question (better than averaging the two vectors: gate fact recall +0.01).
            vector = self._vector(self.index.spell(f"{topic} {question}"))
            bm25_tokens += self.index.correct(words(topic))[0]
        sims = self.index.sentence_matrix @ vector if self.index.sentences else np.zeros(0)
        if topic and self.index.sentences:
            # The topic finds the passage; which sentence answers is the new question's call.
            sims = (sims + self.index.sentence_matrix @ question_vector) / 2
        dense = self.index.store.search(vector.tolist(), CANDIDATES)
        fused = self._fuse(
            {
                "bm25": self._bm25(bm25_tokens),
                "dense": [cid for cid, _ in dense],
                "sentence": self._sentence_ranking(sims),
            }
        )[:CANDIDATES]
        sentences = self._score_sentences([cid for cid, _ in fused], sims, question, tokens)
        ranked = self._rerank(fused, sentences, dict(dense))
        hits = [
            Hit(self.index.chunks[cid], score, rank)
            for rank, (cid, score) in enumerate(ranked[:k], start=1)
        ]
        top = {h.chunk.id for h in hits}
        query = f"{topic} {question}".strip() if topic else question
        kept = [x for x in sentences if x.chunk.id in top]
        lost = self._unknown_meaning(question, question_vector, set(unknown))
        return Retrieval(query, hits, tokens, unknown, kept, lost)

    def _unknown_meaning(self, question: str, vector: np.ndarray, unknown: set[str]) -> float:
        """1 - cosine(question, question without the words the guide never uses): "are
        calculators allowed" loses most of its meaning without "calculators", "can you help
        me find a center" little without "help" and "find"."""
        if not unknown:
            return 0.0

        def known_only(match: re.Match[str]) -> str:
            return "" if self.index._correction(match[0].lower()).token in unknown else match[0]

        reduced = TOKEN_RUN.sub(known_only, question)
        if not words(reduced):
            return 1.0
        return max(0.0, 1.0 - float(self._vector(self.index.spell(reduced)) @ vector))

    def _score_sentences(
        self, chunk_ids: list[str], sims: np.ndarray, question: str, tokens: list[str]
    ) -> list[ScoredSentence]:
        """Score every sentence of the candidate chunks: meaning, shared rare words, and
        whether it has the kind of answer asked for (an amount, a number)."""
        q_tokens = set(tokens)
        # Words the corpus never uses cannot be matched by any sentence: leave them out here
        # (the answer step weighs them when deciding whether to abstain).
        q_weight = sum(self.index.idf(t) for t in q_tokens if t in self.index.vocabulary) or 1.0
        wants_money = bool(MONEY_QUESTION.search(question))
        wants_number = bool(NUMBER_QUESTION.search(question))
        wants_duration = bool(DURATION_QUESTION.search(question))
        focus = self._focus(q_tokens)
        scored = []
        for cid in chunk_ids:
            chunk = self.index.chunks[cid]
            for row in self.index.sentence_rows.get(cid, []):
                span = self.index.sentences[row].span
                if not self.index.candidate[row]:
                    continue
                shared = q_tokens & self.index.sentence_tokens[row]
                overlap = sum(self.index.idf(t) for t in shared) / q_weight
                bonus = 0.0
                if wants_money and "$" in span.text:
                    bonus += 0.08
                if wants_number and re.search(r"\d", span.text):
                    bonus += 0.05
                if wants_duration and DURATION.search(span.text) and re.search(r"\d", span.text):
                    bonus += 0.08
                if self.index.fragment[row]:
                    bonus -= FRAGMENT_PENALTY
                if focus and focus in self.index.sentence_tokens[row]:
                    bonus += FOCUS_BONUS
                dense = float(sims[row])
                scored.append(
                    ScoredSentence(
                        SENTENCE_DENSE * dense + SENTENCE_LEXICAL * overlap + bonus,
                        dense,
                        chunk,
                        span,
                    )
                )
        return sorted(scored, key=lambda x: -x.score)

    def _focus(self, q_tokens: set[str]) -> str | None:
        """The question's rarest word the guide uses, if it is rare enough to pin down the
        answer ("bundle", "cybersecurity") rather than the topic ("cpt", "module")."""
        known = [t for t in q_tokens if t in self.index.vocabulary]
        if not known:
            return None
        rarest = min(known, key=lambda t: (self.index.passage_count[t], t))
        share = self.index.passage_count[rarest] / max(len(self.index.order), 1)
        return rarest if share <= FOCUS_MAX_SHARE else None

    @staticmethod
    def _rerank(
        fused: list[tuple[str, float]],
        sentences: list[ScoredSentence],
        chunk_similarity: dict[str, float],
    ) -> list[tuple[str, float]]:
        """Order candidates by their best sentence, nudged by the fused rank and by how
        close the whole passage is to the question."""
        best: dict[str, float] = {}
        for item in sentences:
            best.setdefault(item.chunk.id, item.score)
        top = fused[0][1] if fused else 1.0
        scored = [
            (
                cid,
                best.get(cid, 0.0)
                + RERANK_FUSION_WEIGHT * score / top
                + RERANK_PASSAGE_WEIGHT * chunk_similarity.get(cid, 0.0),
            )
            for cid, score in fused
        ]
        return sorted(scored, key=lambda item: -item[1])

    def _vector(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def _bm25(self, tokens: list[str]) -> list[str]:
        if self.index.bm25 is None or not tokens:
            return []
        scores = self.index.bm25.get_scores(tokens)
        best = np.argsort(-scores)[:CANDIDATES]
        return [self.index.order[i] for i in best if scores[i] > 0]

    def _sentence_ranking(self, sims: np.ndarray) -> list[str]:
        ranked: list[str] = []
        for row in np.argsort(-sims):
            cid = self.index.sentences[row].chunk_id
            if cid not in ranked:
                ranked.append(cid)
            if len(ranked) == CANDIDATES:
                break
        return ranked

    def _fuse(self, rankings: dict[str, list[str]]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for name, ids in rankings.items():
            weight = self.weights.get(name, 0.0)
            for rank, cid in enumerate(ids, start=1):
                scores[cid] = scores.get(cid, 0.0) + weight / (RRF_K + rank)
        # A chunk of bare FAQ questions holds no answers: never hand it to the answer step.
        fused = [(c, s) for c, s in scores.items() if self.index.chunks[c].kind != "questions"]
        return sorted(fused, key=lambda item: -item[1])


class FaqRetriever(BaseRetriever):
    """LangChain wrapper, so the hybrid retriever drops into any LangChain chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    hybrid: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        retrieval = self.hybrid.retrieve(query, k=self.k)
        return [
            Document(
                page_content=hit.chunk.text,
                id=hit.chunk.id,
                metadata={
                    "source": hit.chunk.source,
                    "section": hit.chunk.section,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "score": hit.score,
                    "rank": hit.rank,
                },
            )
            for hit in retrieval.hits
        ]

"""Hybrid retrieval: BM25 and dense search fused by reciprocal rank fusion.

Three ranked lists vote for each chunk: BM25 over the chunk text (with its heading and
context), Chroma's dense top-k over chunk vectors, and the best single-sentence similarity
inside each chunk (a precise fact in a long chunk should not be diluted). Follow-up
questions are resolved against earlier user turns before any of that runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.chunking import Chunk
from bot.store import GenerationStore, StoredSentence

RRF_K = 60
CANDIDATES = 20
# Weight of each ranked list in the fusion; measured on evals/datasets/dev.jsonl.
WEIGHTS = {"bm25": 1.0, "dense": 1.0, "sentence": 1.0}
FOLLOW_UP_WEIGHT = 0.35  # share of the earlier question in a follow-up's query vector

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself get got tell know want need please much many long""".split()
)
ANAPHORA = frozenset("it its that this they them those these one ones there he she".split())
CONNECTIVES = ("and ", "what about", "how about", "also", "so ", "then ", "but ", "or ")
TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def stem(word: str) -> str:
    """A light suffix stemmer: enough to match 'modules'/'module', 'funding'/'funded'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    words = TOKEN.findall(text.lower().replace("’", "'"))
    return [stem(w) for w in words if w not in STOPWORDS]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int


@dataclass
class Retrieval:
    """What retrieval found, with what the answer step needs to pick sentences."""

    query: str
    hits: list[Hit]
    query_vector: np.ndarray
    query_tokens: list[str]
    unknown_terms: list[str] = field(default_factory=list)


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

    @classmethod
    def load(cls, store: GenerationStore) -> CorpusIndex:
        sentences, matrix = store.all_sentences()
        return cls(store, store.all_chunks(), sentences, matrix)

    def correct(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        """Map misspelt query words to the closest corpus word; report words still unknown."""
        fixed, unknown = [], []
        for token in tokens:
            if token in self.vocabulary or token.isdigit():
                fixed.append(token)
                continue
            close = difflib.get_close_matches(token, self.vocabulary, n=1, cutoff=0.8)
            if close and len(token) >= 4:
                fixed.append(close[0])
            else:
                fixed.append(token)
                unknown.append(token)
        return fixed, unknown


def resolve_query(question: str, history: Sequence[dict[str, str]]) -> tuple[str, str]:
    """Return (question, topic): topic is the earlier question a follow-up leans on, or ''."""
    topic = ""
    for turn in history:
        if turn.get("role") == "user" and turn.get("content", "").strip():
            text = turn["content"].strip()
            topic = f"{topic} {text}".strip() if is_follow_up(text) and topic else text
    if topic and is_follow_up(question):
        return question, topic[-600:]
    return question, ""


def is_follow_up(question: str) -> bool:
    lowered = question.lower().strip()
    words = TOKEN.findall(lowered)
    if not words:
        return False
    if lowered.startswith(CONNECTIVES) or any(w in ANAPHORA for w in words):
        return True
    return len(tokenize(question)) <= 1


class HybridRetriever:
    """Ranks chunks for a question (and its chat history) by fused BM25 + dense evidence."""

    def __init__(
        self, index: CorpusIndex, embeddings: Embeddings, k: int = 5,
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
        vector = self._vector(question)
        tokens, unknown = self.index.correct(tokenize(question))
        bm25_tokens = list(tokens)
        if topic:
            vector = vector * (1 - FOLLOW_UP_WEIGHT) + self._vector(topic) * FOLLOW_UP_WEIGHT
            vector /= np.linalg.norm(vector) or 1.0
            bm25_tokens += self.index.correct(tokenize(topic))[0]
        ranked = self._fuse(
            {
                "bm25": self._bm25(bm25_tokens),
                "dense": [cid for cid, _ in self.index.store.search(vector.tolist(), CANDIDATES)],
                "sentence": self._sentence_ranking(vector),
            }
        )
        hits = [
            Hit(self.index.chunks[cid], score, rank)
            for rank, (cid, score) in enumerate(ranked[:k], start=1)
        ]
        query = f"{topic} {question}".strip() if topic else question
        return Retrieval(query, hits, vector, tokens, unknown)

    def _vector(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def _bm25(self, tokens: list[str]) -> list[str]:
        if self.index.bm25 is None or not tokens:
            return []
        scores = self.index.bm25.get_scores(tokens)
        best = np.argsort(-scores)[:CANDIDATES]
        return [self.index.order[i] for i in best if scores[i] > 0]

    def _sentence_ranking(self, vector: np.ndarray) -> list[str]:
        if not self.index.sentences:
            return []
        sims = self.index.sentence_matrix @ vector
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
                    "source": hit.chunk.source, "section": hit.chunk.section,
                    "start": hit.chunk.start, "end": hit.chunk.end, "score": hit.score,
                    "rank": hit.rank,
                },
            )
            for hit in retrieval.hits
        ]

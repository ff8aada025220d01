"""Hybrid retrieval: BM25 and dense search fused by reciprocal rank fusion.

Three ranked lists vote for each chunk: BM25 over the chunk text (with its heading and
context), Chroma's dense top-k over chunk vectors, and the best single-sentence similarity
inside each chunk (a precise fact in a long chunk should not be diluted). It reads the
question as question analysis (``bot/answer/question.py``) left it: follow-ups resolved, words
respelled; it returns scored passages and sentences, and composes nothing.
"""

from __future__ import annotations

import re

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.index.corpus_index import CorpusIndex
from bot.index.text import DURATION, PRICE, SALARY, words
from bot.types import Hit, Question, Retrieval, ScoredSentence

RRF_K = 60
CANDIDATES = 20
RERANK_FUSION_WEIGHT = 0.5  # how much the fused rank counts next to the best sentence
RERANK_PASSAGE_WEIGHT = 0.5  # ... and the whole passage's similarity
FRAGMENT_PENALTY = 0.1
# A sentence holding the question's rarest word (in at most this share of the passages)
# gets a bonus: "bundle" or "cybersecurity" pins the answer down where the pages' topic cannot.
FOCUS_BONUS = 0.025  # half its old 0.05 (README "What moved the figures")
FOCUS_MAX_SHARE = 0.1
SENTENCE_DENSE = 0.65  # sentence score = meaning similarity ...
SENTENCE_LEXICAL = 0.25  # ... plus the idf-weighted share of question words it contains
# Words of a question (and its topic) keyword search reads: each costs a pass over every
# passage, and a question has 3-30 of them, a pasted 2,000 characters a few hundred.
MAX_SEARCH_TOKENS = 64
# Weight of each ranked list in the fusion; measured on evals/datasets/dev.jsonl.
WEIGHTS = {"bm25": 1.0, "dense": 1.0, "sentence": 1.0}


def unknown_meaning(vector: np.ndarray, reduced: np.ndarray | None, any_unknown: bool) -> float:
    """1 - cosine(question, question without the words the guide never uses): "are
    calculators allowed" loses most of its meaning without "calculators", "can you help me
    find a center" little without "help" and "find". All of it when nothing is left."""
    if not any_unknown:
        return 0.0
    if reduced is None:
        return 1.0
    return max(0.0, 1.0 - float(reduced @ vector))


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

    def retrieve(self, question: Question, k: int | None = None) -> Retrieval:
        """Scored passages (the best ``k``) and their scored sentences for an analysed
        question (:func:`bot.answer.question.analyze`)."""
        k = k or self.k
        # Every text this question needs is embedded in one model call.
        texts = {"question": question.spelled or question.text}
        if question.topic:
            # Read as one text, the model resolves "does that go up" against the earlier
            # question (better than averaging the two vectors: gate fact recall +0.01).
            texts["topic"] = question.topic_spelled
        if words(question.reduced):
            texts["reduced"] = question.reduced
        vectors = dict(zip(texts, self._vectors(list(texts.values())), strict=True))
        question_vector = vectors["question"]
        vector = vectors.get("topic", question_vector)
        sims = self.index.similarities(vector)
        if question.topic and self.index.sentences:
            # The topic finds the passage; which sentence answers is the new question's call.
            sims = (sims + self.index.similarities(question_vector)) / 2
        dense = self.index.store.search(vector.tolist(), CANDIDATES)
        fused = self._fuse(
            {
                "bm25": self._bm25([*question.tokens, *question.topic_tokens]),
                "dense": [cid for cid, _ in dense],
                "sentence": self._sentence_ranking(sims),
            }
        )[:CANDIDATES]
        sentences = self._score_sentences([cid for cid, _ in fused], sims, question)
        ranked = self._rerank(fused, sentences, dict(dense))
        hits = [
            Hit(self.index.chunks[cid], score, rank)
            for rank, (cid, score) in enumerate(ranked[:k], start=1)
        ]
        top = {h.chunk.id for h in hits}
        lost = unknown_meaning(question_vector, vectors.get("reduced"), bool(question.unknown))
        return Retrieval(
            question,
            hits,
            [x for x in sentences if x.chunk.id in top],
            lost,
            self._outline(question.listed),
        )

    def _outline(self, noun: str) -> tuple[str, tuple[ScoredSentence, ...]]:
        title, chunk_ids = self.index.outline(noun) if noun else ("", [])
        firsts = []
        for cid in chunk_ids:
            rows = [r for r in self.index.sentence_rows.get(cid, []) if self.index.candidate[r]]
            if rows:
                span = self.index.sentences[rows[0]].span
                firsts.append(ScoredSentence(1.0, 1.0, self.index.chunks[cid], span))
        return (title, tuple(firsts)) if len(firsts) >= 2 else ("", ())

    def _score_sentences(
        self, chunk_ids: list[str], sims: np.ndarray, question: Question
    ) -> list[ScoredSentence]:
        """Score every sentence of the candidate chunks: meaning, shared rare words, and
        whether it has the kind of answer asked for (an amount, a number)."""
        q_tokens = set(question.tokens)
        # Words the corpus never uses cannot be matched by any sentence: leave them out here
        # (the answer step weighs them when deciding whether to abstain).
        q_weight = sum(self.index.idf(t) for t in q_tokens if t in self.index.vocabulary) or 1.0
        wants_money = "money" in question.hints
        wants_salary = "salary" in question.hints
        wants_number = "number" in question.hints
        wants_duration = "duration" in question.hints
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
                if wants_money and PRICE.search(span.text):
                    bonus += 0.08
                if wants_salary and SALARY.search(span.text):
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
        answer ("bundle", "cybersecurity") rather than the topic ("loan", "module")."""
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

    def _vectors(self, texts: list[str]) -> list[np.ndarray]:
        batch = getattr(self.embeddings, "embed_queries", None)
        rows = batch(texts) if batch else [self.embeddings.embed_query(t) for t in texts]
        return [np.asarray(row, dtype=np.float32) for row in rows]

    def _bm25(self, tokens: list[str]) -> list[str]:
        # A word in no passage adds exactly 0 to every score, yet costs a pass over them all.
        tokens = [t for t in tokens if t in self.index.vocabulary][:MAX_SEARCH_TOKENS]
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

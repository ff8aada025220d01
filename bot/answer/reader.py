"""The reader: a small cross-encoder (trained by ``python -m bot.train``, shipped as ONNX in
``models/reader/``) that reads a question together with one candidate quote and gives the
probability that the candidate answers it. Runs in ONNX Runtime; no torch at serve time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.errors import ModelLoadError
from bot.index.sentences import readable
from bot.types import Question, Retrieval

SHIPPED = Path(__file__).parent / "models" / "reader"
MAX_TOKENS = 128
BATCH = 32
REREAD = 12  # the retrieval's best candidates the reader reads
# How much the reader's probability moves a candidate against the retrieval's score in
# mode "rank": 0.1 of 0.1 / 0.3 / pure reader order, chosen on the suites' tune halves.
READER_WEIGHT = 0.1


class Reader:
    """Scores (question, candidate) pairs; ``threshold`` is the card's, chosen on held-out
    institutions: below it the candidate is taken not to answer."""

    def __init__(self, directory: Path = SHIPPED, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            self.session = ort.InferenceSession(
                str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            card = json.loads((directory / "card.json").read_text(encoding="utf-8"))
        except Exception as exc:  # a missing or damaged model: say which and what to do
            raise ModelLoadError(exc) from exc
        self.threshold = float(card.get("threshold", 0.5))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def score(self, questions: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        """P(candidate answers question) for each (questions[i], candidates[i])."""
        out: list[np.ndarray] = []
        for s in range(0, len(questions), BATCH):
            pairs = list(zip(questions[s : s + BATCH], candidates[s : s + BATCH], strict=True))
            encoded = self.tokenizer.encode_batch(pairs)
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            out.append(1.0 / (1.0 + np.exp(-logits.reshape(-1))))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def rank(self, question: str, candidates: Sequence[str]) -> np.ndarray:
        return self.score([question] * len(candidates), candidates)


def reader_question(asked: Question) -> str:
    """The question as the reader reads it: a follow-up with the turn it leans on, typos
    respelled."""
    return " ".join(x for x in (asked.topic_spelled, asked.spelled or asked.text) if x)


def reread(reader: Reader, retrieval: Retrieval, mode: str = "on") -> Retrieval:
    """The retrieval with its best candidates read by the reader: in modes "rank" and "on"
    reordered by their score plus READER_WEIGHT times P(answers), in "gate" and "on"
    carrying the best P as its answerability."""
    gates = mode in ("gate", "on")
    head = retrieval.sentences[:REREAD]
    if not head:
        return replace(retrieval, answerability=0.0 if gates else None)
    probs = reader.rank(
        reader_question(retrieval.question), [readable(x.span.text, x.chunk) for x in head]
    )
    sentences = retrieval.sentences
    if mode in ("rank", "on"):
        weighted = [x.score + READER_WEIGHT * float(p) for x, p in zip(head, probs, strict=True)]
        order = sorted(range(len(head)), key=lambda i: -weighted[i])
        sentences = [head[i] for i in order] + sentences[len(head) :]
    return replace(
        retrieval, sentences=sentences, answerability=float(probs.max()) if gates else None
    )

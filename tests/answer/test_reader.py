"""The reader in the answer step: what it reorders, when it makes the answer step abstain,
and (with the shipped model) that it reads a small hand-made set right."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bot.answer.extractive import ExtractiveAnswerer
from bot.answer.reader import SHIPPED, Reader, reread
from bot.config import Settings
from bot.types import Chunk, Question, Retrieval, ScoredSentence, Span

TEXT = (
    "Students park in Lot C behind the science building. "
    "Lot C opens at 7 a.m. "
    "A semester permit costs $45 at the cashier's office."
)


class FakeReader:
    """Reads a candidate as answering when it holds the word the question is about."""

    threshold = 0.5

    def __init__(self, wants: dict[str, str]) -> None:
        self.wants = wants
        self.asked: list[str] = []

    def rank(self, question: str, candidates: Sequence[str]) -> np.ndarray:
        self.asked.append(question)
        word = next((w for q, w in self.wants.items() if q in question.lower()), "")
        return np.array([0.9 if word and word in c else 0.1 for c in candidates])


def retrieval(question: str) -> Retrieval:
    chunk = Chunk("c1", "parking.md", "Parking", 0, len(TEXT), TEXT)
    sentences = []
    for i, text in enumerate(TEXT.split(". ")):
        text = text if text.endswith(".") else text + "."
        start = TEXT.index(text[:20])
        # retrieval likes the first sentence a little better: the reader decides
        score = 0.62 - i * 0.01
        sentences.append(ScoredSentence(score, 0.5, chunk, Span(start, start + len(text), text)))
    return Retrieval(Question(question, spelled=question), [], sentences)


def test_rank_puts_the_answering_candidate_first_and_gate_only_scores() -> None:
    reader = FakeReader({"permit": "$45"})
    found = retrieval("how much is a permit?")
    ranked = reread(reader, found, "rank")  # type: ignore[arg-type]
    assert "$45" in ranked.sentences[0].span.text and ranked.answerability is None
    gated = reread(reader, found, "gate")  # type: ignore[arg-type]
    assert gated.sentences == found.sentences and gated.answerability == pytest.approx(0.9)
    both = reread(reader, found, "on")  # type: ignore[arg-type]
    assert "$45" in both.sentences[0].span.text and both.answerability == pytest.approx(0.9)


def test_the_answer_quotes_the_readers_choice_and_abstains_below_its_threshold() -> None:
    answerer = ExtractiveAnswerer(
        min_evidence=0.3, not_covered="Not covered.", reader_threshold=0.5
    )
    reader = FakeReader({"permit": "$45"})
    answer = answerer.answer("", reread(reader, retrieval("how much is a permit?")))  # type: ignore[arg-type]
    assert not answer.abstained and "$45" in answer.citations[0].quote
    unanswered = answerer.answer("", reread(reader, retrieval("is there a shuttle?")))  # type: ignore[arg-type]
    assert unanswered.abstained and unanswered.text == "Not covered."


def test_a_follow_up_is_read_with_the_turn_it_leans_on() -> None:
    reader = FakeReader({"permit": "$45"})
    found = retrieval("and for a semester?")
    leaning = Retrieval(
        Question(
            "and for a semester?",
            topic_spelled="how much is a permit",
            spelled="and for a semester?",
        ),
        [],
        found.sentences,
    )
    reread(reader, leaning)  # type: ignore[arg-type]
    assert reader.asked == ["how much is a permit and for a semester?"]


def test_the_chain_uses_an_injected_reader(ingested: Settings, fake_embeddings: object) -> None:
    from bot.answer.chain import FaqChain

    reader = FakeReader({"cost": "$"})
    chain = FaqChain(ingested.with_(reader="on"), fake_embeddings, reader=reader)  # type: ignore[arg-type]
    chain.ask("How much does the full CPT cost?")
    assert reader.asked  # every question passes the reader
    off = FaqChain(ingested, fake_embeddings)  # type: ignore[arg-type]
    assert off.reader is None


# Hand-made: a question, the candidate that answers it, and near-topic ones that do not.
HAND_MADE = [
    pytest.param(
        "When is the add/drop deadline?", "You may add or drop a class until September 12.",
        ["The registrar's office is in Hale Hall, room 110.",
         "Adding a class after the deadline needs the instructor's signature."],
        marks=pytest.mark.xfail(strict=True, reason="the shipped reader prefers the near-topic "
                                "sentence that shares 'deadline' (0.55 vs 0.52): a known miss"),
    ),
    ("How much does a parking permit cost?", "A semester parking permit costs $45.",
     ["Permits are sold at the cashier's window.", "Lot C is reserved for commuters."]),
    ("Where is the writing center?", "The writing center is on the second floor of the library.",
     ["The writing center helps with essays, lab reports and résumés.",
      "Sessions last 45 minutes."]),
    pytest.param(
        "Can I bring a calculator to the exam?", "Calculators are not allowed during the exam.",
        ["The exam has 60 multiple-choice questions.", "Bring a photo ID to the exam room."],
        marks=pytest.mark.xfail(strict=True, reason="the shipped reader prefers 'Bring a photo "
                                "ID to the exam room' (shares 'bring ... exam'): a known miss"),
    ),
    ("how do i reset my password", "Reset your password at the self-service portal under Account.",
     ["Passwords must have at least 12 characters.",
      "Your account is created the week before classes."]),
]  # fmt: skip

shipped = pytest.mark.skipif(not (SHIPPED / "model.onnx").exists(), reason="no shipped reader")


@pytest.mark.integration
@shipped
@pytest.mark.parametrize(("question", "right", "wrong"), HAND_MADE)
def test_the_shipped_reader_ranks_a_hand_made_set(
    question: str, right: str, wrong: list[str]
) -> None:
    scores = Reader(SHIPPED).rank(question, [right, *wrong])
    assert int(np.argmax(scores)) == 0, scores


@pytest.mark.integration
@shipped
def test_the_shipped_reader_is_small_and_carries_its_card() -> None:
    assert (SHIPPED / "model.onnx").stat().st_size <= 30_000_000
    card = (SHIPPED / "README.md").read_text()
    assert card.startswith("# faqbot reader") and "Held-out figures" in card
    assert 0.0 < Reader(SHIPPED).threshold < 1.0

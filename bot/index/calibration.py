"""Abstention calibrated per corpus, at load: how strong must evidence be to answer?

A best-sentence score means different things on different pages. A long handbook has
hundreds of sentences, so some sentence always lies close to any question: its noise floor
is high. A short FAQ page has a low one. The bar is set from the corpus's own noise floor:
the scores its best sentences reach for questions no college page answers (the probes
below: general knowledge, chores, entertainment), read through the same question analysis
and retrieval as a student's question. The probes name no corpus and no college topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Questions about nothing a college publishes: their best scores measure how close an
# unrelated question gets on these pages by chance.
PROBES = (
    "What is the capital of Australia?",
    "How do I cook rice on the stove?",
    "Who won the last World Cup?",
    "Can you recommend a good movie to watch tonight?",
    "How do I fix a flat bicycle tire?",
    "What will the weather be like tomorrow?",
    "Write me a poem about the ocean.",
    "How many legs does a spider have?",
    "Which programming language should I learn first?",
    "How should I invest in the stock market?",
    "How do I train my dog to sit?",
    "What is photosynthesis?",
    "Who painted the Mona Lisa?",
    "How far away is the moon?",
    "What are the symptoms of the flu?",
    "How do I change the oil in my car?",
    "Which pizza toppings are the best?",
    "How tall is Mount Everest?",
    "How do I knit a scarf?",
    "What happens at the end of Hamlet?",
    "How long should I boil an egg?",
    "What is the fastest animal on earth?",
    "How do I get rid of ants in my kitchen?",
    "What year did the Titanic sink?",
    "Can you tell me a joke?",
    "How do I make my houseplants grow faster?",
    "What is the difference between a virus and bacteria?",
    "Where can I buy cheap concert tickets?",
    "How do I reset my home wifi router?",
    "What should I pack for a beach vacation?",
    "Who is the best basketball player ever?",
    "How many calories are in a banana?",
)
# The share of probes whose scores set the floor: the strongest quarter (the chance close
# calls are what a real near miss looks like).
TOP_SHARE = 0.25


@dataclass(frozen=True)
class Calibration:
    """The corpus's noise floor, and the evidence bar it sets: a best sentence must score
    above the floor (less ``margin``) and above the configured minimum."""

    noise_floor: float
    min_evidence: float


def noise_floor(scores: Sequence[float]) -> float:
    """Mean of the strongest quarter of the probes' best scores."""
    ranked = sorted(scores, reverse=True)
    top = ranked[: max(1, round(len(ranked) * TOP_SHARE))]
    return sum(top) / len(top) if top else 0.0


def calibrate(
    best_score: Callable[[str], float],
    minimum: float,
    margin: float,
    probes: Sequence[str] = PROBES,
) -> Calibration:
    """The bar for this corpus. ``best_score(question)`` is the best sentence's score for a
    question, read as a student's question is."""
    floor = noise_floor([best_score(p) for p in probes])
    return Calibration(floor, max(minimum, floor - margin))

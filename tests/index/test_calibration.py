"""The evidence bar is set per corpus from its noise floor."""

from __future__ import annotations

from bot.answer.chain import FaqChain
from bot.index.calibration import PROBES, calibrate, noise_floor


def test_the_noise_floor_is_the_mean_of_the_strongest_quarter() -> None:
    assert noise_floor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) == (0.8 + 0.7) / 2
    assert noise_floor([0.3]) == 0.3


def test_the_bar_rises_with_the_floor_and_never_falls_below_the_minimum() -> None:
    asked: list[str] = []

    def best_score(question: str) -> float:
        asked.append(question)
        return 0.5

    high = calibrate(best_score, minimum=0.26, margin=0.075)
    assert asked == list(PROBES)  # every probe is read as a student's question is
    assert high.noise_floor == 0.5 and abs(high.min_evidence - 0.425) < 1e-9
    low = calibrate(lambda q: 0.1, minimum=0.26, margin=0.075)
    assert low.min_evidence == 0.26


def test_no_probe_names_a_college_topic() -> None:
    # The probes measure chance matches on any college's pages: none may be about
    # admissions, aid, courses or exams, or the bar would rise where it should not.
    college = {"college", "course", "class", "exam", "tuition", "admission", "student", "campus"}
    assert not [p for p in PROBES if college & set(p.lower().replace("?", "").split())]


def test_the_chain_answers_with_its_corpus_bar(chain: FaqChain) -> None:
    calibration = chain.calibration
    assert calibration is not None
    assert calibration.min_evidence >= chain.settings.min_evidence
    assert chain.answerer is not None
    assert chain.answerer.min_evidence == calibration.min_evidence  # type: ignore[union-attr]

"""The reader's training data: entries from FAQ pages, pairs, the institution split."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.errors import FaqBotError
from bot.train.data import build_pairs, held_out, manifests_hash, read_entries, typed


def test_every_faq_entry_with_an_answer_is_read(pages_dir: Path) -> None:
    entries, pages = read_entries(pages_dir)
    assert pages == 3
    questions = {e.question: e for e in entries}
    assert set(questions) >= {"Where can students park?", "How many books can I borrow?"}
    park = questions["Where can students park?"]
    assert park.institution == "Maple Valley College" and park.group == "services"
    assert park.spans[0].startswith("Students park in Lot C")
    assert all(e.question not in e.spans for e in entries)  # the question is no answer


def test_pairs_hold_one_positive_and_hard_negatives_per_entry(pages_dir: Path) -> None:
    entries, _ = read_entries(pages_dir)
    by_question = {e.question: i for i, e in enumerate(entries)}
    # nearest entry of another institution: the lab's rooms for the library's hours
    near = {by_question["When is the library open?"]: by_question["Where are the lab computers?"]}
    pairs = build_pairs(entries, near.get, seed=1)
    positives = [p for p in pairs if p.label == 1.0]
    assert len(positives) == len(entries)
    assert {p.candidate for p in positives} == {e.spans[0] for e in entries}
    library = [p for p in pairs if p.institution == "Maple Valley College" and p.label == 0.0]
    candidates = {p.candidate for p in library}
    assert "The lab computers are in room 214 of the Engineering Hall." in candidates
    assert "When is the library open?" in candidates  # its own question quoted back
    # same-page negatives never cross pages
    park_negatives = {p.candidate for p in pairs if p.label == 0.0 and "park" in p.question}
    assert "Students may borrow up to 20 books at a time." not in park_negatives
    assert "Students park in Lot C behind the science building." in park_negatives  # visitors


def test_pairs_are_the_same_for_the_same_seed(pages_dir: Path) -> None:
    entries, _ = read_entries(pages_dir)
    assert build_pairs(entries, lambda i: None, 7) == build_pairs(entries, lambda i: None, 7)


def test_questions_are_typed_as_students_type_them() -> None:
    rng = random.Random(3)
    forms = {typed("How much is a parking permit?", rng) for _ in range(200)}
    assert "How much is a parking permit?" in forms
    assert "how much is a parking permit" in forms
    assert any(f.islower() and "much" not in f and "parking" in f for f in forms)  # terse
    assert any(f not in ("How much is a parking permit?",) and f[0] == "H" for f in forms)


def test_the_split_is_by_institution_and_stable() -> None:
    names = [f"College {i}" for i in range(400)]
    out = [n for n in names if held_out(n)]
    assert 20 <= len(out) <= 60  # about one in ten
    assert out == [n for n in names if held_out(n)]


def test_missing_pages_say_where_to_point(tmp_path: Path) -> None:
    with pytest.raises(FaqBotError, match="--pages"):
        read_entries(tmp_path / "nowhere")
    assert manifests_hash(tmp_path) == manifests_hash(tmp_path / "also-nowhere")

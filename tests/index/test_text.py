"""Text handling: the close-word search that stands in for difflib."""

from __future__ import annotations

import difflib
import random
import string

import pytest

from bot.index.text import SENTENCE_START, STOPWORDS, CloseWords, starts_sentence


def test_close_words_finds_what_difflib_finds(guide_text: str) -> None:
    vocabulary = sorted({w.strip(".,:;()[]|*#-").lower() for w in guide_text.split()} - {""})
    close = CloseWords(vocabulary)
    rng = random.Random(7)
    typos = []
    for word in rng.sample(vocabulary, 150):
        i = rng.randrange(len(word))
        typos += [
            word[:i] + word[i + 1 :],
            word[:i] + rng.choice(string.ascii_lowercase) + word[i:],
        ]
    junk = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 12))) for _ in range(150)]
    for word in [*typos, *junk, "saftey", "certificação", "x", ""]:
        for cutoff in (0.6, 0.75, 0.82, 0.9):
            expected = difflib.get_close_matches(word, vocabulary, n=1, cutoff=cutoff)
            assert close.best(word, cutoff) == (expected[0] if expected else None), (word, cutoff)


@pytest.mark.parametrize(("word", "expected"), [("wich", "which"), ("whats", "what"), ("zq", None)])
def test_close_words_over_a_small_list(word: str, expected: str | None) -> None:
    targets = CloseWords(w for w in STOPWORDS if "'" not in w)
    assert targets.best(word, 0.75) == expected
    assert CloseWords([]).best(word, 0.75) is None


def test_a_sentence_start_is_read_from_the_words_just_before() -> None:
    text = (
        "Hi, I'm  Zorba.   Is CPT hard?\n\nMy name is Ann and ( Texas is far: Ohio too. "
        + "x " * 300
        + ".      \t Last"
    )
    for at in range(len(text) + 1):
        expected = SENTENCE_START.search(text[:at]) is not None
        assert starts_sentence(text, at) is expected, (at, text[max(0, at - 12) : at])


def test_no_charge_is_a_price_as_free_is() -> None:
    from bot.index.text import PRICE

    for said in ("There is no charge for this service.", "No fees apply.", "It is free.", "$40"):
        assert PRICE.search(said), said
    assert not PRICE.search("Charges apply to lost items.")

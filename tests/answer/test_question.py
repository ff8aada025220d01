"""Question analysis: what a question asks, read once against the corpus's own words."""

from __future__ import annotations

import pytest

from bot.answer.chain import FaqChain
from bot.answer.question import analyze
from bot.index.corpus_index import CorpusIndex
from bot.index.text import tokenize
from bot.types import Question


@pytest.fixture
def index(chain: FaqChain) -> CorpusIndex:
    assert chain.retriever is not None
    return chain.retriever.index


def ask(index: CorpusIndex, question: str, *earlier: str) -> Question:
    history = []
    for turn in earlier:
        history += [
            {"role": "user", "content": turn},
            {"role": "assistant", "content": "It is in the guide. [1]"},
        ]
    return analyze(question, history, index)


# --------------------------------------------------------------- follow-ups
def test_a_follow_up_leans_on_the_earlier_question(index: CorpusIndex) -> None:
    earlier = "Tell me about the Maintenance Awareness module"
    asked = ask(index, "is it hard to pass?", earlier)
    assert asked.text == "is it hard to pass?" and asked.topic == earlier
    assert "maintenance" in asked.topic_tokens
    assert asked.topic_spelled  # the topic, respelled with the question, is embedded


def test_a_question_that_stands_alone_has_no_topic(index: CorpusIndex) -> None:
    asked = ask(index, "How long is the Safety module exam?", "What does CPT-MT cover?")
    assert asked.topic == "" and asked.topic_tokens == () and asked.topic_spelled == ""
    assert ask(index, "is it hard to pass?").topic == ""  # nothing earlier to lean on


def test_an_elliptical_follow_up_asks_for_the_same_kind_of_amount(index: CorpusIndex) -> None:
    wage = "What is the typical hourly pay of an apprentice?"
    assert "pay" in ask(index, wage).kinds
    assert ask(index, "and with a mechatronics degree?", wage).kinds == ("pay",)
    assert ask(index, "and with a mechatronics degree?").kinds == ()  # on its own: no amount


def test_a_leading_connective_does_not_hide_what_is_asked(index: CorpusIndex) -> None:
    asked = ask(index, "and what's the fee for one module?", "What is the Safety module?")
    assert "cost" in asked.kinds


# --------------------------------------------------------------- words
def test_a_typo_is_respelled(index: CorpusIndex) -> None:
    asked = ask(index, "what is on the saftey modul exam?")
    assert asked.spelled == "what is on the safety module exam?"
    assert "safety" in asked.tokens and "module" in asked.tokens
    assert asked.unknown == ()


def test_chat_shorthand_is_read(index: CorpusIndex) -> None:
    assert ask(index, "hw many modules r there").spelled.startswith("how many modules")


def test_a_word_the_corpus_never_uses_is_unknown_and_left_out_of_the_reduced_question(
    index: CorpusIndex,
) -> None:
    asked = ask(index, "Does the safety module cover zorbtronics?")
    assert asked.unknown == tuple(tokenize("zorbtronics"))  # as a search word: its stem
    assert set(asked.unknown) <= set(asked.tokens)
    assert "zorbtronics" not in asked.reduced.lower()
    assert "safety module cover" in asked.reduced  # the rest of the question is kept
    known = ask(index, "Does the safety module cover ergonomics?")
    assert known.unknown == () and known.reduced == ""


def test_names_the_corpus_never_mentions_are_noted(index: CorpusIndex) -> None:
    assert ask(index, "Can I take the Safety module in Zorbania?").unknown_names == ("Zorbania",)
    assert ask(index, "Can I take the Safety module online?").unknown_names == ()


def test_names_and_their_numbers_are_pinned(index: CorpusIndex) -> None:
    assert ask(index, "what is the price of osha 10").pinned == ("osha", "10")
    assert ask(index, "Is the exam taken on a computer?").pinned == ()


def test_how_many_asks_for_a_count_of_something(index: CorpusIndex) -> None:
    asked = ask(index, "How many questions does the Safety exam have?")
    assert asked.kinds == ("count",)
    assert asked.counts == tuple(tokenize("questions"))
    assert "number" in asked.hints
    assert ask(index, "Is the Safety exam hard?").kinds == ()


@pytest.mark.parametrize(
    "question",
    ["list the CPT modules", "What are the CPT modules?", "what are the steps to register?"],
)
def test_a_request_for_a_list_wants_the_list(index: CorpusIndex, question: str) -> None:
    assert ask(index, question).wants_list


def test_a_question_about_one_thing_wants_no_list(index: CorpusIndex) -> None:
    asked = ask(index, "Is the Safety module taken first?")
    assert not asked.wants_list and asked.listed == ""


def test_the_parts_a_list_question_names(index: CorpusIndex) -> None:
    assert ask(index, "list the CPT modules").listed == "modules"


def test_a_question_asking_several_things(index: CorpusIndex) -> None:
    assert ask(index, "How long is each exam, and can I retake it?").several
    assert not ask(index, "How long is each exam?").several


def test_kinds_of_fact_asked_for(index: CorpusIndex) -> None:
    assert "cost" in ask(index, "What is the fee for the Safety module?").kinds
    assert "money" in ask(index, "What is the fee for the Safety module?").hints
    assert "date" in ask(index, "What date is the next exam session?").kinds
    assert ask(index, "Why does CPT matter?").kinds == ()


def test_the_short_form_of_a_name_the_pages_spell_out_is_no_unknown_name() -> None:
    from bot.index.names import initialisms

    found = initialisms(["Loans are handled by the Long Beach City College Library office."])
    assert {"lbcc", "lbccl"} <= found
    assert "xyz" not in found

"""Answers: quotes with [n], abstention, safety screens, the optional LLM mode."""

from __future__ import annotations

import re

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.answer import ABSTAIN_TEXT, LLMAnswerer, with_lead
from bot.chain import FaqChain
from tests.conftest import scored_sentence


def test_every_marker_has_a_citation_quoting_the_source(chain: FaqChain) -> None:
    answer = chain.ask("How much does the full CPT cost?")
    assert not answer.abstained
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert markers and sorted(set(markers)) == [c.n for c in answer.citations]
    for c in answer.citations:
        source = (chain.settings.corpus_dir / c.source).read_text()
        assert source[c.start : c.end] == c.quote
        assert c.quote in c.passage
    assert "360" in answer.text


def test_weak_evidence_abstains_without_citations(chain: FaqChain) -> None:
    answer = chain.ask("zzyzx quorble flimflam?")
    assert answer.abstained and answer.citations == [] and answer.text == ABSTAIN_TEXT


def test_meaning_resting_on_unknown_words_raises_the_bar(chain: FaqChain) -> None:
    from bot.answer import ExtractiveAnswerer

    retrieval = chain.retrieve("How much does the full CPT cost?")
    best = retrieval.sentences[0]
    answerer = ExtractiveAnswerer(min_evidence=best.score - 0.01)
    assert retrieval.unknown_meaning == 0.0
    assert not answerer._too_weak(best, retrieval)
    retrieval.unknown_meaning = 0.5  # half the meaning rests on words new to the guide
    assert answerer._too_weak(best, retrieval)


def test_a_question_about_a_place_the_guide_never_names_abstains(chain: FaqChain) -> None:
    answer = chain.ask("How much does the full CPT cost in Zorbania?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert not chain.ask("How much does the full CPT cost?").abstained


def test_a_question_for_a_year_abstains_when_no_passage_has_one(chain: FaqChain) -> None:
    assert chain.ask("In what year was the CPT 4.0 update released?").abstained


def test_an_elliptical_follow_up_asks_for_the_same_kind_of_amount(chain: FaqChain) -> None:
    from dataclasses import replace

    from bot.answer import ExtractiveAnswerer

    history = [{"role": "user", "content": "What's the starting wage for apprentices?"}]
    question = "and with an AAS in mechatronics?"
    retrieval = chain.retrieve(question, history)
    tuition = replace(scored_sentence(chain, "Many AAS programs in mechatronics"), score=0.9)
    salary = replace(scored_sentence(chain, "- CPT plus AAS in Mechatronics:"), score=0.7)
    retrieval.sentences, retrieval.unknown_meaning = [tuition, salary], 0.0
    answerer = ExtractiveAnswerer(min_evidence=0.1)
    # "and with an AAS?" after a wage question asks for a wage: the salary is quoted
    assert answerer.answer(question, retrieval).citations[0].quote == salary.span.text
    retrieval.topic = ""  # asked on its own, it asks for no amount
    assert answerer.answer(question, retrieval).citations[0].quote == tuition.span.text


@pytest.mark.integration
def test_what_cpt_stands_for_quotes_its_definition(real_chain: FaqChain) -> None:
    answer = real_chain.ask("What does CPT stand for?")
    assert "Certified Production Technician (CPT)" in answer.citations[0].quote


def test_a_list_question_is_answered_by_the_sub_sections_that_list_it(chain: FaqChain) -> None:
    answer = chain.ask("What are the four required CPT modules?")
    assert answer.text == (
        "The four required modules: Safety [1]; Quality Practices and Measurement [2]; "
        "Manufacturing Processes and Production [3]; Maintenance Awareness [4]."
    )
    for c in answer.citations:  # each part cited with the first sentence under its heading
        heading = c.section.split(" > ")[-1]
        assert c.section.startswith("The four required modules > ")
        assert f"{heading}\n{c.quote}" in c.passage


def test_a_price_the_guide_does_not_give_is_not_guessed(chain: FaqChain) -> None:
    assert chain.ask("how much is OSHA 30").abstained
    assert chain.ask("hw much is OSHA 30").abstained  # chat shorthand asks the same
    assert chain.ask("How many people work at MSSC?").abstained  # no number counts people
    lessons = chain.ask("How many lessons does the official MSSC course have per module?")
    assert not lessons.abstained and "96" in lessons.text
    answer = chain.ask("how much is OSHA 10")
    assert not answer.abstained and "60-100" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Who is the president of MSSC?",
        "What is the URL of the MSSC assessment-center directory?",
        "What date is the next CPT exam session?",
    ],
)
def test_a_kind_of_fact_the_guide_lacks_is_not_guessed(chain: FaqChain, question: str) -> None:
    assert chain.ask(question).abstained


@pytest.mark.integration
def test_a_date_question_is_answered_with_the_sentence_holding_the_date(
    real_chain: FaqChain,
) -> None:
    answer = real_chain.ask("As of what date are the per-module prices in the guide?")
    assert not answer.abstained and "2026-05-19" in answer.text


def test_a_sentence_leaning_on_the_one_before_is_quoted_with_it(chain: FaqChain) -> None:
    source = (chain.settings.corpus_dir / "cpt-credential-guide.txt").read_text()
    leaning = scored_sentence(chain, "This is one reason CPT is cheaper")
    joined = with_lead(leaning).span
    assert joined.text.startswith("The assessment is entirely cognitive")
    assert joined.text.endswith(leaning.span.text)
    assert source[joined.start : joined.end] == joined.text  # still an exact quote
    short = scored_sentence(chain, "The most common assessment-center category.")
    assert "Community colleges" in with_lead(short).span.text
    standalone = scored_sentence(chain, "Full CPT (all four modules) through a typical")
    assert with_lead(standalone) == standalone  # first on its line, or says enough alone
    lead = scored_sentence(chain, "The assessment is entirely cognitive")
    assert with_lead(leaning, [lead, leaning]) == leaning  # the lead is quoted anyway


def test_a_lead_in_sentence_brings_its_list(chain: FaqChain) -> None:
    answer = chain.ask("What categories do most assessment centers fall into?")
    if not answer.citations[0].quote.endswith(":"):
        pytest.skip("the fake embedder ranked another sentence first")
    assert len(answer.citations) >= 3
    assert "Community colleges" in answer.text


def llm_chain(chain: FaqChain, reply: str | Exception) -> FaqChain:
    class Broken(FakeListChatModel):
        def invoke(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            raise reply  # type: ignore[misc]

    model = (
        Broken(responses=["x"])
        if isinstance(reply, Exception)
        else FakeListChatModel(responses=[reply])
    )
    assert chain.answerer is not None
    extractive = chain.answerer
    chain.answerer = LLMAnswerer(model, extractive)  # type: ignore[arg-type]
    return chain


def test_llm_answer_with_a_valid_citation_is_used(chain: FaqChain) -> None:
    llm_chain(chain, "The whole credential costs $360-$480 through a provider. [1]")
    answer = chain.ask("How much does the full CPT cost?")
    assert answer.text.startswith("The whole credential costs")
    assert answer.citations and answer.citations[0].n == 1


@pytest.mark.parametrize(
    "reply", ["It costs about $400.", "It costs $400 [9].", RuntimeError("provider down")]
)
def test_llm_failures_fall_back_to_the_extractive_answer(
    chain: FaqChain, reply: str | Exception
) -> None:
    expected = chain.ask("How much does the full CPT cost?")
    llm_chain(chain, reply)
    answer = chain.ask("How much does the full CPT cost?")
    assert answer.text == expected.text
    assert answer.citations == expected.citations


def test_llm_saying_not_covered_abstains(chain: FaqChain) -> None:
    llm_chain(chain, "NOT_COVERED")
    answer = chain.ask("How much does the full CPT cost?")
    assert answer.abstained and not answer.citations


def test_a_paragraph_ending_in_a_colon_brings_its_list() -> None:
    from bot.answer import ExtractiveAnswerer
    from bot.chunking import chunk_document
    from bot.retrieval import Retrieval, ScoredSentence
    from bot.sentences import split_sentences

    text = (
        "## Grading\n\nYour grade is based on these weights. They vary a little by term:\n\n"
        "- 45% Projects\n- 10% Homework\n- 45% Exams\n\nExams are closed book.\n"
    )
    (chunk,) = chunk_document(text, "syllabus.md", 1000)
    spans = split_sentences(chunk)
    scored = [ScoredSentence(0.9 - i / 100, 0.9, chunk, s) for i, s in enumerate(spans)]
    retrieval = Retrieval("how is the grade broken down", [], [], [], scored, 0.0, [], [])
    answer = ExtractiveAnswerer(0.2).answer("how is the grade broken down", retrieval)
    assert "45% Projects" in answer.text and "10% Homework" in answer.text
    assert answer.text.index("based on these weights") < answer.text.index("vary a little")
    assert "closed book" not in answer.text

"""Hybrid retrieval: text handling, follow-ups, fusion, the LangChain retriever."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from bot.answer import retrieval as retrieval_module
from bot.answer.chain import FaqChain, FaqRetriever
from bot.answer.question import analyze
from bot.answer.retrieval import HybridRetriever
from bot.index.text import (
    is_elliptical,
    is_follow_up,
    is_fragment,
    listed_parts,
    resolve_query,
    stem,
    tokenize,
)
from bot.types import Question, Retrieval


def test_tokenize_drops_stop_words_and_stems_lightly() -> None:
    assert tokenize("What are the modules costing?") == ["module", "cost"]
    assert tokenize("module") == tokenize("modules")
    assert stem("funding") == "fund" and stem("class") == "class"
    # contractions are function words, not topics the guide might lack
    assert tokenize("What if there isn't one? I'm sure it's fine") == ["sure", "fine"]


@pytest.mark.parametrize(
    ("question", "elliptical"),
    [
        ("and with an AAS in mechatronics?", True),
        ("and what about just one module?", True),
        ("what about OSHA 10?", True),
        ("and how long is it?", False),  # a question of its own
        ("what about?", False),
        ("What is the OSHA 10 fee?", False),
    ],
)
def test_elliptical_follow_ups_ask_the_earlier_question_again(
    question: str, elliptical: bool
) -> None:
    assert is_elliptical(question) is elliptical


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("Which are all the CPT modules?", "modules"),
        ("list the modules", "modules"),
        ("which are the options", "options"),
        ("What are the major changes in CPT 4.0?", None),  # asks about something
        ("What is the Safety module?", None),
    ],
)
def test_a_list_question_names_the_parts_it_wants_listed(question: str, parts: str | None) -> None:
    assert listed_parts(question) == parts


def test_follow_ups_lean_on_the_earlier_question() -> None:
    history = [
        {"role": "user", "content": "What does the Maintenance Awareness module cover?"},
        {"role": "assistant", "content": "It covers preventive maintenance. [1]"},
    ]
    assert is_follow_up("and how long is it?")
    assert not is_follow_up("What does the Safety module cover?")
    _, topic = resolve_query("how many weeks of practice does it need?", history)
    assert topic == "What does the Maintenance Awareness module cover?"
    assert resolve_query("What changed in CPT 4.0?", history) == ("What changed in CPT 4.0?", "")
    assert resolve_query("and how long is it?", []) == ("and how long is it?", "")


@pytest.mark.integration
def test_the_right_section_ranks_first(real_chain: FaqChain) -> None:
    retrieval = real_chain.retrieve("How much does the full CPT credential cost?")
    assert retrieval.hits[0].chunk.section == "Cost and funding"
    assert [h.rank for h in retrieval.hits] == list(range(1, len(retrieval.hits) + 1))
    scores = [h.score for h in retrieval.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.integration
def test_a_follow_up_retrieves_the_earlier_topic(real_chain: FaqChain) -> None:
    history = [{"role": "user", "content": "Tell me about the Maintenance Awareness module"}]
    retrieval = real_chain.retrieve("what does it cover?", history)
    assert any("Maintenance Awareness" in h.chunk.section for h in retrieval.hits[:2])


def test_retrieve_reads_the_analysed_question_and_returns_it(chain: FaqChain) -> None:
    hybrid = chain.retriever
    assert isinstance(hybrid, HybridRetriever)
    question = analyze("How much does the safety module cost?", [], hybrid.index)
    retrieval = hybrid.retrieve(question, k=3)
    assert isinstance(retrieval, Retrieval) and retrieval.question == question
    assert len(retrieval.hits) == 3
    top = {h.chunk.id for h in retrieval.hits}
    assert retrieval.sentences and all(s.chunk.id in top for s in retrieval.sentences)
    scores = [s.score for s in retrieval.sentences]
    assert scores == sorted(scores, reverse=True)
    # the same through the chain, which analyses the question first
    assert chain.retrieve("How much does the safety module cost?", k=3) == retrieval


def test_a_follow_up_is_searched_with_its_topic(chain: FaqChain) -> None:
    history = [{"role": "user", "content": "Tell me about the Maintenance Awareness module"}]
    retrieval = chain.retrieve("and how long is it?", history)
    assert retrieval.question.topic == "Tell me about the Maintenance Awareness module"
    assert "maintenance" in retrieval.question.topic_tokens
    assert retrieval.question.text == "and how long is it?"


def test_a_list_question_gets_the_outline_of_its_section(chain: FaqChain) -> None:
    title, parts = chain.retrieve("list the CPT modules").outline
    assert title == "The four required modules" and len(parts) == 4
    assert all(p.chunk.section.startswith(f"{title} > ") for p in parts)
    assert chain.retrieve("How much does the safety module cost?").outline == ("", ())


def test_a_hand_made_question_is_retrieved_as_given(chain: FaqChain) -> None:
    hybrid = chain.retriever
    assert isinstance(hybrid, HybridRetriever)
    plain = Question("How much does the safety module cost?")  # no analysis: no tokens
    retrieval = hybrid.retrieve(plain)
    assert retrieval.question is plain and retrieval.unknown_meaning == 0.0
    assert retrieval.hits  # dense search alone still finds passages


def test_the_faq_index_of_bare_questions_is_never_returned(chain: FaqChain) -> None:
    retrieval = chain.retrieve("Is the MSSC CPT recognized by employers?", k=50)
    assert all(h.chunk.kind != "questions" for h in retrieval.hits)
    assert all(not s.span.text.endswith("?") for s in retrieval.sentences)


def test_misspelt_words_are_corrected_and_unknown_ones_reported(chain: FaqChain) -> None:
    retrieval = chain.retrieve("is the saftey modul taken first? zzyzx")
    assert "safety" in retrieval.question.tokens
    assert "zzyzx" in retrieval.question.unknown


def test_unknown_meaning_is_what_the_question_loses_without_unknown_words(
    chain: FaqChain,
) -> None:
    assert chain.retrieve("How much does the safety module cost?").unknown_meaning == 0.0
    partly = chain.retrieve("How much does the safety module cost in zzyzx?").unknown_meaning
    assert 0.0 < partly < 1.0
    assert chain.retrieve("zzyzx quorble?").unknown_meaning == 1.0  # nothing left


@pytest.mark.integration
def test_a_question_about_an_unknown_thing_loses_more_than_one_with_unknown_filler(
    real_chain: FaqChain,
) -> None:
    focus = real_chain.retrieve("May I bring a calculator into the exam room?")
    filler = real_chain.retrieve("Can you help me with the exam format?")
    assert "calculator" in focus.question.unknown and "help" in filler.question.unknown
    assert focus.unknown_meaning > 2 * filler.unknown_meaning


def test_a_list_of_things_is_content_but_a_bare_title_is_a_fragment() -> None:
    assert is_fragment("Official MSSC program page.")
    assert not is_fragment("Covers energy efficiency, waste reduction, lifecycle thinking.")
    assert not is_fragment("The exam is roughly 90 minutes per module.")


def test_fusion_rewards_agreement_between_rankings(chain: FaqChain) -> None:
    hybrid = chain.retriever
    assert isinstance(hybrid, HybridRetriever)
    ids = list(hybrid.index.chunks)[:3]
    fused = dict(
        hybrid._fuse({"bm25": [ids[0], ids[1]], "dense": [ids[1], ids[0]], "sentence": [ids[1]]})
    )
    assert fused[ids[1]] > fused[ids[0]] > fused.get(ids[2], 0.0)


def test_the_langchain_retriever_returns_documents_with_offsets(chain: FaqChain) -> None:
    retriever = FaqRetriever(hybrid=chain.retriever, k=3)
    docs = retriever.invoke("What changed in CPT 4.0?")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    meta = docs[0].metadata
    assert {"source", "section", "start", "end", "score", "rank"} <= set(meta)
    source = (chain.settings.corpus_dir / meta["source"]).read_text()
    assert source[meta["start"] : meta["end"]] == docs[0].page_content


def test_keyword_search_reads_a_bounded_number_of_known_words(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    hybrid = chain.retriever
    bm25 = hybrid.index.bm25
    asked: list[list[str]] = []
    scores = bm25.get_scores
    monkeypatch.setattr(bm25, "get_scores", lambda q: asked.append(list(q)) or scores(q))
    known = sorted(hybrid.index.vocabulary)
    ranked = hybrid._bm25(["safety", "zzyzx", "module"])
    assert asked[-1] == ["safety", "module"]  # a word in no passage scores 0 everywhere
    assert ranked == hybrid._bm25(["safety", "module"])
    hybrid._bm25(known * 3)
    assert asked[-1] == known[: retrieval_module.MAX_SEARCH_TOKENS]


def test_sentences_holding_the_focus_word_get_the_bonus(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "Does CPT 4.0 include cybersecurity?"

    def scores() -> dict[str, float]:
        return {s.span.text: s.score for s in chain.retrieve(question, k=20).sentences}

    bonus, with_bonus = retrieval_module.FOCUS_BONUS, scores()
    monkeypatch.setattr(retrieval_module, "FOCUS_BONUS", 0.0)
    without = scores()
    assert any("cybersecurity" in text for text in with_bonus)
    for text, score in with_bonus.items():
        expected = bonus if "cybersecurity" in text else 0.0
        assert score - without[text] == pytest.approx(expected)

"""The in-memory index: respelling question words, sentence similarities with pieces."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer.chain import FaqChain
from bot.index import corpus_index as index_module
from bot.index import names


def test_typos_are_respelled_for_the_model_but_real_words_are_left_alone(
    chain: FaqChain,
) -> None:
    index = chain.retriever.index
    assert index.spell("whats the saftey modul about?") == "what the safety module about?"
    # a real word next to a corpus word is another word, not a typo
    index.known_words = frozenset({"cheapest"})
    assert index.spell("the cheapest option") == "the cheapest option"
    assert index.spell("Quanto custa a certificação?") == "Quanto custa a certificação?"
    # chat shorthand is the word it stands for, "hrs" no slip for "hers", "exm" a typo
    assert index.spell("how many hrs thru the yr") == "how many hours through the year"
    assert index.correct(["exm"]) == (["exam"], [])
    # a misspelled question word and a stray letter carry no topic
    assert index.correct(["wich", "n", "safety"]) == (["safety"], [])


def test_a_real_word_is_never_respelled_however_close_to_a_corpus_word(chain: FaqChain) -> None:
    index = chain.retriever.index
    index.known_words = frozenset({"safely", "modal"})
    assert index.spell("work safely with the modal") == "work safely with the modal"


def test_the_same_spelling_unknown_as_a_word_is_read_as_a_typo(chain: FaqChain) -> None:
    index = chain.retriever.index
    index.known_words = frozenset()
    assert index.spell("work safely with the modal") == "work safety with the modal"


def test_a_sentence_scores_as_its_closest_list_item_less_a_margin(chain: FaqChain) -> None:
    index = chain.retriever.index
    vector = np.asarray(chain.retriever.embeddings.embed_query("ergonomics"), dtype=np.float32)
    whole, sims = index.sentence_matrix @ vector, index.similarities(vector)
    assert len(sims) == len(index.sentences) and (sims >= whole - 1e-6).all()
    row = next(i for i, s in enumerate(index.sentences) if "ergonomics, hazard" in s.span.text)
    own = index.piece_matrix[index.piece_sentence == row] @ vector
    assert sims[row] == pytest.approx(max(whole[row], own.max() - index_module.PIECE_MARGIN))
    assert sims[row] > whole[row]  # "1. Safety: ergonomics" is closer than the whole list


def test_without_takes_out_the_words_that_become_the_given_tokens(chain: FaqChain) -> None:
    index = chain.retriever.index
    assert index.without("Is zzyzx on the Safety exams?", {"zzyzx"}) == "Is  on the Safety exams?"
    assert index.without("Is zzyzx on the Safety exams?", {"exam"}) == "Is zzyzx on the Safety ?"


def test_a_misspelled_function_word_is_dropped_as_the_plain_word(chain: FaqChain) -> None:
    index = chain.retriever.index
    assert index.spell("whats the saftey modul") == "what the safety module"
    assert index.spell("hw many modules") == "how many modules"  # chat shorthand
    assert index.correct(["whats", "saftey"]) == (["safety"], [])


def test_names_the_guide_never_uses_are_reported(chain: FaqChain) -> None:
    index = chain.retriever.index
    assert index.unknown_names("How many centers are in Zorbania?") == ["Zorbania"]
    assert index.unknown_names("Is the Safety module taken first?") == []  # the guide's own
    assert index.unknown_names("Zorbania centers?") == []  # a capital that starts a sentence
    assert index.unknown_names("Hi, I'm Zorba. What is CPT?") == []  # the asker's own name
    assert index.unknown_names("Is The Exam Hard In Zorbania?") == []  # Title Case: no signal
    # a word known only through a related corpus word is still a name the guide lacks
    index._corrections["texas"] = index_module.Correction("state", True, related=True)
    assert index.unknown_names("Can I test in Texas?") == ["Texas"]


def test_proper_words_are_capitalised_inside_sentences_and_never_lower_case() -> None:
    texts = ["Each module uses Siemens kits and SMSCP. Green tools.", "| Cover | green energy"]
    # "Each", "Green", "Cover" start a sentence or a cell; "green" is also lower case.
    assert names.proper_words(texts) == {"siemens", "smscp"}


def test_names_and_the_numbers_after_them_are_pinned(chain: FaqChain) -> None:
    index = chain.retriever.index
    assert index.pinned("what does osha 10 cost") == ["osha", "10"]  # known names, any case
    # SMSCP is in over a third of the guide's passages: a topic of it, not a pin
    assert index.pinned("What is the fee for Siemens SMSCP?") == ["siemen"]
    # a number pins only after a pinned name: "Level" is a common word, so "1" is no pin
    assert index.pinned("What is the fee for Siemens SMSCP Level 1?") == ["siemen"]
    assert index.pinned("What is the fee for Siemens 2?") == ["siemen", "2"]
    assert index.pinned("How much is CPT 4.0?") == []
    assert index.pinned("How much for 2 modules?") == []  # a count, not a name's number
    # "Certified" is a name in the guide, but typed in lower case it is just an English word
    assert index.pinned("how much to get certified?") == ["certifi"]
    index.known_words = frozenset({"certified"})
    assert index.pinned("how much to get certified?") == []


def test_the_outline_of_a_section_is_its_sub_sections_first_chunks(chain: FaqChain) -> None:
    index = chain.retriever.index
    title, chunk_ids = index.outline("modules")
    assert title == "The four required modules"
    sections = [index.chunks[cid].section.split(" > ")[-1] for cid in chunk_ids]
    assert sections == [
        "1. Safety",
        "2. Quality Practices and Measurement",
        "3. Manufacturing Processes and Production",
        "4. Maintenance Awareness",
    ]
    assert index.outline("employers") == ("", [])  # no section with parts names them


def junk(n: int, start: int = 0) -> list[str]:
    """Made-up words no corpus and no English dictionary has: "zqxa", "zqxb", ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"zqx{letters[i // 26 % 26]}{letters[i % 26]}" for i in range(start, start + n)]


def test_a_long_question_gets_word_searches_for_its_first_words_only(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[str] = []
    embeddings = chain.retriever.index._embeddings
    for name in ("embed_query", "embed_documents"):
        real = getattr(embeddings, name)

        def spy(texts, real=real):  # type: ignore[no-untyped-def]
            embedded.extend([texts] if isinstance(texts, str) else texts)
            return real(texts)

        monkeypatch.setattr(embeddings, name, spy)
    chain.retrieve(" ".join(junk(300)) + "?")
    # each searched word is embedded at most twice (as typed, and its stem)
    assert len([t for t in embedded if " " not in t]) <= 2 * index_module.MAX_WORD_SEARCHES


def test_words_past_the_search_budget_count_as_unknown_however_often_seen(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "MAX_WORD_SEARCHES", 3)
    index = chain.retriever.index
    assert index.correct(["saftey", *junk(3)])[0][0] == "safety"  # searched: a typo fixed
    late = ["zqxaa", "zqxab", "zqxac", "saftey"]
    assert index.correct(late) == (late, late)  # past the budget: left as typed
    # the same question reads the same, though "saftey" is known by now
    assert list(chain.retrieve(" ".join(late)).question.unknown) == late
    assert index.spell(" ".join(late)) == " ".join(late)


def test_the_corrections_kept_stay_within_their_bound(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "CORRECTIONS_CACHE_SIZE", 20)
    index = chain.retriever.index
    kept = index.cache_info()[0]  # loading may have read some words already (calibration)
    for start in range(0, 200, 5):
        index.correct(junk(5, start))  # fewer than MAX_WORD_SEARCHES: each one searched
        assert index.cache_info() == (min(kept + start + 5, 20), 20)
    assert index.correct(["saftey"])[0] == ["safety"]  # still corrects

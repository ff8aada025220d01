"""What a question asks for (a price, a salary, a count) and whether
a sentence holds it, about what the question pins."""

from __future__ import annotations

import pytest

from bot.answer.chain import FaqChain
from bot.answer.kinds import (
    ANSWER_TYPES,
    SEVERAL_ASKS,
    answers_kind,
    counted,
    wanted_answer_types,
)
from tests.answer.conftest import scored_sentence


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("What time does the front desk open on Saturdays?", ["time"]),
        ("how much money could the hardship grant give me", ["amount"]),
        ("Which building is the job fair in?", ["place"]),
        ("what's the street address of the north campus", ["street"]),
        ("What number do I call to reach the help desk?", ["contact"]),
        ("what's the email for the help desk?", ["contact"]),
        ("do I have to email my advisor before I drop?", []),  # the verb asks no address
        ("and what's the late fee?", []),  # read after its connective by question analysis
        ("What's the web address of the directory?", ["address"]),
        ("When is the next testing date at my college?", ["date"]),
        ("As of what date are these prices?", ["date"]),
        ("Who pays for CPT?", []),
        ("When should I take the Safety module?", []),
        ("How much are the Siemens SMSCP exams?", ["cost"]),
        ("NIMS Machining price", ["cost"]),
        ("How much would we pay for two modules?", ["cost"]),
        ("Can WIOA cover the fees?", []),  # who pays, not how much
        ("What do entry production jobs pay?", ["pay"]),
        ("How much do apprentices earn?", ["pay"]),
        ("How long does it take to earn CPT?", []),  # earning the credential, not money
        ("How does CPT help me reach journey-level pay?", []),
        ("How much does CPT cost, and what do entry jobs pay?", ["cost", "pay"]),
        ("How many questions are on each module?", ["count"]),
    ],
)
def test_questions_asking_for_one_kind_of_fact(question: str, kinds: list[str]) -> None:
    assert wanted_answer_types(question) == kinds


def test_a_price_is_not_a_salary() -> None:
    cost, pay = ANSWER_TYPES["cost"][1], ANSWER_TYPES["pay"][1]
    assert cost.search("most candidates pay $90-$120 per module")
    assert cost.search("Cost: ~$100/credential")
    assert not cost.search("entry-level roles ($35K-$50K base pay)")
    assert pay.search("entry-level roles ($35K-$50K base pay)")
    assert not pay.search("most candidates pay $90-$120 per module")


def test_a_quote_must_name_what_the_question_pins(chain: FaqChain) -> None:
    osha = scored_sentence(chain, "| OSHA 10-hour General Industry")
    level_1 = scored_sentence(chain, "| Siemens SMSCP L1")
    assert answers_kind(osha, ["cost"], ["osha", "10"])
    assert not answers_kind(osha, ["cost"], ["osha", "30"])  # OSHA 30 is another course
    assert answers_kind(level_1, ["cost"], ["siemen", "smscp", "1"])  # "L1" holds the 1
    assert not answers_kind(level_1, ["cost"], ["smscp", "2"])
    assert not answers_kind(osha, ["pay"], ["osha"])  # a price, not a salary
    maintenance = scored_sentence(chain, "| CPT-MT only")
    # one of the names will do ("Maintenance Awareness" is priced as the Maintenance module)
    assert answers_kind(maintenance, ["cost"], ["maintenance", "awareness"])
    assert not answers_kind(maintenance, ["cost"], ["fanuc", "nocti"])
    questions = scored_sentence(chain, "Each module is assessed by a computer-based exam")
    assert answers_kind(questions, ["count"], [], ["question"])
    assert not answers_kind(questions, ["count"], [], ["people"])  # counts all must be there


def test_a_count_must_count_what_was_asked_about() -> None:
    known = ["college", "credit", "hour", "question"]
    assert counted("How many college credit hours does it transfer as?", known) == known[:3]
    assert counted("how many questions, how long?", known) == ["question"]
    assert counted("How many zorbs are there?", known) == []  # unknown words: another check's job


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("how many modules, how long each, and can I test from home?", True),
        ("What is OSHA 10 and how much does it cost?", True),
        ("How much is the Safety module?", False),
        ("How many hours of study and practice does a module take?", False),
    ],
)
def test_questions_asking_several_things(question: str, several: bool) -> None:
    assert bool(SEVERAL_ASKS.search(question)) is several

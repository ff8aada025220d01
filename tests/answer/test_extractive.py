"""The extractive answer: quotes with [n], abstention, what a question asks for.

The answer step is tested on small hand-made passages with hand-set sentence scores, so
each test says what the answer does with a given retrieval, whatever retrieval would
rank. A few tests at the end go through the whole chain over the guide."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from bot.answer.chain import FaqChain
from bot.answer.extractive import ABSTAIN_TEXT, ExtractiveAnswerer, abstain
from bot.index.sentences import split_sentences
from bot.index.text import tokenize
from bot.ingest.chunking import chunk_document
from bot.types import Answer, Chunk, Hit, Question, Retrieval, ScoredSentence

MIN_EVIDENCE = 0.3
NOT_COVERED = "The pages do not say. Please ask the Service Desk."

PARKING = (
    "## Parking\n\n"
    "Student parking permits are sold at the Service Desk in Hale Hall. "
    "A permit is valid for one term.\n\n"
    "Permits are paid for from the student activity fund. This keeps the price at $45 a term.\n"
)
ORIENTATION = (
    "## Orientation\n\n"
    "Every new student attends orientation with an advisor. "
    "Orientation is held in the Hale Hall auditorium.\n\n"
    "Bring your student card and a pen.\n"
)
ORIENTATION_DATED = ORIENTATION + "\nThe next orientation session is on March 3 at 10 am.\n"
GRADING = (
    "## Grading\n\nYour grade is based on these weights. They vary a little by term:\n\n"
    "- 45% Projects\n- 10% Homework\n- 45% Exams\n\nExams are closed book.\n"
)
FEES = (
    "## Welding fees\n\n"
    "| Course | Fee |\n|---|---|\n"
    "| Welding Level 1 | $120 |\n| Welding Level 2 | $150 |\n\n"
    "Graduates of the welding program start at $22 an hour.\n"
)
TUTORING = (
    "## Tutoring\n\n"
    "The Learning Resource Hub (LRH) is the tutoring centre on the second floor of Hale Hall.\n\n"
    "LRH tutors are free for every enrolled student.\n"
)
LAB = (
    "## Computer lab\n\n"
    "The computer lab in Hale Hall opened in 2019.\n\n"
    "The lab has 24 seats and 6 printers.\n"
)
WORKSHOPS = (
    "## Required workshops\n\n"
    "Every new student takes three workshops in the first term.\n\n"
    "### 1. Library research\n\nFinding and judging sources for a first paper.\n\n"
    "### 2. Study planning\n\nBuilding a weekly study schedule that holds.\n\n"
    "### 3. Campus safety\n\nWhat to do in an emergency on campus.\n"
)


def page(text: str, name: str = "desk.md") -> Chunk:
    """The one chunk a short hand-made page is."""
    (chunk,) = chunk_document(text, name, 1000)
    return chunk


def scored(chunk: Chunk, scores: dict[str, float], rest: float = 0.05) -> list[ScoredSentence]:
    """Every sentence (list item, table row) of the chunk, scored by hand: a sentence gets
    the score of the first key it starts with, else ``rest``. Best first."""
    out = []
    for span in split_sentences(chunk):
        score = next((s for start, s in scores.items() if span.text.startswith(start)), rest)
        out.append(ScoredSentence(score, score, chunk, span))
    return sorted(out, key=lambda x: -x.score)


def retrieved(
    question: Question,
    sentences: Sequence[ScoredSentence],
    unknown_meaning: float = 0.0,
    outline: tuple[str, tuple[ScoredSentence, ...]] = ("", ()),
) -> Retrieval:
    """What retrieval would hand the answer step: the sentences' passages as hits, in the
    order of their best sentence."""
    chunks = list({x.chunk.id: x.chunk for x in sentences}.values())
    hits = [Hit(c, 1.0 - i / 10, i + 1) for i, c in enumerate(chunks)]
    ranked = sorted(sentences, key=lambda x: -x.score)
    return Retrieval(question, hits, ranked, unknown_meaning, outline)


def answer(question: Question, sentences: Sequence[ScoredSentence], **kw: object) -> Answer:
    answerer = ExtractiveAnswerer(min_evidence=MIN_EVIDENCE, not_covered=NOT_COVERED)
    return answerer.answer(question.text, retrieved(question, sentences, **kw))  # type: ignore[arg-type]


def quotes(result: Answer) -> list[str]:
    return [c.quote for c in result.citations]


def assert_abstained(result: Answer) -> None:
    assert result.abstained and result.citations == [] and result.text == NOT_COVERED


def assert_cites_exactly(result: Answer, sources: dict[str, str]) -> None:
    """Every [n] marker has its citation, every citation its marker, and each quote is
    exactly the source text between its offsets, inside its passage."""
    assert not result.abstained
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", result.text)]
    assert markers and sorted(set(markers)) == [c.n for c in result.citations]
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    for c in result.citations:
        assert sources[c.source][c.start : c.end] == c.quote
        assert c.quote in c.passage


# --------------------------------------------------------------- citations
@pytest.mark.parametrize(
    ("text", "best"),
    [
        (PARKING, "Student parking permits"),
        (GRADING, "Your grade is based"),  # a lead-in and its list: several citations
        (FEES, "| Welding Level 2"),  # a table row reads "Course: ...; Fee: ..."
        (PARKING, "This keeps the price"),  # quoted with the sentence it leans on
    ],
)
def test_every_marker_has_a_citation_quoting_the_source_exactly(text: str, best: str) -> None:
    chunk = page(text)
    result = answer(Question("what does the page say?"), scored(chunk, {best: 0.8}))
    assert_cites_exactly(result, {"desk.md": text})
    assert result.passages == [chunk]


def test_citations_from_two_files_quote_each_file() -> None:
    other = "Lost property is kept at the Service Desk for thirty days.\n"
    parking, lost = page(PARKING), page(other, "lost.txt")
    sentences = scored(parking, {"Student parking permits": 0.8}) + scored(
        lost, {"Lost property": 0.79}
    )
    result = answer(Question("where is the service desk?"), sentences)
    assert_cites_exactly(result, {"desk.md": PARKING, "lost.txt": other})


def test_a_table_row_is_quoted_exactly_but_reads_with_its_column_names() -> None:
    chunk = page(FEES)
    result = answer(Question("what does level 2 cost?"), scored(chunk, {"| Welding Level 2": 0.8}))
    assert result.citations[0].quote == "| Welding Level 2 | $150 |"
    assert "Course: Welding Level 2; Fee: $150." in result.text


# --------------------------------------------------------------- abstention
def test_weak_evidence_abstains_without_citations() -> None:
    chunk = page(PARKING)
    weak = answer(Question("is there a bus?"), scored(chunk, {}, rest=MIN_EVIDENCE - 0.1))
    assert_abstained(weak)
    assert weak.passages == [chunk]  # what was found is still reported
    strong = answer(Question("is there a bus?"), scored(chunk, {}, rest=MIN_EVIDENCE + 0.1))
    assert not strong.abstained


def test_nothing_retrieved_abstains() -> None:
    assert_abstained(answer(Question("anything?"), []))


def test_the_default_refusal_and_abstain() -> None:
    chunk = page(PARKING)
    retrieval = retrieved(Question("bus?"), scored(chunk, {}, rest=0.0))
    result = ExtractiveAnswerer(min_evidence=MIN_EVIDENCE).answer("bus?", retrieval)
    assert result.abstained and result.text == ABSTAIN_TEXT
    assert abstain() == Answer(ABSTAIN_TEXT, [], True, [])
    assert abstain("Ask the desk.", [chunk]) == Answer("Ask the desk.", [], True, [chunk])


def test_meaning_resting_on_unknown_words_raises_the_bar() -> None:
    sentences = scored(page(PARKING), {"Student parking permits": 0.5})
    question = Question("can I park a zorbmobile?", unknown=("zorbmobil",))
    assert not answer(question, sentences, unknown_meaning=0.0).abstained
    # half the question's meaning rests on words the pages never use: 0.5 is not enough
    assert_abstained(answer(question, sentences, unknown_meaning=0.5))


def test_a_question_about_a_name_the_pages_never_mention_abstains() -> None:
    sentences = scored(page(PARKING), {"Student parking permits": 0.8})
    assert not answer(Question("where do I buy a parking permit?"), sentences).abstained
    zorbania = Question("where do I buy a parking permit in Zorbania?", unknown_names=("Zorbania",))
    assert_abstained(answer(zorbania, sentences))


# --------------------------------------------------------------- kinds of fact
def test_a_question_for_a_date_abstains_when_no_sentence_holds_one() -> None:
    question = Question("when is the next orientation?", kinds=("date",))
    sentences = scored(page(ORIENTATION), {"Every new student": 0.8, "Orientation is": 0.7})
    assert_abstained(answer(question, sentences))


def test_a_question_for_a_date_quotes_the_sentence_holding_it() -> None:
    question = Question("when is the next orientation?", kinds=("date",))
    chunk = page(ORIENTATION_DATED)
    sentences = scored(chunk, {"Every new student": 0.8, "The next orientation": 0.5})
    result = answer(question, sentences)
    assert quotes(result) == ["The next orientation session is on March 3 at 10 am."]
    assert_cites_exactly(result, {"desk.md": ORIENTATION_DATED})
    # asked for no kind of fact, the best sentence answers
    assert quotes(answer(Question("tell me about orientation"), sentences))[0].startswith(
        "Every new student"
    )


@pytest.mark.parametrize("kind", ["address", "date", "count", "cost", "time", "amount", "street"])
def test_a_kind_of_fact_no_sentence_holds_is_not_guessed(kind: str) -> None:
    sentences = scored(page(ORIENTATION), {"Every new student": 0.8})
    assert_abstained(answer(Question("about orientation?", kinds=(kind,)), sentences))


def test_a_price_must_be_the_price_of_what_the_question_names() -> None:
    sentences = scored(page(FEES), {"| Welding Level 1": 0.8, "| Welding Level 2": 0.6})
    weld = tuple(tokenize("welding"))
    level_2 = Question("what is the fee for welding level 2?", kinds=("cost",), pinned=(*weld, "2"))
    assert quotes(answer(level_2, sentences)) == ["| Welding Level 2 | $150 |"]
    level_3 = Question("what is the fee for welding level 3?", kinds=("cost",), pinned=(*weld, "3"))
    assert_abstained(answer(level_3, sentences))  # no sentence prices level 3


def test_a_price_is_not_an_answer_to_a_pay_question() -> None:
    sentences = scored(page(FEES), {"| Welding Level 1": 0.8, "Graduates": 0.6})
    wage = answer(Question("what do welders earn?", kinds=("pay",)), sentences)
    assert quotes(wage) == ["Graduates of the welding program start at $22 an hour."]
    price = answer(Question("what is the welding fee?", kinds=("cost",)), sentences)
    assert "| Welding Level 1 | $120 |" in quotes(price)
    assert "Graduates of the welding program start at $22 an hour." not in quotes(price)


def test_a_count_must_count_what_was_asked_about() -> None:
    sentences = scored(page(LAB), {"The computer lab": 0.8, "The lab has": 0.6})
    seats = Question("how many seats?", kinds=("count",), counts=tuple(tokenize("seats")))
    assert quotes(answer(seats, sentences)) == ["The lab has 24 seats and 6 printers."]
    staff = Question("how many staff?", kinds=("count",), counts=tuple(tokenize("staff")))
    assert_abstained(answer(staff, sentences))  # numbers, but none counts staff


# --------------------------------------------------------------- what a quote brings along
def test_a_paragraph_ending_in_a_colon_brings_its_list() -> None:
    chunk = page(GRADING, "syllabus.md")
    spans = split_sentences(chunk)
    sentences = [ScoredSentence(0.9 - i / 100, 0.9, chunk, s) for i, s in enumerate(spans)]
    result = answer(Question("how are the marks weighted?"), sentences)
    assert "45% Projects" in result.text and "10% Homework" in result.text
    assert "45% Exams" in result.text
    assert result.text.index("based on these weights") < result.text.index("vary a little")
    assert "closed book" not in result.text
    assert_cites_exactly(result, {"syllabus.md": GRADING})


def test_a_sentence_leaning_on_the_one_before_is_quoted_with_it() -> None:
    sentences = scored(page(PARKING), {"This keeps the price": 0.8})
    result = answer(Question("how much is a parking permit?"), sentences)
    assert "Permits are paid for from the student activity fund." in result.text
    assert result.text.index("student activity fund") < result.text.index("$45 a term")
    assert_cites_exactly(result, {"desk.md": PARKING})


def test_a_list_question_is_answered_by_the_sub_sections_that_list_it() -> None:
    chunks = chunk_document(WORKSHOPS, "desk.md", 1000)
    parts = tuple(
        ScoredSentence(1.0, 1.0, c, split_sentences(c)[0]) for c in chunks if " > " in c.section
    )
    intro = scored(chunks[0], {"Every new student": 0.6})
    question = Question("which workshops are required?", listed="workshops", wants_list=True)
    result = answer(question, intro, outline=("Required workshops", parts))
    assert result.text == (
        "Required workshops: Library research [1]; Study planning [2]; Campus safety [3]."
    )
    for c, part in zip(result.citations, parts, strict=True):
        assert c.section == part.chunk.section and c.quote == part.span.text
    assert_cites_exactly(result, {"desk.md": WORKSHOPS})


# --------------------------------------------------------------- through the chain
def test_an_answer_from_the_guide_quotes_it_exactly(chain: FaqChain) -> None:
    result = chain.ask("How much does the full CPT cost?")
    assert not result.abstained and "360" in result.text
    sources = {
        c.source: (chain.settings.corpus_dir / c.source).read_text() for c in result.citations
    }
    assert_cites_exactly(result, sources)


def test_gibberish_abstains_with_the_profiles_refusal(chain: FaqChain) -> None:
    result = chain.ask("zzyzx quorble flimflam?")
    assert result.abstained and result.citations == []
    assert result.text == chain.settings.profile.not_covered


@pytest.mark.parametrize(
    "question",
    [
        "What does the OSHA 10 course cost in Zorbania?",  # a place the guide never names
        "What does the OSHA 30 course cost?",  # the guide prices OSHA 10 only
        "Who is the president of MSSC?",
        "In what year was the CPT 4.0 update released?",
        "What date is the next CPT exam session?",
    ],
)
def test_what_the_guide_does_not_say_is_not_guessed(chain: FaqChain, question: str) -> None:
    assert chain.ask(question).abstained


def test_what_the_guide_does_say_is_answered(chain: FaqChain) -> None:
    result = chain.ask("What does the OSHA 10 course cost?")
    assert not result.abstained and "60-100" in result.text


@pytest.mark.integration
def test_a_date_question_is_answered_with_the_sentence_holding_the_date(
    real_chain: FaqChain,
) -> None:
    result = real_chain.ask("On what date were the module prices in the guide last checked?")
    assert not result.abstained and "2026-05-19" in result.text


# ------------------------------------------------------- composing from a passage
ADVISING = (
    "## Advising\n\n"
    "Students on probation must meet an advisor before registering. "
    "The advisor then emails the registrar an approval. "
    "Walk-in advising needs no appointment.\n\n"
    "To book a meeting, bring these:\n\n"
    "- Your student number.\n- Your unofficial transcript.\n- A draft schedule.\n\n"
    "The advising office is in Birch Hall, Room 210.\n"
)


def test_the_sentence_after_the_best_finishes_its_thought_in_one_quote() -> None:
    result = answer(
        Question("I am on probation, can I register?"),
        scored(page(ADVISING), {"Students on probation": 0.8}),
    )
    # the next sentence joins it; the two run on one line, so they are one quote, one [n]
    assert quotes(result) == [
        "Students on probation must meet an advisor before registering. "
        "The advisor then emails the registrar an approval."
    ]
    assert result.text.count("[") == 1
    assert_cites_exactly(result, {"desk.md": ADVISING})


def test_a_question_for_a_list_gets_the_whole_list_with_its_lead_in() -> None:
    sentences = scored(page(ADVISING), {"- Your unofficial transcript": 0.8})
    listed = answer(Question("what do I bring?", wants_list=True), sentences)
    assert quotes(listed) == [
        "To book a meeting, bring these:",
        "- Your student number.",
        "- Your unofficial transcript.",
        "- A draft schedule.",
    ]
    assert_cites_exactly(listed, {"desk.md": ADVISING})
    # asked about one item, the item answers (with the one after it)
    single = answer(Question("do I need a transcript?"), sentences)
    assert quotes(single)[0] == "- Your unofficial transcript."
    assert "- Your student number." not in quotes(single)


def test_a_typed_fact_is_found_anywhere_in_the_best_passage() -> None:
    # the room is on the last line, scored below six stronger sentences of other passages
    others = [
        page(f"## Note {i}\n\nGeneral advice number {i} for every student.\n", f"n{i}.md")
        for i in range(6)
    ]
    sentences = scored(page(ADVISING), {"Walk-in advising": 0.7}, rest=0.2)
    sentences += [x for chunk in others for x in scored(chunk, {}, rest=0.5)]
    room = Question("which room is advising in?", kinds=("place",), tokens=("advis",))
    assert quotes(answer(room, sentences))[0] == "The advising office is in Birch Hall, Room 210."


def test_a_typed_fact_must_be_about_what_the_question_asks() -> None:
    # "how many hours does the exam last?" is not answered by the hours a job allows
    text = "## Jobs\n\nStudent workers may work up to 20 hours per week.\n"
    sentences = scored(page(text), {"Student workers": 0.8})
    exam = Question("how many hours is the exam?", kinds=("count",), tokens=("hour", "exam"),
                    counts=("hour",))  # fmt: skip
    assert_abstained(answer(exam, sentences))
    job = Question("how many hours can student workers work?", kinds=("count",),
                   tokens=("hour", "student", "worker"), counts=("hour",))  # fmt: skip
    assert quotes(answer(job, sentences)) == ["Student workers may work up to 20 hours per week."]

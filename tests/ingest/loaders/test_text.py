from pathlib import Path

from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import SAMPLES, check_consistent, questions, section

FAQ = SAMPLES / "harbor-valley-faq.txt"


def test_text_is_kept_exactly_as_written() -> None:
    doc = load(FAQ, "faq.txt")
    assert doc.text == FAQ.read_text(encoding="utf-8")
    assert doc.title == "Harbor Valley Community College: Admissions questions"
    assert doc.kind == "txt"


def test_question_lines_become_question_sections_with_their_answers() -> None:
    doc = load(FAQ, "faq.txt")
    check_consistent(doc, heading_lines=False)
    qa = questions(doc)
    assert qa["Where is the admissions office?"] == "Building 4, second floor"
    assert qa["What documents do I need to enrol?"].endswith("from a parent or guardian.")
    assert qa["Is there a late fee?"] == "Yes, $25 for each missed payment."
    # Q:/A: prefixes stay in the text but not in the question or the answer span.
    assert qa["Can I change my program after I start?"].startswith("Yes. Meet an advisor")
    assert len(qa) == 5


def test_short_answers_are_never_headings_and_topics_are() -> None:
    doc = load(FAQ, "faq.txt")
    titles = [s.title for s in doc.sections]
    assert "Building 4, second floor" not in titles
    assert section(doc, "When is tuition due?").path == (
        "Paying for college",
        "When is tuition due?",
    )


def test_a_wrapped_line_ending_in_a_question_mark_is_not_a_question(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(
        "Advising\n\nStudents often ask what the advisor can do for\nthem in the first week?\n"
        "The answer is a lot.\n",
        encoding="utf-8",
    )
    assert questions(load(path, "notes.txt")) == {}

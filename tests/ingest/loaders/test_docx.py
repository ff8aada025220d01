from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import SAMPLES, body, check_consistent, questions, section

HANDBOOK = SAMPLES / "harbor-valley-handbook.docx"


@pytest.fixture(scope="module")
def doc():
    return load(HANDBOOK, "handbook.docx")


def test_title_from_core_properties(doc) -> None:
    assert doc.title == "Harbor Valley Student Handbook" and doc.kind == "docx"


def test_heading_styles_give_levels_under_the_title(doc) -> None:
    check_consistent(doc)
    assert section(doc, "Attendance").path == ("Student Handbook", "Student conduct", "Attendance")
    assert "## Student conduct\n" in doc.text and "### Attendance\n" in doc.text


def test_question_headings_and_bold_questions_are_entries(doc) -> None:
    assert questions(doc) == {
        "What happens if I miss an exam?": "Contact your instructor within 48 hours to "
        "arrange a make-up exam.",
        "Can I bring a guest to class?": "Only with the instructor's permission.",
        "Where is the library?": "Building 6, ground floor",
    }


def test_lists_and_tables(doc) -> None:
    attendance = body(doc, "Attendance")
    assert (
        "- a week of classes may be dropped from the course.\n  - Labs count double." in attendance
    )
    assert "- Open the student portal.\n- Choose Book an appointment." in doc.text
    assert "| Office | Hours |\n| --- | --- |\n| Advising Center | 9 am to 5 pm |" in doc.text


def test_headers_footers_and_hidden_text_are_not_content(doc) -> None:
    for leak in ("Draft for review", "handbook footer", "INTERNAL NOTE"):
        assert leak not in doc.text
    assert "Late work is accepted for three days." in doc.text


def test_a_file_that_is_not_a_zip_is_named_with_what_to_do(tmp_path: Path) -> None:
    fake = tmp_path / "old.docx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc")
    with pytest.raises(
        CorpusError, match=r"old\.docx.*not a zip archive.*save it from Word as \.docx"
    ):
        load(fake, "old.docx")

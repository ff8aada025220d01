import pytest

from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import MARKUP, SAMPLES, check_consistent, questions, section

PAGE = SAMPLES / "harbor-valley-orientation.md"


@pytest.fixture(scope="module")
def doc():
    return load(PAGE, "orientation.md")


def test_title_comes_from_front_matter(doc) -> None:
    assert doc.title == "New Student Orientation" and doc.kind == "md"


def test_front_matter_templates_and_comments_are_not_content(doc) -> None:
    for leak in ("layout", "permalink", "campus-alert", "Jinja", "render_banner", "site.",
                 "Stale policy", "$40", "Saturdays", "endif"):  # fmt: skip
        assert leak not in doc.text, leak
    assert MARKUP.search(doc.text) is None
    assert "**" not in doc.text and "](" not in doc.text and "*My" not in doc.text
    assert doc.text.startswith("Orientation is a half-day welcome")


def test_bold_q_and_details_questions_are_entries_with_exact_answers(doc) -> None:
    check_consistent(doc)
    assert questions(doc) == {
        "How do I sign up for orientation?": "Choose a date in the student portal under My "
        "Orientation. Sessions fill up about two weeks ahead.",
        "Can family members come?": "Yes, one guest per student is welcome at the morning session.",
        "Is orientation required?": "Yes for every new student.",
        "What if I miss my session?": "Book a make-up session in the portal within one week.",
    }
    assert section(doc, "Is orientation required?").path == (
        "Questions",
        "Is orientation required?",
    )


def test_lists_and_tables_keep_their_shape(doc) -> None:
    assert "- Bring a photo ID.\n  - The ID office is in the Student Center." in doc.text
    assert "| Lot | Who may park |\n| --- | --- |\n| A | Students |" in doc.text

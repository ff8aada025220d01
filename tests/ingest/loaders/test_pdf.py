import shutil
from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import SAMPLES, body, check_consistent, questions, section

AID = SAMPLES / "harbor-valley-financial-aid.pdf"


@pytest.fixture(scope="module")
def doc():
    return load(AID, "aid.pdf")


def test_title_from_metadata(doc) -> None:
    assert doc.title == "Harbor Valley Financial Aid Guide" and doc.kind == "pdf"


def test_numbered_headings_nest_by_their_numbers_under_the_title(doc) -> None:
    check_consistent(doc)
    assert section(doc, "Financial Aid Guide").path == ("Financial Aid Guide",)
    assert section(doc, "1 Types of aid").path == ("Financial Aid Guide", "1 Types of aid")
    assert section(doc, "2.1 The FAFSA").path == (
        "Financial Aid Guide",
        "2 Applying for aid",
        "2.1 The FAFSA",
    )
    assert "### 2.1 The FAFSA\n" in doc.text


def test_pages_of_headings_and_page_starts(doc) -> None:
    assert [
        section(doc, t).page
        for t in ("1.1 Grants", "2.1 The FAFSA", "3 Frequently asked questions")
    ] == [1, 2, 3]
    assert len(doc.page_starts) == 3
    # A paragraph carried over the page break is one paragraph; page 2 starts inside it.
    loans = body(doc, "1.2 Loans")
    assert loans == (
        "Federal loans must be repaid with interest, starting six months after you leave "
        "college or drop below half-time enrolment."
    )
    page2 = doc.page_starts[1]
    assert doc.text[page2:].startswith("you leave college")
    assert doc.page_at(page2) == 2 and doc.page_at(page2 - 1) == 1


def test_hyphenation_running_headers_and_page_numbers(doc) -> None:
    assert "work-study program pays" in doc.text and "pro-" not in doc.text
    assert "Financial Aid Guide 2026-27" not in doc.text  # the running header
    assert "Page 1 of 3" not in doc.text and "of 3" not in doc.text


def test_bullets_and_their_wrapped_lines_are_list_items(doc) -> None:
    grants = body(doc, "1.1 Grants")
    assert grants.endswith(
        "- Pell Grant: up to $7,395 a year for eligible students.\n"
        "- Harbor Promise Grant: covers tuition for in-district students who enrol full-time."
    )


def test_bold_and_q_a_questions_are_entries(doc) -> None:
    assert questions(doc) == {
        "How do I keep my aid next year?": "Pass at least 67% of the credits you attempt and "
        "keep a GPA of 2.0 or higher.",
        "Can I get aid for summer classes?": "Yes, if you enrol in at least six credits in "
        "the summer term.",
        "Where is the Financial Aid Office?": "Building 2, room 110",
    }


def test_a_scanned_pdf_needs_ocr() -> None:
    with pytest.raises(CorpusError, match=r"scanned-no-text\.pdf.*no text layer.*needs OCR"):
        load(SAMPLES / "scanned-no-text.pdf", "scanned-no-text.pdf")


def test_a_password_protected_pdf_is_named_as_encrypted() -> None:
    with pytest.raises(CorpusError, match=r"encrypted\.pdf.*encrypted \(password-protected\)"):
        load(SAMPLES / "encrypted.pdf", "encrypted.pdf")


def test_a_pdf_encrypted_without_a_user_password_is_read() -> None:
    doc = load(SAMPLES / "owner-locked.pdf", "owner-locked.pdf")
    assert "2.1 The FAFSA" in [s.title for s in doc.sections]


def test_a_file_that_is_not_a_pdf_is_an_error(tmp_path: Path) -> None:
    fake = tmp_path / "notes.pdf"
    fake.write_text("just some text, not a PDF")
    with pytest.raises(CorpusError, match=r"notes\.pdf.*not a readable PDF"):
        load(fake, "notes.pdf")


def test_a_truncated_pdf_is_an_error_not_a_crash(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pdf"
    shutil.copy(AID, cut)
    cut.write_bytes(AID.read_bytes()[:300])
    with pytest.raises(CorpusError, match=r"cut\.pdf"):
        load(cut, "cut.pdf")

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import MARKUP, SAMPLES, body, check_consistent, questions, section

ADMISSIONS = SAMPLES / "harbor-valley-admissions.html"


@pytest.fixture(scope="module")
def doc():
    return load(ADMISSIONS, "admissions.html")


def test_title_source_and_kind(doc) -> None:
    assert doc.title == "Admissions FAQ | Harbor Valley Community College"
    assert (doc.source, doc.kind) == ("admissions.html", "html")


def test_every_form_of_question_is_a_question_section_with_its_exact_answer(doc) -> None:
    check_consistent(doc)
    qa = questions(doc)
    assert qa["How do I apply?"].startswith("Fill in the free online application")
    assert qa["When is the application deadline?"].startswith("We admit students all year.")
    assert qa["When is the application deadline?"].endswith("spring term.")  # <details>
    assert qa["Do I need to write an essay for admission?"].startswith("No. Harbor Valley")
    assert qa["Is there an application fee?"] == "No, applying is free."  # <dt>/<dd>
    assert qa["Can I apply without a high school diploma?"].startswith("Yes. Students 18")
    assert qa["How do I send my transcripts?"].startswith("Ask your high school")
    assert qa["Where is the admissions office?"] == "Building 4, second floor"
    assert qa["What are the office hours?"].startswith("- Monday to Thursday")
    assert len(qa) == 8


def test_headings_nest_and_carry_anchors(doc) -> None:
    apply = section(doc, "How do I apply?")
    assert apply.path == ("Admissions FAQ", "Applying", "How do I apply?")
    assert apply.anchor == "how-apply"
    assert section(doc, "When is the application deadline?").anchor == "deadline"
    assert section(doc, "How do I send my transcripts?").anchor == "transcripts"  # <a name>
    assert section(doc, "Is there an application fee?").anchor == "applying"  # enclosing
    # Entries are siblings under their topic, not nested under the question before them.
    assert section(doc, "Do I need to write an essay for admission?").path[:-1] == (
        "Admissions FAQ",
        "Applying",
    )


def test_no_boilerplate_hidden_text_comments_or_markup(doc) -> None:
    leaks = [
        "Skip to main content", "Accept cookies", "Programs", "Academic calendar", "Home",
        "Secret staff note", "old deadline", "$50", "Back to top", "©", "gtag", "dataLayer",
        "font-weight", "enable JavaScript", "Related links", "★", "Q:", "Q.", "logo",
    ]  # fmt: skip
    assert [s for s in leaks if s in doc.text] == []
    assert MARKUP.search(doc.text) is None
    # The table of contents is navigation: each question appears once, as its heading.
    assert doc.text.count("How do I apply?") == 1


def test_data_table_becomes_rows_with_a_header_rule(doc) -> None:
    costs = body(doc, "Costs")
    assert "| Student | Per credit |\n| --- | --- |\n| In-district | $120 |" in costs


def test_nested_lists_are_indented_items(doc) -> None:
    assert "- Friday: 8 am to 4 pm\n  - Closed on college holidays" in doc.text


def test_broken_html_still_loads(tmp_path: Path) -> None:
    page = tmp_path / "broken.htm"
    page.write_text(
        "<html><body><div><h2>Parking<p>Permits cost $40.<p><b>Where do I buy one?</b>"
        "<p>At the cashier, Building 1</div></div></span><ul><li>Lot A<li>Lot B",
        encoding="utf-8",
    )
    doc = load(page, "broken.htm")
    check_consistent(doc)
    assert questions(doc) == {
        "Where do I buy one?": "At the cashier, Building 1\n\n- Lot A\n- Lot B"
    }
    assert "Permits cost $40." in body(doc, "Parking")


def test_legacy_encoding_and_windows_dash_entity(tmp_path: Path) -> None:
    page = tmp_path / "old.html"
    page.write_bytes(
        b'<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head>'
        b"<body><p>Open 8&#151;5 at the caf\xe9.</p></body></html>"
    )
    doc = load(page, "old.html")
    assert doc.title == "Café" and "Open 8—5 at the café." in doc.text


def test_a_page_without_text_is_an_error_naming_the_file(tmp_path: Path) -> None:
    page = tmp_path / "app.html"
    page.write_text("<html><body><div id='root'></div><script>render()</script></body></html>")
    with pytest.raises(CorpusError, match=r"app\.html.*no text"):
        load(page, "app.html")

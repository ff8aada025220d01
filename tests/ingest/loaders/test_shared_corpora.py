"""The loaders on real public pages of other institutions, kept beside the project in
../shared/corpora (see its README). Skipped, with the reason, where that folder is absent."""

import re
from pathlib import Path

import pytest

from bot.ingest.loaders import load
from tests.ingest.loaders.helpers import MARKUP, check_consistent, questions

CORPORA = Path(__file__).resolve().parents[3].parent / "shared" / "corpora"
pytestmark = pytest.mark.skipif(
    not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA} (not checked out here)"
)


def _load(relative: str):
    path = CORPORA / relative
    if not path.is_file():
        pytest.skip(f"{path} is not in this copy of the shared corpora")
    return load(path, relative)


def test_html_faq_yields_its_q_entries_and_no_navigation_or_script() -> None:
    doc = _load("html-faq/lbcc-library-illfaq.html")
    check_consistent(doc)
    qa = questions(doc)
    asked = [q for q in qa if q.endswith("?")]
    assert len(asked) == 15 and len(qa) == 21  # 15 "Q." questions and 6 policy entries
    assert all(answer and not answer.startswith("Q") for answer in qa.values())
    assert all(s.anchor for s in doc.sections if s.question)
    for leak in ("MM_swapImgRestore", "document.write", "getFullYear", "Return to Top",
                 "All Rights Reserved", "Content Manager", "Web Standards", "Template version",
                 "Do not change", "Q. "):  # fmt: skip
        assert leak not in doc.text, leak
    assert MARKUP.search(doc.text) is None


def test_markdown_syllabus_has_no_front_matter_liquid_or_commented_policy() -> None:
    doc = _load("markdown-course/cmu-15-440-syllabus.md")
    check_consistent(doc)
    assert doc.title == "Syllabus"
    assert len(doc.sections) >= 10 and all(len(s.path) == 1 for s in doc.sections)
    for leak in ("layout:", "micro_nav", "site.baseurl", "site.course", "Piazza Policy",
                 "10% penalty"):  # fmt: skip
        assert leak not in doc.text, leak
    assert MARKUP.search(doc.text) is None


def test_pdf_handbook_yields_pages_and_numbered_sections() -> None:
    doc = _load("pdf/cornell-cam-graduate-handbook.pdf")
    check_consistent(doc)
    assert len(doc.page_starts) == 19
    numbered = [s for s in doc.sections if re.match(r"\d+(\.\d+)* ", s.title)]
    assert len(numbered) >= 50
    deep = [s for s in numbered if s.title.count(".") == 2]
    assert deep and all(len(s.path) == 4 for s in deep)  # title > 9 > 9.1 > 9.1.2
    assert all(s.page for s in numbered)
    assert "\ufb01" not in doc.text and "special-ization" not in doc.text  # ligature, hyphen


@pytest.mark.parametrize(
    "relative",
    [
        "html-faq/lbcc-library-illfaq.html",
        "markdown-course/cmu-15-440-syllabus.md",
        "pdf/cornell-cam-graduate-handbook.pdf",
    ],
)
def test_chunks_of_each_corpus_keep_sections_and_faq_pairs_and_no_markup(relative: str) -> None:
    from bot.index.sentences import split_sentences
    from bot.ingest.chunking import chunk_loaded

    doc = _load(relative)
    chunks = chunk_loaded(doc, 1000)
    assert {c.section for c in chunks} >= {" > ".join(s.path) for s in doc.sections if s.question}
    faq = {s.title for s in doc.sections if s.question}
    # one chunk per FAQ entry, its section the question, the question never a quote
    assert sorted(c.question for c in chunks if c.question) == sorted(faq)
    for chunk in chunks:
        assert MARKUP.search(chunk.text) is None, chunk.text[:80]
        for leak in ("{%", "{{", "<!--", "-->", "<?php", "layout:", "<summary", "</p>"):
            assert leak not in chunk.text, (leak, chunk.section)
        quotes = [s.text for s in split_sentences(chunk)]
        assert not any(q.startswith("#") for q in quotes)  # a heading is never quoted

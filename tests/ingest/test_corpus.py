"""Reading the corpus folder: every type through its loader, other files named, web lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.errors import CorpusError, CorpusFileTooLargeError
from bot.ingest.corpus import listed_urls, load_documents, scan_corpus, web_documents
from bot.types import FetchedPage, Skipped

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PAGES = (
    "harbor-valley-admissions.html",
    "harbor-valley-faq.txt",
    "harbor-valley-financial-aid.pdf",
    "harbor-valley-handbook.docx",
    "harbor-valley-orientation.md",
)


@pytest.fixture
def college(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in PAGES:
        shutil.copy(SAMPLES / name, corpus / name)
    return corpus


def test_every_page_type_is_read_and_every_other_file_is_named(college: Path) -> None:
    (college / "budget.xlsx").write_bytes(b"PK\x03\x04 not really")
    (college / "slides.pptx").write_bytes(b"PK\x03\x04 not really")
    (college / ".DS_Store").write_bytes(b"\x00\x01")
    (college / "faqbot.toml").write_text('name = "HV"\n', encoding="utf-8")  # the profile
    (college / "urls.txt").write_text("https://hv.example/\n", encoding="utf-8")  # a list
    corpus = scan_corpus(college)
    assert sorted(corpus.files) == sorted(PAGES)
    assert corpus.skipped == (
        Skipped(".DS_Store", "hidden file"),
        Skipped("budget.xlsx", "unsupported type"),
        Skipped("slides.pptx", "unsupported type"),
    )
    kinds = {d.source: d.kind for d in load_documents(corpus, 2_000_000)}
    assert kinds == {
        "harbor-valley-admissions.html": "html",
        "harbor-valley-faq.txt": "txt",
        "harbor-valley-financial-aid.pdf": "pdf",
        "harbor-valley-handbook.docx": "docx",
        "harbor-valley-orientation.md": "md",
    }


@pytest.mark.parametrize(
    ("sample", "problem"),
    [("scanned-no-text.pdf", "needs OCR"), ("encrypted.pdf", "encrypted")],
)
def test_an_unreadable_pdf_is_a_clear_error_naming_it(
    tmp_path: Path, sample: str, problem: str
) -> None:
    shutil.copy(SAMPLES / sample, tmp_path / sample)
    with pytest.raises(CorpusError, match=rf"{sample}.*{problem}"):
        load_documents(scan_corpus(tmp_path), 2_000_000)


def test_extracted_text_is_held_to_the_size_limit_too(college: Path) -> None:
    corpus = scan_corpus(college)
    with pytest.raises(CorpusFileTooLargeError, match="characters of text"):
        load_documents(corpus, 500)


def test_a_pdf_may_be_larger_on_disk_than_the_text_limit(college: Path, tmp_path: Path) -> None:
    only_pdf = tmp_path / "pdf"
    only_pdf.mkdir()
    shutil.copy(college / "harbor-valley-financial-aid.pdf", only_pdf)
    size = (only_pdf / "harbor-valley-financial-aid.pdf").stat().st_size
    assert "harbor-valley-financial-aid.pdf" in scan_corpus(only_pdf, size // 2).files
    with pytest.raises(CorpusFileTooLargeError, match=r"financial-aid\.pdf"):
        scan_corpus(only_pdf, size // 10)
    with pytest.raises(CorpusFileTooLargeError, match=r"\d bytes"):
        scan_corpus(college, 600)  # a text file is held to the limit as it is


def test_the_url_list_names_pages_and_sitemaps(tmp_path: Path) -> None:
    (tmp_path / "urls.txt").write_text(
        "# the admissions site\nhttps://hv.example/admissions\n\n"
        "sitemap: https://hv.example/sitemap.xml\nhttps://hv.example/aid/map.xml\n"
        "https://hv.example/faq#fees\n",
        encoding="utf-8",
    )
    pages, sitemaps = listed_urls(tmp_path)
    assert pages == ["https://hv.example/admissions", "https://hv.example/faq#fees"]
    assert sitemaps == ["https://hv.example/sitemap.xml", "https://hv.example/aid/map.xml"]
    assert listed_urls(tmp_path / "nowhere") == ([], [])


def test_web_pages_go_through_the_loader_of_their_content_type() -> None:
    html = (SAMPLES / "harbor-valley-admissions.html").read_bytes()
    pages = [
        FetchedPage("https://hv.example/admissions", html, "text/html; charset=utf-8"),
        FetchedPage("https://hv.example/logo.png", b"\x89PNG", "image/png"),
        FetchedPage("https://hv.example/blank", b"<html><body></body></html>", "text/html"),
    ]
    documents, skipped = web_documents(pages, 2_000_000)
    (page,) = documents
    assert page.source == page.url == "https://hv.example/admissions" and page.kind == "html"
    assert any(s.anchor for s in page.sections)
    assert [s.name for s in skipped] == ["https://hv.example/logo.png", "https://hv.example/blank"]
    assert "unsupported type image/png" in skipped[0].reason and "no text" in skipped[1].reason

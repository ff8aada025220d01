"""A college's own pages end to end (integration: the real model, a real local web server):
Markdown, PDF, Word and plain-text files in the corpus folder and an HTML page listed by
address in urls.txt all ingest, and answers cite file, PDF page, web address and section."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.ingest.pipeline import ingest
from tests.ingest.test_corpus import SAMPLES

pytestmark = pytest.mark.integration
FILES = (
    "harbor-valley-faq.txt",
    "harbor-valley-financial-aid.pdf",
    "harbor-valley-handbook.docx",
    "harbor-valley-orientation.md",
)
WEB_PAGE = "harbor-valley-admissions.html"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    shutil.copy(SAMPLES / WEB_PAGE, folder / WEB_PAGE)
    return folder


@pytest.fixture(scope="module")
def site(served: Path) -> Iterator[str]:
    """The web page served by a real HTTP server on loopback (with Last-Modified, so a
    second fetch is a conditional request answered 304)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def college(tmp_path_factory: pytest.TempPathFactory, site: str) -> tuple[Settings, Any]:
    from bot.index.embedding import MiniLMEmbeddings

    root = tmp_path_factory.mktemp("college")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(SAMPLES / name, corpus / name)
    (corpus / "budget.xlsx").write_bytes(b"PK\x03\x04")
    (corpus / "urls.txt").write_text(f"{site}/{WEB_PAGE}\n{site}/gone.html\n", encoding="utf-8")
    settings = Settings.from_env({}).with_(
        corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data"
    )
    embeddings = MiniLMEmbeddings()
    result = ingest(settings, embeddings)
    return settings, (result, embeddings)


def ask(college: tuple[Settings, Any], question: str) -> Any:
    settings, (_, embeddings) = college
    answer = FaqChain(settings, embeddings).ask(question)
    assert not answer.abstained and answer.citations, question
    return answer


def test_every_type_is_ingested_and_the_rest_named(college: tuple[Settings, Any]) -> None:
    result = college[1][0]
    assert result.changed and result.files == len(FILES) + 1
    summary = result.summary()
    assert "budget.xlsx (unsupported type)" in summary
    assert "gone.html (HTTP 404" in summary


def test_answers_cite_the_pdf_page(college: tuple[Settings, Any]) -> None:
    cite = ask(college, "Where is the financial aid office?").citations[0]
    assert cite.source == "harbor-valley-financial-aid.pdf" and cite.pages
    assert cite.section.endswith("Where is the Financial Aid Office?")
    assert "Building 2" in cite.quote


def test_answers_cite_the_web_page_with_its_heading_anchor(
    college: tuple[Settings, Any], site: str
) -> None:
    cite = ask(college, "Do I have to write an essay to get in?").citations[0]
    assert cite.url == f"{site}/{WEB_PAGE}#essay"
    assert cite.section.endswith("Do I need to write an essay for admission?")
    assert "essay" in cite.quote and "?" not in cite.quote  # the answer, not the question


@pytest.mark.parametrize(
    ("question", "source", "fact"),
    [
        ("Can I bring a guest to class?", "harbor-valley-handbook.docx", "permission"),
        ("Is orientation required?", "harbor-valley-orientation.md", "every new student"),
        ("Is there a late fee for tuition?", "harbor-valley-faq.txt", "$25"),
    ],
)
def test_answers_come_from_each_file_type(
    college: tuple[Settings, Any], question: str, source: str, fact: str
) -> None:
    answer = ask(college, question)
    assert answer.citations[0].source == source and fact in answer.text


def test_an_unchanged_site_re_ingests_without_work_and_a_failing_page_keeps_its_copy(
    college: tuple[Settings, Any], served: Path, site: str
) -> None:
    settings, (_, embeddings) = college
    again = ingest(settings, embeddings)
    assert not again.changed and again.embedded == 0
    # The page goes away: it is named, and its last good version is still answered from.
    (served / WEB_PAGE).rename(served / "elsewhere.html")
    try:
        gone = ingest(settings, embeddings)
        assert not gone.changed
        assert f"{site}/{WEB_PAGE} (HTTP 404" in gone.summary()
        assert "kept its last good version" in gone.summary()
        assert ask(college, "Is there an application fee?").citations[0].url.startswith(site)
    finally:
        (served / "elsewhere.html").rename(served / WEB_PAGE)


def test_pages_given_by_address_alone_ingest_into_an_empty_corpus_folder(
    tmp_path: Path, site: str, college: tuple[Settings, Any]
) -> None:
    empty = tmp_path / "corpus"
    empty.mkdir()
    settings = Settings.from_env({}).with_(
        corpus_dir=empty, index_dir=tmp_path / "index", data_dir=tmp_path / "data"
    )
    result = ingest(settings, college[1][1], urls=[f"{site}/{WEB_PAGE}"])
    assert result.changed and result.files == 1 and result.chunks > 0

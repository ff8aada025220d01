"""Hostile files and pages: a zip bomb, deep nesting, a parser that throws. Each is named,
with why, and the rest of the corpus or site still comes in; none costs unbounded memory."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest import loaders
from bot.ingest.corpus import corpus_documents, load_documents, scan_corpus, web_documents
from bot.types import FetchedPage
from tests.ingest.test_corpus import SAMPLES

GOOD = b"How do I apply?\n\nFill in the online form before March 1.\n"
LIMIT = 100_000  # FAQBOT_MAX_FILE_BYTES for these tests: a docx may unpack to 32x this
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bomb(unpacked: int, *, claimed: int | None = None, forge_crc: bool = False) -> bytes:
    """A .docx whose word/document.xml is ``unpacked`` zero bytes (they compress ~1000:1);
    with ``claimed``, its zip directory says the part is that size instead (a lie), and
    with ``forge_crc`` its checksum is that of the claimed bytes, so the lie checks out."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with zipfile.ZipFile(SAMPLES / "harbor-valley-handbook.docx") as real:
            for info in real.infolist():  # a real .docx, all but its body
                if info.filename != "word/document.xml":
                    z.writestr(info.filename, real.read(info))
        with z.open("word/document.xml", "w") as part:
            for _ in range(unpacked // 1_000_000):
                part.write(bytes(1_000_000))
    data = bytearray(buf.getvalue())
    if claimed is not None:  # the size fields of its local header and directory entry
        struct.pack_into("<I", data, data.rfind(b"PK\x03\x04") + 22, claimed)
        struct.pack_into("<I", data, data.rfind(b"PK\x01\x02") + 24, claimed)
        if forge_crc:
            crc = zlib.crc32(bytes(claimed))
            struct.pack_into("<I", data, data.rfind(b"PK\x03\x04") + 14, crc)
            struct.pack_into("<I", data, data.rfind(b"PK\x01\x02") + 16, crc)
    return bytes(data)


def nested_divs(depth: int) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_bytes(GOOD)
    return corpus


def test_a_docx_zip_bomb_is_named_and_the_rest_is_read_in_bounded_memory(folder: Path) -> None:
    (folder / "bomb.docx").write_bytes(docx_bomb(50_000_000))  # ~50 KB on disk
    tracemalloc.start()
    try:
        documents, skipped = corpus_documents(scan_corpus(folder, LIMIT), LIMIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.source for d in documents] == ["good.txt"]
    (bomb,) = skipped
    assert bomb.name == "bomb.docx"
    assert "unpacks to over 3,200,000 bytes" in bomb.reason
    assert peak < 20_000_000  # the 50 MB part was never held whole


def test_a_fetched_docx_zip_bomb_is_named_and_the_other_pages_come_in() -> None:
    pages = [
        FetchedPage("https://hv.example/handbook.docx", docx_bomb(50_000_000), DOCX),
        FetchedPage("https://hv.example/faq", GOOD, "text/plain"),
    ]
    documents, skipped = web_documents(pages, LIMIT)
    assert [d.url for d in documents] == ["https://hv.example/faq"]
    assert [s.name for s in skipped] == ["https://hv.example/handbook.docx"]
    assert "unpacks to over 3,200,000 bytes" in skipped[0].reason


@pytest.mark.parametrize("forge_crc", [False, True])
def test_a_docx_whose_zip_directory_lies_about_sizes_is_refused_while_reading(
    forge_crc: bool,
) -> None:
    bomb = docx_bomb(50_000_000, claimed=1_000, forge_crc=forge_crc)
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml").file_size == 1_000
    tracemalloc.start()
    try:
        with pytest.raises(CorpusError, match=r"liar\.docx.*not a readable \.docx"):
            loaders.convert(bomb, "liar.docx", ".docx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_a_docx_of_too_many_parts_is_refused_by_name() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(3_000):
            z.writestr(f"word/media/p{n}.xml", b"<x/>")
    with pytest.raises(CorpusError, match=r"many\.docx.*3,000 parts"):
        loaders.convert(buf.getvalue(), "many.docx", ".docx")


def test_deeply_nested_html_is_named_and_the_rest_is_read(folder: Path) -> None:
    (folder / "deep.html").write_bytes(nested_divs(100_000))
    documents, skipped = corpus_documents(scan_corpus(folder), 2_000_000)
    assert [d.source for d in documents] == ["good.txt"]
    assert [s.name for s in skipped] == ["deep.html"]
    assert "nested" in skipped[0].reason


def test_a_deeply_nested_fetched_page_does_not_stop_the_others() -> None:
    pages = [
        FetchedPage("https://hv.example/deep", nested_divs(100_000), "text/html"),
        FetchedPage("https://hv.example/faq", GOOD, "text/plain"),
    ]
    documents, skipped = web_documents(pages, 2_000_000)
    assert [d.url for d in documents] == ["https://hv.example/faq"]
    assert [s.name for s in skipped] == ["https://hv.example/deep"]
    assert "nested" in skipped[0].reason


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.html", nested_divs(5_000)),
        ("spans.htm", b"<p>x" + b"<span>" * 5_000),
        ("deep.md", b"# Fees\n\n" + b"<div>" * 5_000 + b"\n"),  # a raw HTML block
    ],
)
def test_deep_nesting_is_a_clear_error_naming_the_file(name: str, data: bytes) -> None:
    with pytest.raises(CorpusError, match=rf"{name}.*nested"):
        loaders.convert(data, name, Path(name).suffix)


def test_nesting_as_deep_as_real_pages_go_is_read() -> None:
    doc = loaders.convert(nested_divs(100), "ok.html", ".html")
    assert doc.text.strip() == "deep"


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % at for at in offsets)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _page_pdf(
    page_extra: bytes = b"", pages: bytes = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
) -> bytes:
    content = b"BT /F1 12 Tf 72 720 Td (Fees are due in March.) Tj ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            pages,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


@pytest.mark.parametrize(
    "data",
    [
        _page_pdf(b"/X " + b"[" * 100_000 + b"]" * 100_000),  # nested arrays
        _page_pdf(pages=b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"),  # a page loop
    ],
)
def test_a_pdf_pypdf_cannot_parse_is_a_clear_error(data: bytes) -> None:
    assert "Fees are due" in loaders.convert(_page_pdf(), "ok.pdf", ".pdf").text
    with pytest.raises(CorpusError, match=r"bad\.pdf.*not a readable PDF"):
        loaders.convert(data, "bad.pdf", ".pdf")


@pytest.fixture
def throwing_text_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The .txt loader, as registered, raises what no loader is expected to raise."""
    from bot.ingest.loaders import text

    def explode(data: bytes, name: str) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(text, "load_text", explode)


@pytest.mark.usefixtures("throwing_text_loader")
def test_any_loader_failure_on_a_file_is_named_and_the_rest_is_read(folder: Path) -> None:
    (folder / "fees.md").write_bytes(b"# Fees\n\nFees are due in March.\n")
    corpus = scan_corpus(folder)
    documents, skipped = corpus_documents(corpus, 2_000_000)
    assert [d.source for d in documents] == ["fees.md"]
    assert [s.name for s in skipped] == ["good.txt"]
    assert "RuntimeError: parser bug" in skipped[0].reason
    # The strict reading (every file or an error) names the file instead of a traceback.
    with pytest.raises(CorpusError, match=r"good\.txt.*RuntimeError: parser bug"):
        load_documents(corpus, 2_000_000)


@pytest.mark.usefixtures("throwing_text_loader")
def test_any_loader_failure_on_a_page_is_named_and_the_rest_is_read() -> None:
    pages = [
        FetchedPage("https://hv.example/notes", GOOD, "text/plain"),
        FetchedPage("https://hv.example/fees", b"# Fees\n\nDue in March.\n", "text/markdown"),
    ]
    documents, skipped = web_documents(pages, 2_000_000)
    assert [d.url for d in documents] == ["https://hv.example/fees"]
    assert [s.name for s in skipped] == ["https://hv.example/notes"]
    assert "RuntimeError: parser bug" in skipped[0].reason


def test_a_text_over_the_limit_is_named_among_the_rest(folder: Path) -> None:
    (folder / "long.txt").write_bytes(b"Fees are due in March. " * 100)
    documents, skipped = corpus_documents(scan_corpus(folder), 1_000)
    assert [d.source for d in documents] == ["good.txt"]
    assert [s.name for s in skipped] == ["long.txt"]
    assert "characters of text" in skipped[0].reason

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.loaders import SUPPORTED, is_supported, load
from tests.ingest.loaders.helpers import SAMPLES


def test_supported_suffixes() -> None:
    assert set(SUPPORTED) == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
    assert is_supported("A/PAGE.HTML") and not is_supported("sheet.xlsx")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("harbor-valley-faq.txt", "txt"),
        ("harbor-valley-orientation.md", "md"),
        ("harbor-valley-admissions.html", "html"),
        ("harbor-valley-financial-aid.pdf", "pdf"),
        ("harbor-valley-handbook.docx", "docx"),
    ],
)
def test_load_dispatches_on_the_suffix(name: str, kind: str) -> None:
    doc = load(SAMPLES / name, f"college/{name}")
    assert doc.kind == kind and doc.source == f"college/{name}" and doc.title
    assert any(s.question for s in doc.sections)


def test_an_unsupported_type_is_an_error_naming_the_file(tmp_path: Path) -> None:
    sheet = tmp_path / "fees.xlsx"
    sheet.write_bytes(b"PK")
    with pytest.raises(CorpusError, match=r"fees\.xlsx.*\.xlsx file, which no loader reads"):
        load(sheet, "fees.xlsx")


@pytest.mark.parametrize("name", ["empty.md", "empty.html", "empty.txt"])
def test_a_file_with_no_text_is_an_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(
        "---\ntitle: Draft\n---\n<!-- nothing yet -->\n" if name.endswith(".md") else " \n"
    )
    with pytest.raises(CorpusError, match=r"no text"):
        load(path, name)

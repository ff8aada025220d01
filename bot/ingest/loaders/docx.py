"""Word (.docx) files, read with python-docx: body paragraphs and tables in document order.

Heading styles ("Heading 1".."Heading 6") give the heading levels and the "Title" style
the title (headings then nest under it); list styles and numbered paragraphs become list
items; tables become ``| a | b |`` rows. Page headers and footers, comments and text
formatted as hidden are not part of the body, so they never reach the text. A bold
question paragraph starts an FAQ entry, as on a web page.
"""

from __future__ import annotations

import io
import re
import zipfile

from bot.config import Settings
from bot.errors import CorpusError
from bot.ingest.loaders.structure import Run, TextBuilder, clean_inline
from bot.types import Document

# A .docx is a zip: bounded before python-docx (which reads every part whole) sees it.
UNPACKED_PER_TEXT_CHAR = 32  # unpacked bytes allowed per character of the text limit
MAX_PARTS = 2_000
READ_CHUNK = 1 << 20
HEADING_STYLE = re.compile(r"^heading\s*([1-6])$", re.I)
LIST_STYLE = re.compile(r"^list\s*(?:bullet|number|paragraph|continue)?\s*(\d)?$", re.I)


def load_docx(
    data: bytes, name: str, max_unpacked: int = UNPACKED_PER_TEXT_CHAR * Settings.max_file_bytes
) -> Document:
    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    path = name  # what error messages name
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CorpusError(
            path,
            "is not a Word .docx file (it is not a zip archive; an old .doc or a renamed "
            "file?): save it from Word as .docx, or export it as PDF",
        )
    try:
        package = _bounded_package(data, name, max_unpacked)
        doc = open_docx(io.BytesIO(package))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, LxmlError) as exc:
        raise CorpusError(
            path, f"is not a readable .docx ({exc}); save it again from Word"
        ) from None
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    builder = TextBuilder()
    styled_title = ""
    has_title_style = any(_style(p) == "title" for p in doc.paragraphs)
    shift = 1 if has_title_style else 0
    for element in doc.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            table = Table(element, doc)
            builder.table([_row_cells(row) for row in table.rows])
            continue
        if tag != "p":
            continue
        paragraph = Paragraph(element, doc)
        runs = _runs(paragraph)
        text = clean_inline("".join(r.text for r in runs))
        if not text:
            continue
        style = _style(paragraph)
        heading = HEADING_STYLE.match(style)
        if style == "title":
            styled_title = styled_title or text
            builder.heading(text, 1, question=False)
        elif heading:
            builder.heading(text, int(heading.group(1)) + shift)
        elif _is_list(paragraph, style):
            builder.item(text, _list_depth(paragraph, style))
        else:
            builder.block(runs)
    text, sections, _ = builder.build()
    title = clean_inline(doc.core_properties.title or "") or styled_title
    title = title or next((s.title for s in sections), "")
    return Document(name, text, title, kind="docx", sections=sections)


def _bounded_package(data: bytes, name: str, max_unpacked: int) -> bytes:
    """The package re-written, uncompressed, from parts read at most ``max_unpacked`` bytes
    in all, so a zip bomb is refused before python-docx inflates it. The directory's sizes
    are checked first, then the bytes as they come: the directory can lie, and zipfile's
    own ``read()`` inflates a part whole before cutting it to the size the directory says."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: info for info in source.infolist() if not info.is_dir()}
        if len(parts) > MAX_PARTS:
            raise CorpusError(name, _too_big(f"has {len(parts):,} parts, over {MAX_PARTS:,}"))
        if sum(info.file_size for info in parts.values()) > max_unpacked:
            raise CorpusError(name, _too_big(f"unpacks to over {max_unpacked:,} bytes"))
        out = io.BytesIO()
        total = 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
            for info in parts.values():
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise zipfile.BadZipFile(
                        f"{info.filename} uses a compression Word never writes"
                    )
                with source.open(info) as part, target.open(info.filename, "w") as copy:
                    while chunk := part.read(READ_CHUNK):  # inflates at most a chunk a call
                        total += len(chunk)
                        if total > max_unpacked:
                            raise CorpusError(
                                name, _too_big(f"unpacks to over {max_unpacked:,} bytes")
                            )
                        copy.write(chunk)
    return out.getvalue()


def _too_big(what: str) -> str:
    return (
        f"{what} (a zip bomb, or a document too big to index; FAQBOT_MAX_FILE_BYTES bounds "
        "it): split it or save it again from Word"
    )


def _style(paragraph) -> str:
    try:
        return (paragraph.style.name or "").strip().lower() if paragraph.style else ""
    except (KeyError, ValueError):  # a style id the styles part does not define
        return ""


def _runs(paragraph) -> list[Run]:
    from docx.text.hyperlink import Hyperlink

    out: list[Run] = []
    for part in paragraph.iter_inner_content():
        if isinstance(part, Hyperlink):
            out.append(Run(part.text, link=True))
            continue
        if part.font.hidden:
            continue  # hidden text is not shown to readers
        bold = bool(part.bold) or bool(paragraph.style and paragraph.style.font.bold)
        text = part.text.replace("\t", " ")
        for i, piece in enumerate(text.split("\n")):
            if i:
                out.append(Run("\n", brk="hard"))
            out.append(Run(piece, bold=bold))
    return out


def _is_list(paragraph, style: str) -> bool:
    if LIST_STYLE.match(style):
        return True
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None


def _list_depth(paragraph, style: str) -> int:
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None and ppr.numPr.ilvl is not None:
        return int(ppr.numPr.ilvl.val or 0)
    match = LIST_STYLE.match(style)
    return max(int(match.group(1)) - 1, 0) if match and match.group(1) else 0


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    last = None
    for cell in row.cells:
        if cell._tc is last:
            continue  # a merged cell is returned once per grid column it spans
        last = cell._tc
        cells.append(clean_inline(cell.text))
    return cells

"""Loaders: one per file type, each returning the same ``Document``.

``load(path, name)`` picks the loader by suffix; ``SUPPORTED`` lists the suffixes it reads,
so ingest can name every other file as skipped. Each loader module imports its parsing
library only when used, so reading Markdown never pays for the PDF library.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from bot.config import Settings
from bot.errors import CorpusError
from bot.types import Document

# suffix -> (module, function); the module is imported on first use.
_LOADERS: dict[str, tuple[str, str]] = {
    ".txt": ("bot.ingest.loaders.text", "load_text"),
    ".md": ("bot.ingest.loaders.markdown", "load_markdown"),
    ".markdown": ("bot.ingest.loaders.markdown", "load_markdown"),
    ".html": ("bot.ingest.loaders.html", "load_html"),
    ".htm": ("bot.ingest.loaders.html", "load_html"),
    ".pdf": ("bot.ingest.loaders.pdf", "load_pdf"),
    ".docx": ("bot.ingest.loaders.docx", "load_docx"),
}
SUPPORTED: tuple[str, ...] = tuple(_LOADERS)


def is_supported(path: Path | str) -> bool:
    return Path(path).suffix.lower() in _LOADERS


def load(path: Path, name: str) -> Document:
    """Read one file into a ``Document`` whose ``source`` is ``name`` (see ``convert``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(path, "is missing (a broken link?)") from None
    except OSError as exc:
        raise CorpusError(path, f"cannot be read ({exc.strerror})") from None
    return convert(data, name, path.suffix)


def convert(
    data: bytes, name: str, suffix: str, max_text_chars: int = Settings.max_file_bytes
) -> Document:
    """Turn one file's bytes, of the type ``suffix`` names, into a ``Document``.

    Raises ``CorpusError`` (naming the file and what to do) when the file cannot be used:
    an unsupported type, no extractable text, an encrypted, damaged or hostile file (a zip
    bomb, nesting too deep). ``max_text_chars`` (FAQBOT_MAX_FILE_BYTES) also bounds what a
    packed format may unpack to."""
    suffix = suffix.lower()
    if suffix not in _LOADERS:
        raise CorpusError(
            name,
            f"is a {suffix or 'suffix-less'} file, which no loader reads (supported: "
            f"{', '.join(SUPPORTED)}); convert it to one of those",
        )
    module, function = _LOADERS[suffix]
    loader: Callable[..., Document] = getattr(import_module(module), function)
    if suffix == ".docx":
        from bot.ingest.loaders.docx import UNPACKED_PER_TEXT_CHAR

        document = loader(data, name, max_text_chars * UNPACKED_PER_TEXT_CHAR)
    else:
        document = loader(data, name)
    if not document.text.strip():
        raise CorpusError(name, "has no text; add its content or remove the file")
    return document

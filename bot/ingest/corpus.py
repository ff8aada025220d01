"""Reading the corpus folder: which files may be read, their bytes, and what each loader
makes of them. Nothing outside the folder is ever read, and no file is read past its size
limit. Web pages listed by address come in through ``bot.ingest.fetch`` as the same ``Document``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from bot.config import PROFILE_NAME, Settings
from bot.errors import CorpusError, CorpusFileTooLargeError, EmptyCorpusError
from bot.ingest.loaders import SUPPORTED, convert
from bot.types import Document, FetchedPage, Skipped

URL_LIST = "urls.txt"  # corpus/urls.txt lists web pages to ingest, one address a line
# What the folder holds besides pages: the site profile and the list of web addresses.
NOT_PAGES = (PROFILE_NAME, URL_LIST)
# PDF and Word files carry pictures and fonts: they may be this many times the text limit
# on disk; their extracted text is held to the limit itself.
PACKED_FORMATS, PACKED_ALLOWANCE = (".pdf", ".docx"), 8
OUTSIDE = "links outside the corpus folder"
MAX_DETAIL = 200  # characters of an unexpected error quoted in the skipped reason
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusFiles:
    """The readable files of the folder (name relative to it -> bytes) and what was left out."""

    files: dict[str, bytes]
    skipped: tuple[Skipped, ...] = ()

    def hashes(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}


def load_documents(corpus: CorpusFiles, max_text_chars: int) -> list[Document]:
    """Each file through the loader of its type; any unusable file is an error naming it."""
    documents = []
    for name, data in corpus.files.items():
        document = _convert(data, name, Path(name).suffix, max_text_chars)
        if len(document.text) > max_text_chars:
            raise CorpusFileTooLargeError(
                name, len(document.text), max_text_chars, "characters of text"
            )
        documents.append(document)
    return documents


def corpus_documents(
    corpus: CorpusFiles, max_text_chars: int
) -> tuple[list[Document], list[Skipped]]:
    """Each file through the loader of its type; a file no loader can use (damaged,
    hostile, over the text limit, or one a loader fails on) is named, with why, and the
    rest still comes in."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for name, data in corpus.files.items():
        loaded = _load(data, name, Path(name).suffix, max_text_chars)
        if isinstance(loaded, Skipped):
            skipped.append(loaded)
        else:
            documents.append(loaded)
    return documents, skipped


def _load(data: bytes, name: str, suffix: str, max_text_chars: int) -> Document | Skipped:
    """One file or page through its loader, or why it is left out."""
    try:
        document = _convert(data, name, suffix, max_text_chars)
    except CorpusError as exc:
        return Skipped(name, _reason(exc))
    if len(document.text) > max_text_chars:
        return Skipped(name, f"over {max_text_chars:,} characters of text")
    return document


def _convert(data: bytes, name: str, suffix: str, max_text_chars: int) -> Document:
    """``convert``, with any failure at all a ``CorpusError`` naming the file: a loader
    meeting input it was not written for must cost that file, never the whole ingest."""
    try:
        return convert(data, name, suffix, max_text_chars)
    except CorpusError:
        raise
    except Exception as exc:  # RecursionError, a parser's own error, ...: a library bug
        log.debug("loading %s failed", name, exc_info=True)
        detail = f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]
        raise CorpusError(name, f"could not be read ({detail})") from None


def _reason(exc: CorpusError) -> str:
    """The problem a ``CorpusError`` states, without the file name and the advice."""
    return str(exc).split(": ", 1)[-1].split(". Fix")[0]


def read_corpus(corpus_dir: Path, max_file_bytes: int = Settings.max_file_bytes) -> dict[str, str]:
    """Every usable page under corpus_dir as its extracted text, by name."""
    corpus = scan_corpus(corpus_dir, max_file_bytes)
    return {d.source: d.text for d in load_documents(corpus, max_file_bytes)}


def scan_corpus(corpus_dir: Path, max_file_bytes: int = Settings.max_file_bytes) -> CorpusFiles:
    """The bytes of every file under corpus_dir that a loader reads; every other file is
    named in ``skipped`` with why (an unsupported type, a hidden file, a link out).

    Nothing outside the folder is read: a link (to a file or a folder) that resolves outside
    it is skipped and named. A file over ``max_file_bytes`` is refused from its size alone,
    before it is read, so a huge file costs nothing."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise EmptyCorpusError(corpus_dir)
    root = corpus_dir.resolve()
    skipped: list[Skipped] = []
    found: list[tuple[str, Path, Path]] = []  # (name, path, resolved path)
    for folder, dirs, files in os.walk(corpus_dir):  # never follows folder links itself
        here = Path(folder)
        for d in sorted(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                # A link to a folder inside the corpus is walked under its own name anyway.
                if not _inside(here / d, root):
                    name = (here / d).relative_to(corpus_dir).as_posix() + "/"
                    skipped.append(Skipped(name, OUTSIDE))
        for f in sorted(files):
            path = here / f
            name = path.relative_to(corpus_dir).as_posix()
            if name in NOT_PAGES:
                continue
            if f.startswith("."):
                skipped.append(Skipped(name, "hidden file"))
                continue
            if path.suffix.lower() not in SUPPORTED:
                skipped.append(Skipped(name, "unsupported type"))
                continue
            try:
                real = path.resolve(strict=True)
            except FileNotFoundError:
                raise CorpusError(path, "is missing (a broken link?)") from None
            except (OSError, RuntimeError) as exc:  # a link loop
                raise CorpusError(path, f"cannot be resolved ({exc})") from None
            if not real.is_relative_to(root):
                skipped.append(Skipped(name, OUTSIDE))
            else:
                found.append((name, path, real))
    contents: dict[str, bytes] = {}
    read_as: dict[Path, str] = {}
    # Files under their own name first, so a link to one is the duplicate, not the file.
    for name, path, real in sorted(found, key=lambda x: (x[1].is_symlink(), x[0])):
        if real in read_as:
            skipped.append(Skipped(name, f"same file as {read_as[real]}"))
            continue
        read_as[real] = name
        packed = path.suffix.lower() in PACKED_FORMATS
        data = _read_bytes(path, real, max_file_bytes * (PACKED_ALLOWANCE if packed else 1))
        if data is None:
            skipped.append(Skipped(name, "not a regular file"))
        else:
            contents[name] = data
    # An empty folder is fine here: pages may come by address. Ingest decides, from every
    # source together, whether there is anything to answer from.
    # In path order, folder by folder, as the index has always listed them.
    by_path = sorted(contents.items(), key=lambda item: item[0].split("/"))
    return CorpusFiles(dict(by_path), tuple(sorted(skipped, key=lambda s: s.name)))


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # broken or looping: nothing there to read
        return False


def _read_bytes(path: Path, real: Path, limit: int) -> bytes | None:
    """The file's bytes, or None if it is not a regular file (a FIFO would block)."""
    try:
        # The resolved path, not following a link swapped in since it was checked.
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CorpusError(path, "is missing (a broken link?)") from None
    except OSError as exc:
        raise CorpusError(path, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > limit:
            raise CorpusFileTooLargeError(path, info.st_size, limit)
        data = fh.read(limit + 1)  # a file growing since the check is still capped
    if len(data) > limit:
        raise CorpusFileTooLargeError(path, len(data), limit)
    if not data.strip():
        raise CorpusError(path, "is empty")
    return data


# What a fetched page's content type says about which loader reads it.
WEB_SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


def listed_urls(corpus_dir: Path) -> tuple[list[str], list[str]]:
    """The pages and sitemaps ``corpus/urls.txt`` lists: one address a line, ``#`` starts a
    comment, and ``sitemap: URL`` (or an address ending in ``.xml``) names a sitemap."""
    path = Path(corpus_dir) / URL_LIST
    if not path.is_file():
        return [], []
    pages: list[str] = []
    sitemaps: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        entry = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not entry:
            continue
        if entry.lower().startswith("sitemap:"):
            sitemaps.append(entry.split(":", 1)[1].strip())
        elif entry.lower().split("?", 1)[0].endswith(".xml"):
            sitemaps.append(entry)
        else:
            pages.append(entry)
    return pages, sitemaps


def web_documents(
    pages: list[FetchedPage], max_text_chars: int
) -> tuple[list[Document], list[Skipped]]:
    """Fetched pages through the loader their content type names. A page no loader can
    use is named, not fatal: the rest of the site still comes in."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for page in pages:
        suffix = WEB_SUFFIXES.get(page.content_type.split(";", 1)[0].strip().lower())
        if suffix is None:
            skipped.append(Skipped(page.url, f"unsupported type {page.content_type or '?'}"))
            continue
        loaded = _load(page.content, page.url, suffix, max_text_chars)
        if isinstance(loaded, Skipped):
            skipped.append(loaded)
        else:
            documents.append(replace(loaded, url=page.url))
    return documents, skipped

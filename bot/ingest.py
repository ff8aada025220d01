"""Ingest: corpus files → chunks → vectors → a new index generation, swapped in atomically.

Run as ``python ingest.py`` or ``python -m bot.ingest``. An unchanged corpus is detected from
the manifest without loading the model and returns at once.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.chunking import (
    CHUNKER_VERSION,
    Chunk,
    chunk_document,
    sentence_embed_text,
    sentence_pieces,
    split_sentences,
)
from bot.config import MODEL_NAME, Settings
from bot.errors import CorpusError, EmptyCorpusError, FaqBotError, IngestLockedError
from bot.store import GenerationStore, Location, Manifest, StoredSentence, open_location

CORPUS_SUFFIXES = (".txt", ".md", ".markdown")
EMBED_BATCH = 64


@dataclass(frozen=True)
class IngestResult:
    changed: bool
    files: int
    chunks: int
    sentences: int
    embedded: int  # texts that had to be embedded (the rest were reused)
    seconds: float
    generation: str
    texts: int = 0  # distinct texts with vectors: chunks, sentences, clauses, list items

    def summary(self) -> str:
        if not self.changed:
            return (
                f"Index is up to date: {self.files} files, {self.chunks} chunks "
                f"(checked in {self.seconds:.2f} s); nothing to do."
            )
        return (
            f"Ingested {self.files} files into {self.chunks} chunks and {self.sentences} "
            f"sentences ({self.embedded} embedded, the rest reused) in {self.seconds:.1f} s."
        )


def stored_sentences(chunks: list[Chunk]) -> list[StoredSentence]:
    """Every sentence of the chunks as stored: the whole sentence, then its clauses and list
    items (``piece`` 1, 2, ...), each with the text it is embedded as."""
    return [
        StoredSentence(c.id, s, text, piece)
        for c in chunks
        for s in split_sentences(c)
        for piece, text in enumerate([sentence_embed_text(c, s), *sentence_pieces(c, s)])
    ]


def read_corpus(corpus_dir: Path) -> dict[str, str]:
    """Every .txt/.md file under corpus_dir, decoded; any unusable file is an error."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise EmptyCorpusError(corpus_dir)
    paths = sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.suffix.lower() in CORPUS_SUFFIXES and not p.name.startswith(".")
    )
    texts: dict[str, str] = {}
    for path in paths:
        name = path.relative_to(corpus_dir).as_posix()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CorpusError(path, "is missing (a broken link?)") from None
        except OSError as exc:
            raise CorpusError(path, f"cannot be read ({exc.strerror})") from None
        if b"\x00" in data:
            raise CorpusError(path, "looks binary (it contains NUL bytes)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CorpusError(path, f"is not UTF-8 text (bad byte at offset {exc.start})") from None
        if not text.strip():
            raise CorpusError(path, "is empty")
        texts[name] = text
    if not texts:
        raise EmptyCorpusError(corpus_dir)
    return texts


def file_hashes(texts: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()}


def chunk_corpus(texts: dict[str, str], chunk_chars: int) -> list[Chunk]:
    return [c for name, text in texts.items() for c in chunk_document(text, name, chunk_chars)]


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock; the OS drops it if the process dies (even kill -9)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / ".ingest.lock"
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole ingest
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise IngestLockedError(path, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def is_current(manifest: Manifest | None, hashes: dict[str, str], settings: Settings) -> bool:
    return (
        manifest is not None
        and manifest.files == hashes
        and manifest.model == MODEL_NAME
        and manifest.chunk_chars == settings.chunk_chars
        and manifest.extra.get("chunker") == CHUNKER_VERSION
    )


def ingest(
    settings: Settings,
    embeddings: Embeddings | None = None,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    started = time.perf_counter()
    texts = read_corpus(settings.corpus_dir)  # fails before anything is touched
    hashes = file_hashes(texts)
    location = open_location(settings)
    with ingest_lock(settings.index_dir):
        live = location.read_manifest()
        if not force and live is not None and is_current(live, hashes, settings):
            return IngestResult(
                False,
                len(texts),
                live.chunks,
                live.sentences,
                0,
                time.perf_counter() - started,
                live.generation,
            )
        if embeddings is None:
            from bot.embedding import MiniLMEmbeddings

            embeddings = MiniLMEmbeddings()
        chunks = chunk_corpus(texts, settings.chunk_chars)
        sentences = stored_sentences(chunks)
        reuse_chunks, reuse_sentences = _reusable_vectors(location, live, embeddings)
        generation = f"g{time.time_ns():x}"
        store = GenerationStore(location, generation, embeddings)
        texts_needed = [c.embed_text for c in chunks] + [s.embed_text for s in sentences]
        known = {**reuse_sentences, **reuse_chunks}
        fresh = _embed_missing(embeddings, texts_needed, known, progress)
        vectors = {**known, **fresh}
        store.add_chunks(chunks, [vectors[c.embed_text] for c in chunks])
        store.add_sentences(sentences, [vectors[s.embed_text] for s in sentences])
        seconds = time.perf_counter() - started
        whole_sentences = sum(s.piece == 0 for s in sentences)
        manifest = Manifest(
            generation=generation,
            model=MODEL_NAME,
            chunk_chars=settings.chunk_chars,
            files=hashes,
            chunks=len(chunks),
            sentences=whole_sentences,
            created=time.time(),
            seconds=round(seconds, 3),
            extra={"chunker": CHUNKER_VERSION},
        )
        location.write_manifest(manifest)  # the swap: readers now open the new generation
        # Keep the previous generation: a server that has not reloaded yet still reads it.
        location.drop_generations({generation, live.generation if live else ""})
        return IngestResult(
            True,
            len(texts),
            len(chunks),
            whole_sentences,
            len(fresh),
            seconds,
            generation,
            len(set(texts_needed)),
        )


def _reusable_vectors(
    location: Location, live: Manifest | None, embeddings: Embeddings
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    if live is None or live.model != MODEL_NAME:
        return {}, {}
    try:
        old = GenerationStore(location, live.generation, embeddings)
        return old.vectors_by_text("chunks"), old.vectors_by_text("sentences")
    except Exception:  # an unreadable old generation only costs re-embedding
        return {}, {}


def _embed_missing(
    embeddings: Embeddings,
    texts: Sequence[str],
    known: dict[str, list[float]],
    progress: Callable[[int, int], None] | None,
) -> dict[str, list[float]]:
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    out: dict[str, list[float]] = {}
    for i in range(0, len(missing), EMBED_BATCH):
        batch = missing[i : i + EMBED_BATCH]
        out.update(zip(batch, embeddings.embed_documents(batch), strict=True))
        if progress:
            progress(min(i + EMBED_BATCH, len(missing)), len(missing))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chunk and embed corpus/ into the index.")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="embedding", unit="text", file=sys.stderr)
        bar.n = done
        bar.refresh()

    try:
        result = ingest(settings, force=args.force, progress=progress)
    except FaqBotError as exc:
        print(f"ingest failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    print(result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

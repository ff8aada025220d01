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
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import MODEL_NAME, Settings
from bot.errors import EmptyCorpusError, FaqBotError, IngestLockedError, NothingReadableError
from bot.index.sentences import sentence_embed_text, sentence_pieces, split_sentences
from bot.index.store import (
    CHUNKER_VERSION,
    GenerationStore,
    Location,
    Manifest,
    StoredSentence,
    drop_unfinished,
    open_location,
)
from bot.ingest.chunking import chunk_loaded
from bot.ingest.corpus import corpus_documents, listed_urls, scan_corpus, web_documents
from bot.types import Chunk, Document, FetchedPage, Skipped

EMBED_BATCH = 64
WEB_CACHE = "web"  # under the data folder: validators and last good copy of each page
# The summary names what was skipped grouped by reason, a few names each, so its size is
# bounded whatever a sitemap lists (the admin page keeps it).
SUMMARY_GROUPS = 10
SUMMARY_SAMPLES = 5
SUMMARY_CHARS = 200  # per name and per reason


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
    # Corpus files and web pages left out, with why: the ingest went on without them.
    skipped: tuple[Skipped, ...] = ()

    def summary(self) -> str:
        if not self.changed:
            head = (
                f"Index is up to date: {self.files} files, {self.chunks} chunks "
                f"(checked in {self.seconds:.2f} s); nothing to do."
            )
        else:
            head = (
                f"Ingested {self.files} files into {self.chunks} chunks and {self.sentences} "
                f"sentences ({self.embedded} embedded, the rest reused) in {self.seconds:.1f} s."
            )
        if not self.skipped:
            return head
        n = len(self.skipped)
        return f"{head}\nSkipped {n:,} file{'s' if n != 1 else ''}: {skipped_text(self.skipped)}."


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def skipped_text(skipped: Sequence[Skipped]) -> str:
    """What was left out, by reason (the most common first): ``name (reason)`` for each of a
    few, else the count and the first few names."""
    groups: dict[str, list[str]] = {}
    for entry in skipped:
        groups.setdefault(entry.reason, []).append(entry.name)
    ranked = sorted(groups.items(), key=lambda group: -len(group[1]))
    parts: list[str] = []
    for reason, names in ranked[:SUMMARY_GROUPS]:
        if len(names) <= SUMMARY_SAMPLES:
            parts.extend(f"{_clip(name)} ({_clip(reason)})" for name in names)
        else:
            sample = ", ".join(_clip(name) for name in names[:SUMMARY_SAMPLES])
            parts.append(f"{len(names):,} × {_clip(reason)} (first {SUMMARY_SAMPLES}: {sample})")
    if len(ranked) > SUMMARY_GROUPS:
        rest = sum(len(names) for _reason, names in ranked[SUMMARY_GROUPS:])
        parts.append(f"{rest:,} more for {len(ranked) - SUMMARY_GROUPS:,} other reasons")
    return "; ".join(parts)


def stored_sentences(chunks: list[Chunk]) -> list[StoredSentence]:
    """Every sentence of the chunks as stored: the whole sentence, then its clauses and list
    items (``piece`` 1, 2, ...), each with the text it is embedded as."""
    return [
        StoredSentence(c.id, s, text, piece)
        for c in chunks
        for s in split_sentences(c)
        for piece, text in enumerate([sentence_embed_text(c, s), *sentence_pieces(c, s)])
    ]


def by_name(*groups: Sequence[Skipped]) -> tuple[Skipped, ...]:
    """Everything left out, from every source, in name order (as the summary lists it)."""
    return tuple(sorted((s for group in groups for s in group), key=lambda s: s.name))


def chunk_corpus(documents: Sequence[Document], chunk_chars: int) -> list[Chunk]:
    return [c for document in documents for c in chunk_loaded(document, chunk_chars)]


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
    urls: Sequence[str] = (),
    sitemaps: Sequence[str] = (),
    web_client: Any = None,
) -> IngestResult:
    """Build a new index generation from the corpus folder, ``corpus/urls.txt`` and the
    ``urls``/``sitemaps`` given, unless the live one was built from exactly these."""
    started = time.perf_counter()
    # Fails (a file too big, unreadable...) before the lock, the model or the index is touched.
    corpus = scan_corpus(settings.corpus_dir, settings.max_file_bytes)
    listed, listed_maps = listed_urls(settings.corpus_dir)
    if not corpus.files and not (listed or listed_maps or urls or sitemaps):
        raise EmptyCorpusError(settings.corpus_dir)
    location = open_location(settings)
    # The lock comes before any fetch: a refused second ingest sends no request at all.
    with ingest_lock(settings.index_dir):
        live = location.read_manifest()  # no other ingest can swap it while the lock is held
        drop_unfinished(location, live)  # what an ingest killed mid-build left behind
        maps = [*listed_maps, *sitemaps]
        pages, web_skipped = _fetch([*listed, *urls], maps, settings, web_client)
        skipped = by_name(corpus.skipped, web_skipped)
        hashes = {
            **corpus.hashes(),
            **{p.url: hashlib.sha256(p.content).hexdigest() for p in pages},
        }
        if not hashes:
            raise EmptyCorpusError(settings.corpus_dir)
        if not force and live is not None and is_current(live, hashes, settings):
            # What the build left out is still left out: name it again.
            left_out = [Skipped(*pair) for pair in live.extra.get("skipped", [])]
            return IngestResult(
                False,
                len(hashes),
                live.chunks,
                live.sentences,
                0,
                time.perf_counter() - started,
                live.generation,
                skipped=by_name(skipped, left_out),
            )
        # A file or page no loader can use costs itself, never the rest of the ingest.
        documents, unloadable = corpus_documents(corpus, settings.max_file_bytes)
        web, unreadable = web_documents(pages, settings.max_file_bytes)
        unloaded = by_name(unloadable, unreadable)
        skipped = by_name(skipped, unloaded)
        if not documents and not web:
            raise NothingReadableError(len(hashes), skipped_text(skipped))
        if embeddings is None:  # loaded only once there is something to embed
            from bot.index.embedding import MiniLMEmbeddings

            embeddings = MiniLMEmbeddings()
        chunks = chunk_corpus([*documents, *web], settings.chunk_chars)
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
            extra={"chunker": CHUNKER_VERSION, "skipped": [[s.name, s.reason] for s in unloaded]},
        )
        location.write_manifest(manifest)  # the swap: readers now open the new generation
        # Keep the previous generation: a server that has not reloaded yet still reads it.
        location.drop_generations({generation, live.generation if live else ""})
        return IngestResult(
            True,
            len(hashes),
            len(chunks),
            whole_sentences,
            len(fresh),
            seconds,
            generation,
            len(set(texts_needed)),
            skipped,
        )


def _fetch(
    urls: list[str], sitemaps: list[str], settings: Settings, client: Any
) -> tuple[list[FetchedPage], list[Skipped]]:
    """The listed web pages (a conditional request each: an unchanged site costs a 304 per
    page); a page that fails is named and its last good copy, if any, kept."""
    if not urls and not sitemaps:
        return [], []
    from bot.ingest.fetch import FetchLimits, fetch_site

    limits = FetchLimits.from_settings(settings)
    result = fetch_site(urls, sitemaps, settings.data_dir / WEB_CACHE, limits, client)
    return [p for p in result.pages if p.content], list(result.skipped)


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
    parser.add_argument(
        "--url", action="append", default=[], metavar="URL",
        help="also ingest this web page (repeatable; corpus/urls.txt lists more)",
    )  # fmt: skip
    parser.add_argument(
        "--sitemap", action="append", default=[], metavar="URL",
        help="also ingest the pages this sitemap.xml lists (repeatable)",
    )  # fmt: skip
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
        result = ingest(
            settings, force=args.force, progress=progress, urls=args.url, sitemaps=args.sitemap
        )
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

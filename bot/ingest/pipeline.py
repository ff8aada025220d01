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
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import MODEL_NAME, Settings
from bot.errors import EmptyCorpusError, FaqBotError, IngestLockedError, NothingReadableError
from bot.index.sentences import sentence_embed_text, sentence_pieces, split_sentences
from bot.index.store import (
    BASE_KEY,
    CHUNKER_VERSION,
    HIDDEN_KEY,
    GenerationStore,
    Manifest,
    StoredSentence,
    bases,
    drop_unfinished,
    open_location,
)
from bot.ingest._delta import plan_delta, reusable_vectors
from bot.ingest.boilerplate import site_documents
from bot.ingest.chunking import chunk_loaded
from bot.ingest.corpus import CorpusFiles, corpus_documents, listed_urls, scan_corpus, web_documents
from bot.ingest.progress import ConsoleProgress, Report, Stages, Step
from bot.ingest.report import RECORD_KEY, IngestResult, counts_record, skipped_text
from bot.types import Chunk, Document, FetchedPage, IngestCounts, Skipped

LOAD_BATCH = 20  # files or pages parsed between two progress events
WEB_CACHE = "web"  # under the data folder: validators and last good copy of each page


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


def chunk_corpus(
    documents: Sequence[Document], chunk_chars: int, step: Step | None = None
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for n, document in enumerate(documents, 1):
        chunks.extend(chunk_loaded(document, chunk_chars))
        if step is not None:
            step(n, len(documents))
    return chunks


def load_all(
    corpus: CorpusFiles, pages: Sequence[FetchedPage], max_chars: int, step: Step | None = None
) -> tuple[list[Document], list[Skipped], list[Document], list[Skipped]]:
    """Corpus files, then fetched pages, through their loaders, a batch at a time so that
    progress moves: (documents, files left out, web documents, pages left out)."""
    names, pages = list(corpus.files), list(pages)
    total = len(names) + len(pages)
    documents: list[Document] = []
    unloadable: list[Skipped] = []
    for i in range(0, len(names), LOAD_BATCH):
        batch = CorpusFiles({name: corpus.files[name] for name in names[i : i + LOAD_BATCH]})
        loaded, left_out = corpus_documents(batch, max_chars)
        documents += loaded
        unloadable += left_out
        if step is not None:
            step(min(i + LOAD_BATCH, len(names)), total)
    web: list[Document] = []
    unreadable: list[Skipped] = []
    for i in range(0, len(pages), LOAD_BATCH):
        loaded, left_out = web_documents(pages[i : i + LOAD_BATCH], max_chars)
        web += loaded
        unreadable += left_out
        if step is not None:
            step(len(names) + min(i + LOAD_BATCH, len(pages)), total)
    return documents, unloadable, web, unreadable


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
    progress: Report | None = None,
    urls: Sequence[str] = (),
    sitemaps: Sequence[str] = (),
    web_client: Any = None,
) -> IngestResult:
    """Build a new index generation from the corpus folder, ``corpus/urls.txt`` and the
    ``urls``/``sitemaps`` given, unless the live one was built from exactly these.
    ``progress`` gets a :class:`bot.types.Progress` event as each stage starts, moves on and
    ends (``bot.ingest.progress.ConsoleProgress`` shows them)."""
    started = time.perf_counter()
    stages = Stages(progress)
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
        pages: list[FetchedPage] = []
        web_skipped: list[Skipped] = []
        if listed or urls or maps:
            with stages.stage("fetching") as step:
                seen = [0]  # pages finished, as the fetcher counts them

                def fetched(done: int, total: int) -> None:
                    seen[0] = max(seen[0], done)
                    step(done, total)

                pages, web_skipped = _fetch([*listed, *urls], maps, settings, web_client, fetched)
                step(seen[0] or len(pages), seen[0] or len(pages))
        skipped = by_name(corpus.skipped, web_skipped)
        hashes = {
            **corpus.hashes(),
            **{p.url: hashlib.sha256(p.content).hexdigest() for p in pages},
        }
        if not hashes:
            raise EmptyCorpusError(settings.corpus_dir)
        fetch_counts = IngestCounts(
            files=len(corpus.files),
            pages=len(pages),
            fetched=sum(not (p.not_modified or p.stale) for p in pages),
            unchanged=sum(p.not_modified for p in pages),
            failed=len(web_skipped),
        )
        if not force and live is not None and is_current(live, hashes, settings):
            # What the build left out is still left out: name it again.
            left_out = [Skipped(*pair) for pair in live.extra.get("skipped", [])]
            seconds = time.perf_counter() - started
            return IngestResult(
                False,
                len(hashes),
                live.chunks,
                live.sentences,
                0,
                seconds,
                live.generation,
                skipped=by_name(skipped, left_out),
                counts=_finished(fetch_counts, stages, seconds, chunks=live.chunks),
            )
        # A file or page no loader can use costs itself, never the rest of the ingest.
        with stages.stage("loading", len(corpus.files) + len(pages)) as step:
            documents, unloadable, web, unreadable = load_all(
                corpus, pages, settings.max_file_bytes, step
            )
        unloaded = by_name(unloadable, unreadable)
        skipped = by_name(skipped, unloaded)
        if not documents and not web:
            raise NothingReadableError(len(hashes), skipped_text(skipped))
        # What every page repeats (menus, footers, notices) out; copies of a page as one.
        site = site_documents([*documents, *web])
        duplicates, boilerplate = len(site.duplicates), site.boilerplate_blocks
        skipped = by_name(skipped, site.duplicates)
        with stages.stage("chunking", len(site.documents)) as step:
            chunks = chunk_corpus(site.documents, settings.chunk_chars, step)
            sentences = stored_sentences(chunks)
        with stages.stage("embedding") as step:
            if embeddings is None:  # loaded only once there is something to embed
                from bot.index.embedding import MiniLMEmbeddings

                embeddings = MiniLMEmbeddings()
            # Few sources changed: write only theirs, over the base the live index reads.
            plan = None if force else plan_delta(location, live, chunks, settings, embeddings)
            rows = chunks if plan is None else [c for c in chunks if c.source in plan.sources]
            row_ids = {c.id for c in rows}
            sentence_rows = [s for s in sentences if s.chunk_id in row_ids]
            texts_needed = [c.embed_text for c in rows] + [s.embed_text for s in sentence_rows]
            reuse_chunks, reuse_sentences = reusable_vectors(location, live, embeddings, plan)
            known = {**reuse_sentences, **reuse_chunks}
            fresh = _embed_missing(embeddings, texts_needed, known, step)
        vectors = {**known, **fresh}
        generation = f"g{time.time_ns():x}"
        with stages.stage("writing", len(rows) + len(sentence_rows)) as step:
            store = GenerationStore(location, generation, embeddings)
            store.add_chunks(rows, [vectors[c.embed_text] for c in rows])
            step(len(rows), len(rows) + len(sentence_rows))
            store.add_sentences(sentence_rows, [vectors[s.embed_text] for s in sentence_rows])
        seconds = time.perf_counter() - started
        whole_sentences = sum(s.piece == 0 for s in sentences)
        # Every text the index reads: a delta's others are reused where they are stored.
        texts = len({c.embed_text for c in chunks} | {s.embed_text for s in sentences})
        pages_kept = sum(bool(d.url) for d in site.documents)  # a local file has no address
        counts = _finished(
            fetch_counts, stages, seconds, files=len(site.documents) - pages_kept,
            pages=pages_kept, failed=fetch_counts.failed + len(unreadable), duplicates=duplicates,
            boilerplate=boilerplate, chunks=len(chunks), sentences=whole_sentences,
            embedded=len(fresh), reused=texts - len(fresh),
        )  # fmt: skip
        manifest = Manifest(
            generation=generation,
            model=MODEL_NAME,
            chunk_chars=settings.chunk_chars,
            files=hashes,
            chunks=len(chunks),
            sentences=whole_sentences,
            created=time.time(),
            seconds=round(seconds, 3),
            extra={
                "chunker": CHUNKER_VERSION,
                "skipped": [[s.name, s.reason] for s in unloaded],
                RECORD_KEY: counts_record(counts),  # /healthz and the admin page show it
                **({BASE_KEY: plan.base, HIDDEN_KEY: list(plan.hidden)} if plan else {}),
            },
        )
        location.write_manifest(manifest)  # the swap: readers now open the new generation
        # Keep the previous generation: a server that has not reloaded yet still reads it;
        # and the base each of the two reads through.
        location.drop_generations(bases(manifest) | bases(live))
        return IngestResult(
            True,
            len(hashes),
            len(chunks),
            whole_sentences,
            len(fresh),
            seconds,
            generation,
            texts,
            skipped,
            counts,
        )


def _finished(counts: IngestCounts, stages: Stages, seconds: float, **more: int) -> IngestCounts:
    """The counts with when the ingest ended, how long it and each stage took."""
    return replace(
        counts, time=time.time(), seconds=round(seconds, 3), stages=tuple(stages.seconds), **more
    )


def _fetch(
    urls: list[str],
    sitemaps: list[str],
    settings: Settings,
    client: Any,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[FetchedPage], list[Skipped]]:
    """The listed web pages (a conditional request each: an unchanged site costs a 304 per
    page), a few at a time per host; a page that fails is named and its last good copy, if
    any, kept. ``progress(done, total)`` as pages finish."""
    if not urls and not sitemaps:
        return [], []
    from bot.ingest.fetch import FetchLimits, fetch_site

    limits = FetchLimits.from_settings(settings)
    cache = settings.data_dir / WEB_CACHE
    result = fetch_site(urls, sitemaps, cache, limits, client, progress=progress)
    return [p for p in result.pages if p.content], list(result.skipped)


# Texts per model call: enough batches for every core, few enough that progress moves.
_EMBED_GROUP = 512


def _embed_missing(
    embeddings: Embeddings,
    texts: Sequence[str],
    known: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """Vectors (float32 rows) of the texts ``known`` lacks. They go to the model in order of
    length, so each batch pads its texts to about their own length (ingest's texts run from
    3 to 256 word pieces; in arrival order a batch pads all of them to its longest)."""
    missing = sorted((t for t in dict.fromkeys(texts) if t not in known), key=len)
    if progress:
        progress(0, len(missing))  # the stage's total, before the first batch
    out: dict[str, Any] = {}
    for i in range(0, len(missing), _EMBED_GROUP):
        group = missing[i : i + _EMBED_GROUP]
        out.update(zip(group, _embed_rows(embeddings, group), strict=True))
        if progress:
            progress(min(i + _EMBED_GROUP, len(missing)), len(missing))
    return out


def _embed_rows(embeddings: Embeddings, texts: list[str]) -> Any:
    """One float32 row per text: 100,000 vectors as Python floats would take ~1.2 GB."""
    import numpy as np

    as_array = getattr(embeddings, "embed_array", None)  # MiniLMEmbeddings: no float lists
    vectors = as_array(texts) if as_array else embeddings.embed_documents(texts)
    return np.asarray(vectors, dtype=np.float32)


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
    parser.add_argument(
        "--site", action="append", default=[], metavar="NAME",
        help="build this site of FAQBOT_SITES_DIR (repeatable)",
    )  # fmt: skip
    parser.add_argument("--all", action="store_true", help="build every site of FAQBOT_SITES_DIR")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    # Progress on stderr (bars on a terminal, plain lines in a log), the summary on stdout.
    progress = ConsoleProgress(sys.stderr)
    if args.site or args.all or settings.sites_dir is not None:
        if args.all and (args.url or args.sitemap):
            parser.error("--url and --sitemap name one site's pages: use --site, or urls.txt")
        from bot.ingest.sites import ingest_sites

        try:
            return ingest_sites(
                settings, args.site, args.all, ingest, force=args.force, progress=progress,
                urls=args.url, sitemaps=args.sitemap,
            )  # fmt: skip
        finally:
            progress.close()
    try:
        result = ingest(
            settings, force=args.force, progress=progress, urls=args.url, sitemaps=args.sitemap
        )
    except FaqBotError as exc:
        progress.close()
        print(f"ingest failed: {exc}", file=sys.stderr)
        return 1
    finally:
        progress.close()
    print(result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

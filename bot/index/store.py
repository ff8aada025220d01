"""Chroma storage: one *generation* of the index per ingest, and a manifest naming the live one.

Ingest writes a whole new generation beside the live one and then swaps the manifest in
one atomic step, so a reader never sees half an index and a killed ingest changes nothing.

A generation is *full* or a *delta* over a full one (its manifest's ``extra["base"]``): a
delta holds rows only for the sources that changed since its base and reads as the base
without the sources it replaces or that are gone (``extra["hidden"]``), plus its own rows.
A delta is never built over a delta, so reading one costs two collections at most, and a
generation is never written after its swap, so a base a delta reads cannot change under it.

Where the generations live is the only difference between the two modes:

* embedded (default): ``PersistentClient`` at ``INDEX_DIR/generations/<gen>``, the manifest
  is ``INDEX_DIR/manifest.json`` (replaced with ``os.replace``);
* server (``FAQBOT_CHROMA_URL``): ``HttpClient``, collections ``<name>-<gen>-…``, the manifest
  is the metadata of the ``<name>-manifest`` collection (one ``modify`` call).

Everything else (``GenerationStore``) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.errors import IndexMissingError
from bot.index._locations import (
    LocalLocation,
    Location,
    Manifest,
    ServerLocation,
    drop_unfinished,
    open_location,
)
from bot.types import Chunk, Span

__all__ = [
    "BASE_KEY",
    "CHUNKER_VERSION",
    "HIDDEN_KEY",
    "GenerationStore",
    "LocalLocation",
    "Location",
    "Manifest",
    "ServerLocation",
    "StoredSentence",
    "bases",
    "drop_unfinished",
    "open_location",
]

# The layout of the chunks and sentences an index holds (bot/ingest/chunking.py,
# bot/index/sentences.py). Bump when either changes, so an index built by older code is stale.
CHUNKER_VERSION = 16

ADD_BATCH = 1000
# Ids per `$in` filter: well under SQLite's bound on a statement's parameters.
GET_BATCH = 500
COSINE = {"hnsw:space": "cosine"}
# Sentence vectors are read whole into memory (corpus_index.py) and never searched through
# Chroma's HNSW graph, which still costs most of a write: a sparse graph halves it.
SENTENCE_INDEX = {**COSINE, "hnsw:M": 4, "hnsw:construction_ef": 16}
BASE_KEY = "base"  # manifest extra: the full generation a delta reads through
HIDDEN_KEY = "hidden"  # manifest extra: the base's sources the delta replaces or dropped


def bases(manifest: Manifest | None) -> set[str]:
    """The generations ``manifest``'s index reads: its own and, for a delta, its base."""
    if manifest is None:
        return set()
    return {manifest.generation, str(manifest.extra.get(BASE_KEY) or manifest.generation)}


@dataclass(frozen=True)
class StoredSentence:
    chunk_id: str
    span: Span
    embed_text: str  # what was embedded: the sentence under its section title
    piece: int = 0  # 0: the whole sentence; n: its n-th clause or list item (embed_text)


class GenerationStore:
    """The chunk and sentence collections of one index generation. A delta (``base`` given)
    reads as ``base`` without the ``hidden`` sources, plus its own rows; writes go to its own."""

    def __init__(
        self,
        location: Location,
        generation: str,
        embeddings: Embeddings,
        *,
        base: str = "",
        hidden: Iterable[str] = (),
    ) -> None:
        from langchain_chroma import Chroma

        self.location = location
        self.generation = generation
        client = location.client(generation)
        # langchain-chroma creates collections with embedding_function=None: Chroma's own
        # default model (a download) can never run; we always pass our vectors.
        self.chunks = Chroma(
            collection_name=location.collection_name(generation, "chunks"),
            embedding_function=embeddings,
            client=client,
            collection_metadata=COSINE,
        )
        self.sentences = Chroma(
            collection_name=location.collection_name(generation, "sentences"),
            embedding_function=embeddings,
            client=client,
            collection_metadata=SENTENCE_INDEX,
        )
        # chromadb's typing of results is loose (Optional everywhere): read them as Any.
        self._chunk_collection: Any = self.chunks._collection
        self._count: int | None = None
        self._sentence_collection: Any = self.sentences._collection
        self.base = GenerationStore(location, base, embeddings) if base else None
        self.hidden = tuple(sorted(set(hidden)))
        self._base_kept: frozenset[str] | None = None

    @classmethod
    def of(cls, location: Location, manifest: Manifest, embeddings: Embeddings) -> GenerationStore:
        """The generation ``manifest`` names, read through its base if it is a delta."""
        extra = manifest.extra
        base = str(extra.get(BASE_KEY) or "")
        # Opening a generation creates it: a lost one must fail, not read as an empty index.
        gone = bases(manifest) - set(location.generations())
        if gone:
            raise IndexMissingError(f"{location.description} (generation {min(gone)} is gone)")
        return cls(
            location, manifest.generation, embeddings, base=base, hidden=extra.get(HIDDEN_KEY, ())
        )

    @classmethod
    def open_live(
        cls, location: Location, embeddings: Embeddings
    ) -> tuple[GenerationStore, Manifest]:
        manifest = location.read_manifest()
        if manifest is None:
            raise IndexMissingError(location.description)
        return cls.of(location, manifest, embeddings), manifest

    # --- writing (ingest only) -------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        matrix = _matrix(vectors)
        for i in range(0, len(chunks), ADD_BATCH):
            batch = chunks[i : i + ADD_BATCH]
            self._chunk_collection.upsert(
                ids=[c.id for c in batch],
                embeddings=matrix[i : i + ADD_BATCH],
                documents=[c.embed_text for c in batch],
                metadatas=[_chunk_meta(c) for c in batch],
            )

    def add_sentences(
        self, sentences: Sequence[StoredSentence], vectors: Sequence[Sequence[float]]
    ) -> None:
        matrix = _matrix(vectors)
        for i in range(0, len(sentences), ADD_BATCH):
            batch = sentences[i : i + ADD_BATCH]
            self._sentence_collection.upsert(
                ids=[f"{s.chunk_id}:{s.span.start}:{s.piece}" for s in batch],
                embeddings=matrix[i : i + ADD_BATCH],
                documents=[s.embed_text for s in batch],
                metadatas=[
                    {
                        "chunk_id": s.chunk_id,
                        "start": s.span.start,
                        "end": s.span.end,
                        "text": s.span.text,
                        "piece": s.piece,
                    }
                    for s in batch
                ],
            )

    # --- reading ------------------------------------------------------------------------
    def _kept(self) -> dict[str, Any] | None:
        """The filter on the base's chunks this delta keeps (None: all of them)."""
        return {"source": {"$nin": list(self.hidden)}} if self.hidden else None

    def all_chunks(self) -> list[Chunk]:
        got = self._chunk_collection.get(include=["metadatas"])
        own = [
            _chunk_from_meta(cid, meta)
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True)
        ]
        if self.base is None:
            return own
        hidden = set(self.hidden)
        return [c for c in self.base.all_chunks() if c.source not in hidden] + own

    def vectors_by_text(self, kind: str = "chunks") -> dict[str, Any]:
        """Embedded text -> vector (a float32 row), so a re-ingest re-embeds only what
        changed. Rows of one array: 100,000 vectors as Python floats would take ~1.2 GB.
        A delta adds its base's hidden rows too: a text's vector is the same wherever kept."""
        collection = self._chunk_collection if kind == "chunks" else self._sentence_collection
        own = _by_text(collection.get(include=["documents", "embeddings"]))
        return {**self.base.vectors_by_text(kind), **own} if self.base else own

    def vectors_of_sources(self, sources: Collection[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Embedded text -> vector of the chunks, then the sentences, stored for ``sources``
        here or in the base (whatever the delta hides: still the vector of its text), read
        by source and by chunk id rather than every row of the index."""
        chunk_vectors: dict[str, Any] = {}
        sentence_vectors: dict[str, Any] = {}
        names = sorted(sources)
        for store in (self.base, self) if self.base else (self,):
            ids: list[str] = []
            for i in range(0, len(names), GET_BATCH):
                got = store._chunk_collection.get(
                    where={"source": {"$in": names[i : i + GET_BATCH]}},
                    include=["documents", "embeddings"],
                )
                ids += got["ids"]
                chunk_vectors.update(_by_text(got))
            for i in range(0, len(ids), GET_BATCH):
                got = store._sentence_collection.get(
                    where={"chunk_id": {"$in": ids[i : i + GET_BATCH]}},
                    include=["documents", "embeddings"],
                )
                sentence_vectors.update(_by_text(got))
        return chunk_vectors, sentence_vectors

    def all_sentences(self) -> tuple[list[StoredSentence], Any]:
        import numpy as np

        got = self._sentence_collection.get(include=["documents", "metadatas", "embeddings"])
        sentences = [
            StoredSentence(
                m["chunk_id"],
                Span(int(m["start"]), int(m["end"]), m["text"]),
                doc,
                int(m.get("piece", 0)),
            )
            for doc, m in zip(got["documents"], got["metadatas"], strict=True)
        ]
        matrix = _rows(got["embeddings"], len(sentences))
        if self.base is None:
            return sentences, matrix
        kept = self._kept_ids()
        theirs, their_matrix = self.base.all_sentences()
        rows = [i for i, s in enumerate(theirs) if s.chunk_id in kept]
        if not sentences:
            return [theirs[i] for i in rows], their_matrix[rows]
        if not rows:
            return sentences, matrix
        return [theirs[i] for i in rows] + sentences, np.vstack([their_matrix[rows], matrix])

    def search(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """Top-k chunk ids by cosine similarity."""
        # A generation is never written after its swap: count it once, not per query.
        if self._count is None:
            self._count = int(self._chunk_collection.count())
        hits = _query(self._chunk_collection, vector, min(k, self._count), None)
        if self.base is not None:
            # Kept rows of the base are filtered in the query: its top k are then all usable.
            hits += _query(
                self.base._chunk_collection, vector, min(k, self._kept_count()), self._kept()
            )
            hits = sorted(hits, key=lambda hit: -hit[1])[:k]
        return hits

    def _kept_ids(self) -> frozenset[str]:
        """The ids of the base's chunks this delta keeps, read once: a generation is never
        written after its swap."""
        if self._base_kept is None:
            assert self.base is not None
            got = self.base._chunk_collection.get(where=self._kept(), include=[])
            self._base_kept = frozenset(got["ids"])
        return self._base_kept

    def _kept_count(self) -> int:
        return len(self._kept_ids())

    def count(self) -> int:
        own = int(self._chunk_collection.count())
        return own + self._kept_count() if self.base is not None else own


def _query(
    collection: Any, vector: Sequence[float], n: int, where: dict[str, Any] | None
) -> list[tuple[str, float]]:
    if n <= 0:
        return []
    got = collection.query(
        query_embeddings=[list(vector)], n_results=n, where=where, include=["distances"]
    )
    return [
        (cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)
    ]


def _rows(embeddings: Any, n: int) -> Any:
    """Chroma's embeddings as one float32 array of ``n`` rows (``(0, 0)`` when there are none)."""
    import numpy as np

    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(embeddings, dtype=np.float32).reshape(n, -1)


def _by_text(got: Any) -> dict[str, Any]:
    documents = got["documents"] or []
    return dict(zip(documents, _rows(got["embeddings"], len(documents)), strict=True))


def _matrix(vectors: Sequence[Sequence[float]]) -> Any:
    """The vectors as one float32 array: Chroma checks a list of Python floats number by
    number (a fifth of a write's time), an array at once."""
    import numpy as np

    array = np.asarray(vectors, dtype=np.float32)
    return array.reshape(len(vectors), -1) if array.size else array


def _chunk_meta(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "text": chunk.text,
        "context": chunk.context,
        "kind": chunk.kind,
        "question": chunk.question,
        "url": chunk.url,
        "pages": chunk.pages,
    }


def _chunk_from_meta(chunk_id: str, meta: Any) -> Chunk:
    return Chunk(
        chunk_id,
        str(meta["source"]),
        str(meta["section"]),
        int(meta["start"]),
        int(meta["end"]),
        str(meta["text"]),
        str(meta.get("context") or ""),
        str(meta.get("kind") or "text"),
        str(meta.get("question") or ""),
        str(meta.get("url") or ""),
        str(meta.get("pages") or ""),
    )

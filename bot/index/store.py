"""Chroma storage: one *generation* of the index per ingest, and a manifest naming the live one.

Ingest writes a whole new generation beside the live one and then swaps the manifest in
one atomic step, so a reader never sees half an index and a killed ingest changes nothing.

Where the generations live is the only difference between the two modes:

* embedded (default): ``PersistentClient`` at ``INDEX_DIR/generations/<gen>``, the manifest
  is ``INDEX_DIR/manifest.json`` (replaced with ``os.replace``);
* server (``FAQBOT_CHROMA_URL``): ``HttpClient``, collections ``<name>-<gen>-…``, the manifest
  is the metadata of the ``<name>-manifest`` collection (one ``modify`` call).

Everything else (``GenerationStore``) is the same code for both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.errors import IndexMissingError, StoreUnavailableError
from bot.types import Chunk, Span

# The layout of the chunks and sentences an index holds (bot/ingest/chunking.py,
# bot/index/sentences.py). Bump when either changes, so an index built by older code is stale.
CHUNKER_VERSION = 16

ADD_BATCH = 1000
COSINE = {"hnsw:space": "cosine"}


@dataclass(frozen=True)
class Manifest:
    generation: str
    model: str
    chunk_chars: int
    files: dict[str, str]  # corpus file name -> sha256
    chunks: int
    sentences: int
    created: float
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class StoredSentence:
    chunk_id: str
    span: Span
    embed_text: str  # what was embedded: the sentence under its section title
    piece: int = 0  # 0: the whole sentence; n: its n-th clause or list item (embed_text)


class Location(Protocol):
    """Where generations and the manifest live."""

    description: str

    def client(self, generation: str) -> Any: ...
    def collection_name(self, generation: str, kind: str) -> str: ...
    def read_manifest(self) -> Manifest | None: ...
    def write_manifest(self, manifest: Manifest) -> None: ...
    def drop_generations(self, keep: set[str]) -> list[str]: ...
    def generations(self) -> list[str]: ...


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class LocalLocation:
    def __init__(self, index_dir: Path, name: str) -> None:
        self.root = Path(index_dir)
        self.name = name
        self.description = str(self.root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def client(self, generation: str) -> Any:
        import chromadb

        path = self.root / "generations" / generation
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())

    def collection_name(self, generation: str, kind: str) -> str:
        return f"{self.name}-{kind}"

    def read_manifest(self) -> Manifest | None:
        try:
            return Manifest.from_json(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def write_manifest(self, manifest: Manifest) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(manifest.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.manifest_path)  # atomic: readers see the old or the new one

    def generations(self) -> list[str]:
        gens = self.root / "generations"
        return sorted(p.name for p in gens.iterdir() if p.is_dir()) if gens.exists() else []

    def drop_generations(self, keep: set[str]) -> list[str]:
        dropped = []
        for name in self.generations():
            if name not in keep:
                shutil.rmtree(self.root / "generations" / name, ignore_errors=True)
                dropped.append(name)
        # A manifest temp file a kill left behind (only ingest, under its lock, gets here).
        for tmp in self.root.glob(".manifest-*.json"):
            tmp.unlink(missing_ok=True)
        return dropped


class ServerLocation:
    def __init__(self, url: str, name: str) -> None:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        self.host = parsed.hostname or "localhost"
        self.port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        self.ssl = parsed.scheme == "https"
        self.name = name
        self.description = url
        self._client: Any = None

    def client(self, generation: str = "") -> Any:
        if self._client is None:
            import chromadb

            try:
                self._client = chromadb.HttpClient(
                    host=self.host, port=self.port, ssl=self.ssl, settings=_chroma_settings()
                )
                self._client.heartbeat()
            except Exception as exc:
                raise StoreUnavailableError(self.description, exc) from exc
        return self._client

    def collection_name(self, generation: str, kind: str) -> str:
        return f"{self.name}-{generation}-{kind}"

    def _pointer(self) -> Any:
        return self.client().get_or_create_collection(
            f"{self.name}-manifest", embedding_function=None
        )

    def read_manifest(self) -> Manifest | None:
        raw = (self._pointer().metadata or {}).get("manifest")
        return Manifest.from_json(raw) if raw else None

    def write_manifest(self, manifest: Manifest) -> None:
        self._pointer().modify(metadata={"manifest": manifest.to_json()})

    def _collections(self) -> list[tuple[str, str]]:
        """(collection name, its generation) of every generation collection."""
        found = []
        prefix = f"{self.name}-"
        for collection in self.client().list_collections():
            name = collection if isinstance(collection, str) else collection.name
            gen = name[len(prefix) :].rsplit("-", 1)[0] if name.startswith(prefix) else ""
            if gen.startswith("g"):
                found.append((name, gen))
        return found

    def generations(self) -> list[str]:
        return sorted({gen for _name, gen in self._collections()})

    def drop_generations(self, keep: set[str]) -> list[str]:
        dropped = []
        for name, gen in self._collections():
            if gen not in keep:
                self.client().delete_collection(name)
                dropped.append(name)
        return dropped


def _stamp(generation: str) -> int | None:
    """When ``generation`` was started (ingest names it ``g`` + time_ns in hex)."""
    match = re.fullmatch(r"g([0-9a-f]+)", generation)
    return int(match.group(1), 16) if match else None


def drop_unfinished(location: Location, manifest: Manifest | None) -> list[str]:
    """Drop the generations an ingest started but never swapped in (killed, or failed):
    those newer than the live one (``manifest``'s), or all when none is live. Older ones
    stay: the previous generation may still be read by a server that has not reloaded. Call
    this only while holding the ingest lock, so that no running ingest's generation is taken."""
    live = _stamp(manifest.generation) if manifest else None
    keep = set()
    for generation in location.generations():
        stamp = _stamp(generation)
        if manifest is not None and (stamp is None or live is None or stamp <= live):
            keep.add(generation)
    return location.drop_generations(keep)


def open_location(settings: Settings) -> Location:
    if settings.chroma_url:
        return ServerLocation(settings.chroma_url, settings.collection)
    return LocalLocation(settings.index_dir, settings.collection)


class GenerationStore:
    """The chunk and sentence collections of one index generation."""

    def __init__(self, location: Location, generation: str, embeddings: Embeddings) -> None:
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
            collection_metadata=COSINE,
        )
        # chromadb's typing of results is loose (Optional everywhere): read them as Any.
        self._chunk_collection: Any = self.chunks._collection
        self._count: int | None = None
        self._sentence_collection: Any = self.sentences._collection

    @classmethod
    def open_live(
        cls, location: Location, embeddings: Embeddings
    ) -> tuple[GenerationStore, Manifest]:
        manifest = location.read_manifest()
        if manifest is None:
            raise IndexMissingError(location.description)
        return cls(location, manifest.generation, embeddings), manifest

    # --- writing (ingest only) -------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        for i in range(0, len(chunks), ADD_BATCH):
            batch = chunks[i : i + ADD_BATCH]
            self._chunk_collection.upsert(
                ids=[c.id for c in batch],
                embeddings=[list(v) for v in vectors[i : i + ADD_BATCH]],
                documents=[c.embed_text for c in batch],
                metadatas=[_chunk_meta(c) for c in batch],
            )

    def add_sentences(
        self, sentences: Sequence[StoredSentence], vectors: Sequence[Sequence[float]]
    ) -> None:
        for i in range(0, len(sentences), ADD_BATCH):
            batch = sentences[i : i + ADD_BATCH]
            self._sentence_collection.upsert(
                ids=[f"{s.chunk_id}:{s.span.start}:{s.piece}" for s in batch],
                embeddings=[list(v) for v in vectors[i : i + ADD_BATCH]],
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
    def all_chunks(self) -> list[Chunk]:
        got = self._chunk_collection.get(include=["metadatas"])
        return [
            _chunk_from_meta(cid, meta)
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True)
        ]

    def vectors_by_text(self, kind: str = "chunks") -> dict[str, list[float]]:
        """Embedded text -> vector, so a re-ingest re-embeds only what changed."""
        collection = self._chunk_collection if kind == "chunks" else self._sentence_collection
        got = collection.get(include=["documents", "embeddings"])
        return {
            doc: list(map(float, vec))
            for doc, vec in zip(got["documents"], got["embeddings"], strict=True)
        }

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
        matrix = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(sentences), -1)
        return sentences, matrix

    def search(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """Top-k chunk ids by cosine similarity."""
        # A generation is never written after its swap: count it once, not per query.
        if self._count is None:
            self._count = int(self._chunk_collection.count())
        count = self._count
        if count == 0:
            return []
        got = self._chunk_collection.query(
            query_embeddings=[list(vector)], n_results=min(k, count), include=["distances"]
        )
        return [
            (cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return int(self._chunk_collection.count())


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

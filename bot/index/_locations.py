"""Where generations live and the manifest that names the live one (see bot/index/store.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from bot.config import Settings
from bot.errors import StoreUnavailableError


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

"""The web fetcher's memory between runs: per URL, the validators (ETag, Last-Modified)
that make the next request conditional, and the last good body, which a 304 or a failed
fetch hands back. One small JSON index plus one body file per page, each written
atomically (temp file + rename) so an interrupted run never leaves a torn cache."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
VERSION = 1


@dataclass(frozen=True)
class CachedPage:
    url: str  # the final URL that answered 200 (after same-host redirects)
    content_type: str
    etag: str
    last_modified: str
    body_file: str


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FetchCache:
    """Cache under ``cache_dir``; ``None`` keeps nothing (every fetch is a first fetch)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.dir = cache_dir
        self._pages: dict[str, CachedPage] = {}
        self._aliases: dict[str, str] = {}  # a listed URL -> the URL it redirected to
        self._lock = threading.Lock()  # pages are fetched (and stored) from several threads
        if cache_dir is not None:
            self._load(cache_dir / INDEX_NAME)

    def _load(self, index: Path) -> None:
        try:
            raw = json.loads(index.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            # A damaged index costs one full re-fetch, not the ingest.
            log.warning("Web cache index %s unreadable (%s); fetching everything anew.", index, exc)
            return
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            return
        for url, entry in raw.get("pages", {}).items():
            try:
                self._pages[url] = CachedPage(**entry)
            except TypeError:
                continue
        self._aliases = {str(k): str(v) for k, v in raw.get("aliases", {}).items()}

    def lookup(self, url: str) -> CachedPage | None:
        """The entry for ``url`` itself, or for where it redirected to last time."""
        return self._pages.get(url) or self._pages.get(self._aliases.get(url, ""))

    def validators(self, url: str) -> dict[str, str]:
        """Conditional-request headers for ``url`` (only when its body is still on disk)."""
        entry = self._pages.get(url)
        if entry is None or self.body(entry) is None:
            return {}
        headers = {}
        if entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
        return headers

    def body(self, entry: CachedPage) -> bytes | None:
        if self.dir is None:
            return None
        try:
            return (self.dir / entry.body_file).read_bytes()
        except OSError:
            return None

    def store(
        self,
        requested: str,
        url: str,
        content: bytes,
        content_type: str,
        etag: str,
        last_modified: str,
    ) -> None:
        """Remember a good 200 answer for ``url`` (reached from ``requested``)."""
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32] + ".body"
        _atomic_write(self.dir / name, content)
        with self._lock:
            self._pages[url] = CachedPage(url, content_type, etag, last_modified, name)
        self.alias(requested, url)

    def alias(self, requested: str, url: str) -> None:
        with self._lock:
            if requested != url:
                self._aliases[requested] = url
            else:
                self._aliases.pop(requested, None)

    def save(self) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            pages, aliases = dict(self._pages), dict(self._aliases)
        data = {
            "version": VERSION,
            "pages": {url: asdict(entry) for url, entry in sorted(pages.items())},
            "aliases": dict(sorted(aliases.items())),
        }
        _atomic_write(self.dir / INDEX_NAME, json.dumps(data, indent=1).encode("utf-8"))

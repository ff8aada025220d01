"""Web fetch: a first fetch of a generated site against an unchanged re-fetch (304s).

A threaded HTTP server on 127.0.0.1 serves ~50 generated college pages (about 3 KB of HTML
each, with ETag and Last-Modified, answering If-None-Match with 304) and a sitemap of
them. ``bot.ingest.fetch.fetch_site`` fetches the sitemap's pages into a fresh cache, then again
with nothing changed, then once more after one page changed. Each figure is the median
of the repeats; the counts are the server's own.

    python -m benchmarks.fetch_reingest [--quick]
"""

from __future__ import annotations

import hashlib
import http.server
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks.common import part_main
from bot.ingest.fetch import fetch_site

PAGES = 50
REPEATS = 5


def _page(i: int, version: int) -> bytes:
    items = "".join(
        f"<h3 id='q{j}'>How does rule {i}.{j} work?</h3><p>"
        + f"Rule {i}.{j} (version {version}) applies to every enrolled student. " * 6
        + "</p>"
        for j in range(8)
    )
    links = "".join(f"<a href='/page-{k}.html'>Page {k}</a> " for k in range(i, i + 5))
    html = f"<html><head><title>Page {i}</title></head><body><nav>{links}</nav>"
    return (html + f"<h1>Student rules {i}</h1>{items}</body></html>").encode()


class _Site:
    def __init__(self, pages: int) -> None:
        self.versions = dict.fromkeys(range(pages), 1)
        self.status_counts: dict[int, int] = {}
        self.lock = threading.Lock()

    def body(self, i: int) -> bytes:
        return _page(i, self.versions[i])

    def count(self, status: int) -> None:
        with self.lock:
            self.status_counts[status] = self.status_counts.get(status, 0) + 1


def _server(site: _Site) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            port = self.headers.get("Host", "").rsplit(":", 1)[-1]
            if self.path == "/sitemap.xml":
                locs = "".join(
                    f"<url><loc>http://127.0.0.1:{port}/page-{i}.html</loc></url>"
                    for i in site.versions
                )
                xmlns = "http://www.sitemaps.org/schemas/sitemap/0.9"
                body = f'<urlset xmlns="{xmlns}">{locs}</urlset>'.encode()
                return self._send(200, body, "application/xml", "")
            name = self.path.removeprefix("/page-").removesuffix(".html")
            if not name.isdigit() or int(name) not in site.versions:
                return self._send(404, b"", "text/plain", "")
            body = site.body(int(name))
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", "text/html", etag)
            return self._send(200, body, "text/html; charset=utf-8", etag)

        def _send(self, status: int, body: bytes, kind: str, etag: str) -> None:
            site.count(status)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _one_round(pages: int) -> dict[str, Any]:
    site = _Site(pages)
    httpd = _server(site)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    sitemap = f"http://127.0.0.1:{httpd.server_address[1]}/sitemap.xml"
    try:
        with tempfile.TemporaryDirectory() as cache:
            runs = {}
            for name in ("first", "unchanged", "one_changed"):
                if name == "one_changed":
                    site.versions[0] += 1
                site.status_counts.clear()
                result = fetch_site([], [sitemap], cache_dir=Path(cache))
                runs[name] = {
                    "seconds": result.seconds,
                    "pages": len(result.pages),
                    "not_modified": result.unchanged,
                    "skipped": len(result.skipped),
                    "server_status_counts": dict(sorted(site.status_counts.items())),
                }
            return runs
    finally:
        httpd.shutdown()
        httpd.server_close()


def run(quick: bool = False) -> dict[str, Any]:
    pages, repeats = (10, 1) if quick else (PAGES, REPEATS)
    rounds = [_one_round(pages) for _ in range(repeats)]
    out: dict[str, Any] = {"pages": pages, "repeats": repeats, "page_bytes": len(_page(1, 1))}
    for name in ("first", "unchanged", "one_changed"):
        seconds = [r[name]["seconds"] for r in rounds]
        out[f"{name}_seconds"] = round(statistics.median(seconds), 4)
        out[f"{name}_seconds_all"] = [round(s, 4) for s in seconds]
        out[name] = rounds[-1][name]
    out["speedup_unchanged"] = round(out["first_seconds"] / out["unchanged_seconds"], 2)
    return out


if __name__ == "__main__":
    raise SystemExit(part_main(run, __doc__, "10 pages, one repeat", None, "fetch-reingest.json"))

"""Listed web pages, hardened: credentials in an address, a huge sitemap's summary, DNS
rebinding, redirects to another port, fetching only under the ingest lock. Most run the
ingest or the fetcher against real HTTP servers on loopback (integration)."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.errors import IngestLockedError
from bot.index.store import GenerationStore, open_location
from bot.ingest.fetch import FetchLimits, fetch_site
from bot.ingest.pipeline import IngestResult, ingest, ingest_lock
from bot.types import Skipped
from tests.conftest import HashingEmbeddings

PAGE = b"<h1>Parking</h1><h2 id='lot'>Where do I park?</h2><p>Park in Lot C for the exam.</p>"


@dataclass
class Served:
    """A loopback HTTP server: ``routes`` maps a path to (status, headers, body); every
    request is logged as (path, headers)."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base: str = ""

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def paths(self) -> list[str]:
        return [path for path, _ in self.log]


def _handler(served: Served) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.log.append((self.path, dict(self.headers.items())))
            status, headers, body = served.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("ct", "text/html; charset=utf-8"))
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serving(served: Served) -> Iterator[Served]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    served.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def site() -> Iterator[Served]:
    with serving(Served(routes={"/page.html": (200, {}, PAGE)})) as served:
        yield served


# ----------------------------------------------------------------------------- 1. credentials
@pytest.mark.integration
def test_an_address_with_a_password_is_refused_and_the_password_is_stored_nowhere(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path, site: Served
) -> None:
    secret = "pw-secret-91"  # lower case: addresses are lower-cased on the way
    with_password = site.base.replace("http://", f"http://alice:{secret}@") + "/page.html"
    (corpus_dir / "urls.txt").write_text(f"{with_password}\n", encoding="utf-8")
    result = ingest(settings, fake_embeddings)
    summary = result.summary()
    assert "user name or password" in summary
    assert f"{site.base}/page.html (" in summary  # named without its credentials
    assert site.log == []  # never sent, not even to ask for robots.txt
    manifest = (settings.index_dir / "manifest.json").read_text(encoding="utf-8")
    store, _ = GenerationStore.open_live(open_location(settings), fake_embeddings)
    stored = repr(store.all_chunks()) + repr(store.all_sentences()[0])
    cache = "".join(p.read_text("utf-8") for p in (settings.data_dir / "web").glob("*.json"))
    for text in (summary, repr(result.skipped), manifest, stored, cache):
        assert secret not in text and "alice" not in text


def test_a_redirect_or_link_to_an_address_with_a_password_is_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/go":
            return httpx.Response(
                302, headers={"location": "https://bob:hunter2@college.example/x"}
            )
        return httpx.Response(200, headers={"content-type": "text/html"}, content=b"x")

    client = httpx.Client(transport=httpx.MockTransport(answer))
    result = fetch_site(
        ["https://college.example/go"], client=client, resolve=lambda host: ["93.184.216.34"]
    )
    assert result.pages == []
    assert "hunter2" not in repr(result.skipped) and "bob" not in repr(result.skipped)
    assert "user name or password" in repr(result.skipped)


# ----------------------------------------------------------------------------- 2. big sitemaps
def test_the_summary_counts_and_samples_each_reason_and_stays_bounded() -> None:
    over = "over the limit of 20 pages (FAQBOT_FETCH_MAX_PAGES)"
    skipped = tuple(Skipped(f"https://college.example/p/{i:06d}", over) for i in range(99_980))
    odd = tuple(Skipped(f"https://college.example/e{i}", f"error {i} " * 40) for i in range(300))
    result = IngestResult(True, 21, 40, 90, 40, 1.0, "g1", skipped=(*skipped, *odd))
    summary = result.summary()
    assert len(summary) < 12_000
    assert "99,980" in summary and over in summary
    assert "https://college.example/p/000000" in summary
    assert "https://college.example/p/099979" not in summary  # sampled, not listed
    assert "100,280" in summary  # the total is still right


@pytest.mark.integration
def test_a_sitemap_of_5000_pages_over_the_page_limit_gives_a_short_summary(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path, site: Served
) -> None:
    locs = "".join(f"<url><loc>{site.base}/p/{i}</loc></url>" for i in range(5000))
    sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
    site.routes["/sitemap.xml"] = (200, {"ct": "application/xml"}, sitemap.encode())
    for i in range(5):
        site.routes[f"/p/{i}"] = (200, {}, PAGE.replace(b"Lot C", f"Lot {i}".encode()))
    (corpus_dir / "urls.txt").write_text(f"sitemap: {site.base}/sitemap.xml\n", encoding="utf-8")
    result = ingest(settings.with_(fetch_max_pages=5), fake_embeddings)
    summary = result.summary()
    assert result.files == 6 and len(result.skipped) == 4995
    assert len(summary) < 3000
    assert "4,995" in summary and "FAQBOT_FETCH_MAX_PAGES" in summary


# ----------------------------------------------------------------------------- 3. DNS rebinding
@pytest.mark.integration
def test_the_connection_goes_to_the_checked_address_even_if_dns_changes(
    site: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS answers a public address, then loopback (rebinding). The fetcher must connect to
    the address it checked. Here that public address is routed to the loopback test
    server, so the page still comes; any connection made by name or to loopback shows."""
    public = "93.184.216.34"
    answers: list[str] = []

    def rebinding(host: str) -> list[str]:
        answers.append(host)
        return [public] if len(answers) == 1 else ["127.0.0.1"]

    connected: list[Any] = []
    real_connect: Callable[..., socket.socket] = socket.create_connection

    def connect(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address[0])
        if address[0] == public:
            address = ("127.0.0.1", address[1])
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    url = f"http://college.test:{site.port}/page.html"
    result = fetch_site([url], limits=FetchLimits(timeout=5), resolve=rebinding)
    assert [p.url for p in result.pages] == [url] and result.skipped == []
    assert connected and set(connected) == {public}
    assert site.log and all(h["Host"] == f"college.test:{site.port}" for _, h in site.log)


def test_a_host_is_resolved_once_per_run_so_rebinding_cannot_move_it() -> None:
    # DNS that answers a public address, then loopback once page /a is served (rebinding):
    # the run keeps the address it checked (the test above shows the connection goes there).
    address = ["93.184.216.34"]
    asked: list[str] = []

    def resolve(host: str) -> list[str]:
        asked.append(host)
        return list(address)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        address[0] = "127.0.0.1"
        return httpx.Response(200, headers={"content-type": "text/html"}, content=b"page")

    client = httpx.Client(transport=httpx.MockTransport(answer))
    urls = ["https://college.example/a", "https://college.example/b"]
    result = fetch_site(urls, client=client, resolve=resolve)
    assert [p.url for p in result.pages] == urls
    assert asked == ["college.example"]


# ----------------------------------------------------------------------------- 4. redirect port
@pytest.mark.integration
def test_a_redirect_to_another_port_of_the_same_host_is_refused(site: Served) -> None:
    with serving(Served(routes={"/page.html": (200, {}, b"<p>other port</p>")})) as other:
        site.routes["/move"] = (302, {"Location": f"{other.base}/page.html"}, b"")
        result = fetch_site([f"{site.base}/move"], limits=FetchLimits(timeout=5))
    assert result.pages == [] and other.log == []
    reason = {s.name: s.reason for s in result.skipped}[f"{site.base}/move"]
    assert "another host or port" in reason


def test_a_redirect_from_http_to_https_on_the_same_host_is_still_followed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return httpx.Response(301, headers={"location": "https://college.example/faq"})
        return httpx.Response(200, headers={"content-type": "text/html"}, content=b"faq")

    client = httpx.Client(transport=httpx.MockTransport(answer))
    result = fetch_site(
        ["http://college.example/faq"], client=client, resolve=lambda host: ["93.184.216.34"]
    )
    assert [p.url for p in result.pages] == ["https://college.example/faq"]


# ----------------------------------------------------------------------------- 5. lock first
@pytest.mark.integration
def test_a_second_ingest_is_refused_before_it_fetches_anything(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path, site: Served
) -> None:
    (corpus_dir / "urls.txt").write_text(f"{site.base}/page.html\n", encoding="utf-8")
    with ingest_lock(settings.index_dir), pytest.raises(IngestLockedError):
        ingest(settings, fake_embeddings, urls=[f"{site.base}/page.html"])
    assert site.log == []
    assert ingest(settings, fake_embeddings).files == 2  # and once free, it fetches
    assert "/page.html" in site.paths()

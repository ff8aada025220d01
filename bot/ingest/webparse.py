"""Pure helpers of the web fetcher: address normalising and checking, robots.txt rules,
sitemap parsing and link extraction. No network here, so each is tested on plain bytes."""

from __future__ import annotations

import gzip
import io
import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html
from defusedxml import ElementTree as SafeET  # forbids DTDs, entities and external refs
from protego import Protego

Resolver = Callable[[str], list[str]]

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAP_BYTES = 50_000_000  # the sitemap protocol's own cap on an uncompressed file


def normalize(url: str) -> str:
    """``url`` without its fragment, scheme and host lower-cased, an empty path as ``/``:
    the one spelling used to deduplicate, to key the cache and to compare hosts."""
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def scheme_problem(url: str) -> str:
    """Why ``url`` cannot be fetched at all ("" when it can)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) address: write it as https://host/path"
    if not parts.hostname:
        return "no host name in the address"
    return ""


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (a literal IP resolves to itself)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def non_public(addresses: Iterable[str]) -> list[str]:
    """The addresses among ``addresses`` that are private, loopback, link-local or reserved
    (an IPv4-mapped IPv6 address is judged by its IPv4 form)."""
    bad = []
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            bad.append(text)
    return bad


# ----------------------------------------------------------------------------- robots.txt
class RobotRules:
    """One host's robots.txt, parsed by Protego (wildcards, Allow/Disallow precedence,
    Crawl-delay). ``allow_all``/``deny_all`` stand for a missing or unreachable file."""

    def __init__(self, text: str | None = None, *, deny_all: bool = False) -> None:
        self.deny_all = deny_all
        self._parser = Protego.parse(text) if text else None

    def allows(self, url: str, user_agent: str) -> bool:
        if self.deny_all:
            return False
        return self._parser is None or bool(self._parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float:
        if self._parser is None:
            return 0.0
        delay = self._parser.crawl_delay(user_agent)
        return float(delay) if delay else 0.0


# ----------------------------------------------------------------------------- sitemaps
def parse_sitemap(body: bytes) -> tuple[list[str], list[str]]:
    """``(page_urls, child_sitemap_urls)`` of a sitemap, a sitemap index, a gzipped one or
    a plain-text one (one address a line). Raises ValueError when it is none of these."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        lines = stripped.decode("utf-8", "replace").splitlines()
        return [line.strip() for line in lines if line.strip().startswith("http")], []
    try:
        root = SafeET.fromstring(stripped)
    except Exception as exc:  # defusedxml raises ParseError or its own DTD/entity errors
        raise ValueError(f"not a valid sitemap ({type(exc).__name__}: {exc})") from None
    tag = root.tag.removeprefix(SITEMAP_NS)
    if tag not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: its root element is <{tag}>")
    locs = [
        (loc.text or "").strip()
        for loc in root.iter()
        if loc.tag.removeprefix(SITEMAP_NS) == "loc" and (loc.text or "").strip()
    ]
    return (locs, []) if tag == "urlset" else ([], locs)


def _gunzip(body: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
        data = f.read(MAX_SITEMAP_BYTES + 1)  # bounded: a gzip bomb stops here
    if len(data) > MAX_SITEMAP_BYTES:
        raise ValueError(f"sitemap over {MAX_SITEMAP_BYTES} bytes once uncompressed")
    return data


# ----------------------------------------------------------------------------- links
def extract_links(body: bytes, page_url: str) -> tuple[str, ...]:
    """The distinct same-host http(s) links of an HTML page, absolute and without fragment,
    in page order (``<base href>`` honoured). Broken HTML yields what lxml recovers."""
    try:
        doc = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return ()
    base = page_url
    for href in doc.xpath("//base/@href"):
        base = urljoin(page_url, str(href).strip())
        break
    host = host_of(page_url)
    seen: dict[str, None] = {}
    for href in doc.xpath("//a/@href | //area/@href"):
        raw = str(href).strip()
        if not raw or raw.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        url = normalize(urljoin(base, raw))
        if not scheme_problem(url) and host_of(url) == host and url != normalize(page_url):
            seen.setdefault(url, None)
    return tuple(seen)

"""The generated college site of the ``site`` benchmark and the server that serves it: the
same seed gives the same bytes, the visible text is as large as a real site's, the sitemap
index lists every page, every page carries the same boilerplate in two kinds of markup,
print versions repeat their page's text, and the server answers conditional requests."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from benchmarks.site_gen import SiteInfo, change_pages, file_of, generate_site
from benchmarks.site_server import serve_site

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> SiteInfo:
    return generate_site(tmp_path_factory.mktemp("site"), pages=60, seed=3)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}  # fmt: skip


def _text(node: lxml.html.HtmlElement) -> str:
    for gone in node.xpath(".//script|.//style"):
        gone.drop_tree()
    return " ".join(" ".join(node.itertext()).split())


def _page(info: SiteInfo, path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(file_of(Path(info.root), path).read_bytes())


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def test_the_same_seed_gives_the_same_site_and_another_seed_another(tmp_path: Path) -> None:
    one = generate_site(tmp_path / "one", pages=40, seed=11)
    two = generate_site(tmp_path / "two", pages=40, seed=11)
    generate_site(tmp_path / "other", pages=40, seed=12)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert one.questions == two.questions and one.urls == two.urls
    assert _files(tmp_path / "one") != _files(tmp_path / "other")
    assert len([n for n in _files(tmp_path / "one") if n.endswith(".html")]) == 40 == one.pages


def test_visible_text_is_three_to_five_kilobytes_a_page_as_on_a_real_site(
    small_site: SiteInfo,
) -> None:
    root = Path(small_site.root)
    pages = sorted(root.rglob("*.html"))
    visible = sum(len(_text(lxml.html.fromstring(p.read_bytes()).body).encode()) for p in pages)
    assert len(pages) == 60 and small_site.pdfs >= 1
    assert 3_000 * len(pages) <= visible <= 5_000 * len(pages)  # 3-5 MB for 1,000 pages
    assert visible == pytest.approx(small_site.visible_bytes, rel=0.05)
    assert all(p.read_bytes().startswith(b"%PDF") for p in root.rglob("*.pdf"))


def test_every_page_repeats_the_same_boilerplate_in_semantic_or_plain_div_markup(
    small_site: SiteInfo,
) -> None:
    footer, menu, cookie = (small_site.boilerplate_blocks[i] for i in (3, 1, 4))
    semantic = 0
    for path in small_site.content_paths:
        page = _page(small_site, path)
        text = _text(page.body)
        assert footer in text and menu in text and cookie in text, path
        assert len(page.xpath("//nav//a")) in (0, 40)  # the top menu: 40 links
        assert len(page.xpath("//*[contains(@class, 'menu-item')]/a")) == 40
        semantic += bool(page.xpath("//nav"))
    share = semantic / len(small_site.content_paths)
    assert 0.3 <= share <= 0.7  # about half without <nav>, <header>, <footer>


def test_print_versions_and_second_addresses_repeat_their_page(small_site: SiteInfo) -> None:
    prints = [g for g in small_site.duplicate_groups if g[1].startswith("/print/")]
    aliases = [g for g in small_site.duplicate_groups if not g[1].startswith("/print/")]
    assert prints and aliases
    for original, copy in prints:
        page, printed = _page(small_site, original), _page(small_site, copy)
        main = page.xpath("//main|//*[contains(@class, 'node__content')]")[0]
        for box in main.xpath(".//*[contains(@class, 'cta')]"):
            box.drop_tree()
        assert _text(main) in _text(printed.body)
        assert not printed.xpath("//nav|//*[contains(@class, 'menu-item')]")
        assert len(_text(printed.body)) < len(_text(page.body))
    for original, alias in aliases:
        assert alias.startswith(original) and alias != original
        assert alias in small_site.urls and original in small_site.urls
    canonical = [_page(small_site, o).xpath("//link[@rel='canonical']/@href") for o, _ in aliases]
    assert any(links == [o] for links, (o, _) in zip(canonical, aliases, strict=True))


def test_the_sitemap_index_lists_every_page_with_lastmod(small_site: SiteInfo) -> None:
    root = Path(small_site.root)
    on_disk = {"/" + str(p.relative_to(root)).removesuffix("index.html")
               for p in root.rglob("*") if p.suffix in (".html", ".pdf")}  # fmt: skip
    with serve_site(root) as site:
        status, _, body = _get(f"{site.base}/sitemap.xml")
        index = lxml.etree.fromstring(body)
        children = index.xpath("//s:sitemap/s:loc/text()", namespaces=NS)
        assert status == 200 and len(children) == 2
        listed: list[str] = []
        for child in children:
            assert child.startswith(site.base)
            urlset = lxml.etree.fromstring(_get(child)[2])
            locs = urlset.xpath("//s:url/s:loc/text()", namespaces=NS)
            assert len(urlset.xpath("//s:url/s:lastmod", namespaces=NS)) == len(locs)
            listed += [loc.removeprefix(site.base) for loc in locs]
        for url in listed[:5] + [u for u in listed if "?" in u or u.endswith(".html")]:
            assert _get(site.base + url)[0] == 200, url
    assert len(listed) == len(set(listed)) == len(small_site.urls)
    assert {u.split("?")[0].removesuffix("index.html") for u in listed} == on_disk


def test_the_server_answers_conditional_requests_with_304_until_the_page_changes(
    tmp_path: Path,
) -> None:
    info = generate_site(tmp_path / "site", pages=30, seed=5)
    with serve_site(tmp_path / "site", crawl_delay=0.5) as site:
        robots = _get(f"{site.base}/robots.txt")[2].decode()
        assert "Crawl-delay: 0.5" in robots and f"Sitemap: {site.base}/sitemap.xml" in robots
        changed = change_pages(info, count=len(info.content_paths) - 1)
        path = changed[0]
        status, headers, body = _get(site.base + path)
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert status == 200 and body and etag and modified
        assert _get(site.base + path, **{"If-None-Match": etag})[:3:2] == (304, b"")
        assert _get(site.base + path, **{"If-Modified-Since": modified})[0] == 304
        assert _get(site.base + path, **{"If-None-Match": '"other"'})[0] == 200
        assert _get(f"{site.base}{path}?ref=home")[2] == body
        change_pages(info, count=len(info.content_paths) - 1, seed=2)
        status, headers, again = _get(site.base + path, **{"If-None-Match": etag})
        assert status == 200 and headers["ETag"] != etag and again != body
        assert re.search(rb"revision 2", again)
        assert _get(f"{site.base}/no/such/page/")[0] == 404
        assert _get(f"{site.base}/../../etc/passwd")[0] == 404
        assert site.statuses[304] == 2

"""The fetcher's page and sitemap limits on sitemaps listing more than it may fetch: the first
pages within the limit are fetched (copies and other hosts taking no place), every other
address is named, and none is shown with a password. Unit tests on httpx.MockTransport."""

from __future__ import annotations

import httpx

from bot.ingest.fetch import FetchLimits
from tests.ingest.test_fetch import BASE, Site, page, reasons, run, xml

OVER_PAGES = "over the limit of 3 pages (FAQBOT_FETCH_MAX_PAGES)"


def urlset(urls: list[str]) -> httpx.Response:
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>')


def test_a_sitemap_past_the_page_limit_fetches_the_first_pages_and_names_the_rest() -> None:
    pages = [f"{BASE}/p{i}" for i in range(8)]
    listed = [
        "https://elsewhere.example/ad",  # another host: named, takes no place
        pages[0],
        pages[0] + "#top",  # the same page again: fetched once, takes no place
        *pages[1:],
        "https://bob:hunter2@college.example/staff",  # past the limit, with a password
        "ftp://college.example/files",
    ]
    site = Site({"/sitemap.xml": urlset(listed), **{f"/p{i}": page(f"P{i}") for i in range(8)}})
    result = run(site, [], sitemaps=[f"{BASE}/sitemap.xml"], limits=FetchLimits(max_pages=3))
    assert [p.url for p in result.pages] == pages[:3]
    assert [site.asked(f"/p{i}") for i in range(8)] == [1, 1, 1, 0, 0, 0, 0, 0]
    named = reasons(result)
    assert "not on the sitemap's host" in named["https://elsewhere.example/ad"]
    assert all(named[url] == OVER_PAGES for url in pages[3:])
    assert named["ftp://college.example/files"] == OVER_PAGES
    assert named["https://college.example/staff"] == OVER_PAGES
    assert "hunter2" not in repr(result.skipped) and "bob" not in repr(result.skipped)
    assert len(result.skipped) == 1 + 5 + 2


def test_listed_addresses_past_the_page_limit_are_named_without_passwords() -> None:
    site = Site({f"/p{i}": page(f"P{i}") for i in range(3)})
    urls = [f"{BASE}/p0", "https://amy:s3cret@college.example/p1", f"{BASE}/p1", f"{BASE}/p2"]
    result = run(site, [*urls, "https://amy:s3cret@college.example/p9"],
                 limits=FetchLimits(max_pages=3))  # fmt: skip
    # the address with a password is refused within the limit and takes no place there
    assert [p.url for p in result.pages] == [f"{BASE}/p0", f"{BASE}/p1", f"{BASE}/p2"]
    named = reasons(result)
    assert "user name or password" in named["https://college.example/p1"]
    assert named["https://college.example/p9"] == OVER_PAGES and len(named) == 2
    assert "s3cret" not in repr(result.skipped) and "amy" not in repr(result.skipped)


def test_child_sitemaps_past_fifty_are_named_and_not_read() -> None:
    children = [f"{BASE}/sitemap-{i}.xml" for i in range(60)]
    locs = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    index = f'<sitemapindex xmlns="{ns}">{locs}</sitemapindex>'
    site = Site({
        "/sitemap.xml": xml(index),
        "/p": page("P"),
        **{f"/sitemap-{i}.xml": urlset([f"{BASE}/p"]) for i in range(60)},
    })  # fmt: skip
    result = run(site, [], sitemaps=[f"{BASE}/sitemap.xml"])
    read = [c for c in children if site.asked(c.removeprefix(BASE))]
    assert read == children[:49]  # the index and 49 children: 50 sitemaps
    assert {s.name: s.reason for s in result.skipped} == {
        c: "over 50 sitemaps" for c in children[49:]
    }
    assert [p.url for p in result.pages] == [f"{BASE}/p"] and site.asked("/p") == 1

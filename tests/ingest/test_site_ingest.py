"""A generated college site with bad input on the way (integration: real loopback server):
a page that stalls past the fetch timeout, a 404, a redirect loop, a page far over the size
limit and a sitemap listing 100,000 addresses are each named with their reason and the good
pages are ingested; a run in which nothing can be fetched keeps the live index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.site_gen import SiteInfo, generate_site
from benchmarks.site_server import SiteServer, serve_site
from bot.config import Settings
from bot.errors import FaqBotError
from bot.index.store import open_location
from bot.ingest.pipeline import ingest
from tests.conftest import HashingEmbeddings

pytestmark = pytest.mark.integration
MAX_BYTES = 8_000_000  # above the 100,000-address sitemap (~6 MB), far below the huge page
PAGES = 30


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteInfo, SiteServer]]:
    info = generate_site(tmp_path_factory.mktemp("site"), pages=PAGES, seed=9)
    with serve_site(info.root, bad=True, stall=5.0, huge_bytes=10 * MAX_BYTES) as server:
        yield info, server


def _settings(tmp_path: Path, info: SiteInfo) -> Settings:
    empty = tmp_path / "corpus"
    empty.mkdir(exist_ok=True)
    return Settings(
        corpus_dir=empty,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        fetch_timeout=0.5,
        fetch_max_bytes=MAX_BYTES,
        fetch_max_pages=len(info.urls) + 10,  # the good pages, the bad ones, and a few more
    )


def test_each_bad_page_is_named_with_its_reason_and_the_good_pages_are_ingested(
    site: tuple[SiteInfo, SiteServer], tmp_path: Path, fake_embeddings: HashingEmbeddings
) -> None:
    info, server = site
    base = server.base
    bad = {name: f"{base}/bad/{name}" for name in ("stall", "missing", "loop", "huge")}
    settings = _settings(tmp_path, info)
    result = ingest(
        settings,
        fake_embeddings,
        urls=list(bad.values()),
        # The children of sitemap.xml directly, so the huge sitemap comes after them.
        sitemaps=[f"{base}/sitemap-{n}.xml" for n in (1, 2)] + [f"{base}/bad/sitemap-100k.xml"],
    )
    reasons = {s.name: s.reason for s in result.skipped}
    assert "time" in reasons[bad["stall"]].lower()
    assert "404" in reasons[bad["missing"]]
    assert "redirect" in reasons[bad["loop"]].lower()
    assert str(MAX_BYTES) in reasons[bad["huge"]].replace(",", "")
    over = [s for s in result.skipped if "FAQBOT_FETCH_MAX_PAGES" in s.reason]
    assert len(over) >= 100_000 - 10  # the sitemap's addresses past the page limit
    summary = result.summary()
    assert len(summary) < 5_000 and "FAQBOT_FETCH_MAX_PAGES" in summary
    assert all(f"{base}/bad/{name}" in summary for name in ("stall", "missing", "loop", "huge"))
    manifest = open_location(settings).read_manifest()
    assert result.changed and manifest is not None and result.chunks > 0
    assert {base + path for path in info.content_paths} <= set(manifest.files)
    assert not any("/bad/" in url for url in manifest.files)
    assert server.paths["/bad/huge"] == 1  # refused once, not retried


def test_when_nothing_can_be_fetched_the_live_index_is_kept(
    site: tuple[SiteInfo, SiteServer], tmp_path: Path, fake_embeddings: HashingEmbeddings
) -> None:
    info, bad_server = site
    settings = _settings(tmp_path, info)
    with serve_site(info.root) as own:  # a server of its own, to be stopped below
        sitemap = f"{own.base}/sitemap.xml"
        ingest(settings, fake_embeddings, sitemaps=[sitemap])
    location = open_location(settings)
    live = location.read_manifest()
    assert live is not None and live.chunks > 0
    # Every address refused and no copy of any kept: the run fails and says why.
    refused = [f"{bad_server.base}/bad/missing", f"{bad_server.base}/bad/loop"]
    with pytest.raises(FaqBotError) as failed:
        ingest(settings.with_(data_dir=tmp_path / "other-data"), fake_embeddings, urls=refused)
    assert str(failed.value)
    assert location.read_manifest() == live
    assert live.generation in location.generations()
    # The whole site down: every page is named, and answered from its last good copy.
    down = ingest(settings, fake_embeddings, sitemaps=[sitemap])
    named = {s.name: s.reason for s in down.skipped}
    assert all("kept its last good version" in named[own.base + p] for p in info.content_paths)
    assert location.read_manifest() == live

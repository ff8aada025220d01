"""The last ingest's counts, kept with the index: /healthz and the admin page show them,
for an ingest run anywhere (here: beside the server, as the command line would)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.index.store import open_location
from bot.ingest.pipeline import ingest
from bot.insights.questionlog import NoLog
from bot.serve.server import create_server
from tests.conftest import HashingEmbeddings

TOKEN = "t" * 32
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def app(chain: FaqChain) -> TestClient:
    settings = chain.settings.with_(admin_token=TOKEN)
    return TestClient(create_server(chain, settings, mount_ui=False, questions=NoLog()))


def test_healthz_reports_the_last_ingest_s_counts(chain: FaqChain) -> None:
    health = app(chain).get("/healthz").json()
    last = health["ingest"]
    assert last["files"] == 1 and last["pages"] == 0
    assert last["chunks"] == health["chunks"] > 0
    assert (last["fetched"], last["unchanged"], last["failed"]) == (0, 0, 0)
    assert (last["duplicates"], last["boilerplate"]) == (0, 0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", last["when"])
    assert last["seconds"] >= 0


def test_a_new_ingest_s_counts_show_once_the_server_follows_it(
    chain: FaqChain, settings: Settings, fake_embeddings: HashingEmbeddings, monkeypatch: Any
) -> None:
    client = app(chain)
    before = client.get("/healthz").json()["ingest"]
    (settings.corpus_dir / "parking.md").write_text("# Parking\nPark in Lot C for the exam.\n")
    result = ingest(settings, fake_embeddings)  # as `python -m bot.ingest` would, elsewhere
    monkeypatch.setattr("bot.answer.chain.RELOAD_CHECK_SECONDS", 0.0)
    after = client.get("/healthz").json()["ingest"]
    assert before["files"] == 1 and after["files"] == 2
    assert after["chunks"] == result.chunks > before["chunks"]
    page = client.get("/admin", headers=BEARER).text
    assert "The index being served" in page
    assert f'<span class="n">{result.chunks:,}</span> chunks' in page
    assert '<span class="n">2</span> files' in page


def test_the_admin_page_escapes_and_bounds_what_a_manifest_holds(
    chain: FaqChain, settings: Settings
) -> None:
    # An index whose manifest was edited by hand: odd stage names, text where numbers go.
    location = open_location(settings)
    manifest = location.read_manifest()
    assert manifest is not None
    odd = {**manifest.extra["ingest"], "failed": "<script>", "chunks": 1e300,
           "stages": [["<b>x</b>", 1.0]] * 500}  # fmt: skip
    location.write_manifest(replace(manifest, extra={**manifest.extra, "ingest": odd}))
    client = app(FaqChain(settings, chain.embeddings))  # a server started on this index
    last = client.get("/healthz").json()["ingest"]
    assert last["failed"] == 0 and last["chunks"] == 0  # refused, not passed on
    page = client.get("/admin", headers=BEARER).text
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.count("&lt;b&gt;x&lt;/b&gt;") <= 10
    assert "<script>" not in page


def test_an_index_built_before_counts_were_kept_says_so(
    chain: FaqChain, settings: Settings
) -> None:
    location = open_location(settings)
    manifest = location.read_manifest()
    assert manifest is not None
    extra = {k: v for k, v in manifest.extra.items() if k != "ingest"}
    location.write_manifest(replace(manifest, extra=extra))
    client = app(FaqChain(settings, chain.embeddings))
    assert client.get("/healthz").json()["ingest"] is None
    assert "built before ingests kept their counts" in client.get("/admin", headers=BEARER).text

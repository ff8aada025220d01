"""The whole loop in one app: questions asked through the API and the widget are logged,
grouped on the admin page and the CLI report, and the re-ingest button runs the real ingest."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.__main__ import main
from bot.answer.chain import FaqChain
from bot.serve.guard import ADMIN_CSP
from bot.serve.server import create_server
from tests.conftest import logged

TOKEN = "a-token-for-the-web-team-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
GAPS = [
    "Where can students park on campus?",
    "Is there student parking near the building?",
    "Do I need a parking permit?",
]


def served(chain: FaqChain, **changes: Any) -> TestClient:
    settings = chain.settings.with_(
        rate_per_minute=100, allowed_origins=("https://college.example",), **changes
    )
    return TestClient(create_server(chain, settings, mount_ui=False))


def ask_all(client: TestClient) -> None:
    for turn, question in enumerate([*GAPS, "How much does the full CPT cost?"]):
        body = {"question": question, "session": "tab", "turn": turn}
        assert client.post("/api/chat", json=body).status_code == 200
    vote = {"session": "tab", "turn": 3, "question": "cost", "answer": "a", "liked": False}
    assert client.post("/api/feedback", json=vote).status_code == 204
    logged(client.app)


def test_no_admin_page_without_a_token(chain: FaqChain) -> None:
    client = served(chain)
    assert client.get("/admin", headers=BEARER).status_code == 404
    assert client.get("/admin/log").status_code == 404


def test_the_admin_page_shows_what_students_asked(chain: FaqChain) -> None:
    client = served(chain, admin_token=TOKEN)
    ask_all(client)
    assert client.get("/admin").status_code == 401
    assert (
        client.get("/admin", headers={"Authorization": "Bearer wrong-token-xx"}).status_code == 401
    )
    page = client.get("/admin?since=7d", headers=BEARER)
    assert page.status_code == 200
    rows = logged(client.app).questions()
    refused = [r.question for r in rows if r.abstained or r.vote == "down"]
    assert refused and all(q in page.text for q in refused[:1])
    log = client.get("/admin/log?q=parking", headers=BEARER)
    assert log.status_code == 200 and "Do I need a parking permit?" in log.text
    export = client.get("/admin/export.jsonl?since=7d", headers=BEARER)
    assert export.status_code == 200 and len(export.text.splitlines()) == len(rows)


def test_admin_responses_are_never_framed_or_shared_even_unrouted(chain: FaqChain) -> None:
    client = served(chain, admin_token=TOKEN)
    for path in ("/admin", "/admin/nothing-here"):
        res = client.get(path, headers={**BEARER, "Origin": "https://college.example"})
        assert res.headers["content-security-policy"] == ADMIN_CSP
        assert res.headers["x-frame-options"] == "DENY"
        assert res.headers["cache-control"] == "no-store"
        assert not [h for h in res.headers if h.startswith("access-control-")]
    # The same allowed origin does get CORS on the API: the difference is the path.
    api = client.post("/api/ask", json={"question": "cost?"},
                      headers={"Origin": "https://college.example"})  # fmt: skip
    assert api.headers["access-control-allow-origin"] == "https://college.example"


def test_reingest_now_runs_the_same_safe_ingest(chain: FaqChain) -> None:
    client = served(chain, admin_token=TOKEN)
    res = client.post("/admin/reingest", headers=BEARER, follow_redirects=True)
    assert res.status_code == 200 and "Index is up to date" in res.text
    guide = next(Path(chain.settings.corpus_dir).iterdir())
    guide.write_text(guide.read_text() + "\n\n# Parking\n\nStudents park in Lot C.\n")
    res = client.post("/admin/reingest", headers=BEARER, follow_redirects=True)
    assert "Ingested 1 files" in res.text
    deadline = time.monotonic() + 10
    while chain.manifest and chain.manifest.extra and time.monotonic() < deadline:
        if chain.reload(force=True):
            break
    assert "Lot C" in chain.ask("Where do students park?").text


def test_the_cli_report_groups_the_same_questions(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    client = served(chain)
    ask_all(client)
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(chain.settings.data_dir))
    monkeypatch.setattr(
        "bot.insights.reports.Reports.embed",
        lambda self, texts: chain.embeddings.embed_documents(texts),
    )  # the fake model: no download, seconds
    assert main(["insights", "--since", "1d", "--csv", str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "parking" in out.lower() and (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert main(["insights", "--since", "last week"]) == 1
    assert "2026-11-01" in capsys.readouterr().err  # the accepted forms are named

"""One server, many sites (FAQBOT_SITES_DIR): each site under /s/<name>/ answers from its own
pages, and its votes, log rows, limits, origins and admin page stay its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.ingest.pipeline import ingest
from bot.serve.sites import create_sites_server, open_sites
from bot.sites import load_sites
from tests.conftest import HashingEmbeddings, logged
from tests.test_sites_config import DEPLOYMENT_TOKEN, NORTH_TOKEN, two_sites, write_site

OPEN = "When does the library open?"
PERMIT = "How much is a parking permit?"
NORTH_ORIGIN, SOUTH_ORIGIN = "https://north.example.edu", "https://south.example.edu"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Two sites, each ingested; plus a site with no index yet and one without a corpus."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NORTH_ADMIN_TOKEN", NORTH_TOKEN)
        settings = two_sites(tmp_path_factory.mktemp("deployment"), north_limit=3)
        fake = HashingEmbeddings()
        for site in load_sites(settings)[0]:
            ingest(site.settings, fake)
        assert settings.sites_dir is not None
        write_site(settings.sites_dir, "unbuilt", {"a.md": "# A page\n\nNot ingested yet.\n"})
        (settings.sites_dir / "empty").mkdir()
        yield settings


@pytest.fixture
def client(built: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """The deployment's server, with a question log of its own (a fresh data folder)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NORTH_ADMIN_TOKEN", NORTH_TOKEN)
        settings = built.with_(data_dir=tmp_path / "data")
        sites, problems = open_sites(settings, embeddings=HashingEmbeddings())
    with TestClient(create_sites_server(settings, sites, problems, mount_ui=False)) as test_client:
        yield test_client


def ask(client: TestClient, site: str, question: str, **headers: str) -> Any:
    return client.post(f"/s/{site}/api/ask", json={"question": question}, headers=headers)


def admin_rows(client: TestClient, site: str, token: str) -> list[dict[str, Any]]:
    """The site's question log as its admin page exports it, once everything is written."""
    logged(client.app.site_apps[site])  # type: ignore[attr-defined]
    res = client.get(
        f"/s/{site}/admin/export.jsonl?since=7d", headers={"Authorization": f"Bearer {token}"}
    )
    assert res.status_code == 200, res.text
    return [json.loads(line) for line in res.text.splitlines() if line.strip()]


def test_each_site_answers_only_from_its_own_pages_and_cites_them(client: TestClient) -> None:
    north = ask(client, "north", OPEN).json()
    assert "8 am" in north["answer"] and not north["abstained"]
    assert {c["source"] for c in north["citations"]} == {"library.md"}
    south = ask(client, "south", PERMIT).json()
    assert "$45" in south["answer"] and {c["source"] for c in south["citations"]} == {"parking.md"}
    # The other site's question: never answered from the other site's pages.
    for site, question, other in [("south", OPEN, "8 am"), ("north", PERMIT, "$45")]:
        crossed = ask(client, site, question).json()
        assert other not in crossed["answer"]
        assert all(c["source"] != ("library.md" if site == "south" else "parking.md")
                   for c in crossed["citations"])  # fmt: skip


def test_each_site_has_its_own_launcher_embed_page_and_title(client: TestClient) -> None:
    launcher = client.get("/s/north/widget.js")
    assert launcher.status_code == 200 and '"Ask the Library"' in launcher.text
    assert '"Ask Parking"' in client.get("/s/south/widget.js").text
    page = client.get("/s/south/embed/")
    assert page.status_code == 200 and "Ask Parking" in page.text
    assert (
        "frame-ancestors 'self' https://south.example.edu"
        in page.headers["content-security-policy"]
    )
    # The embed page's script and styles are relative: they load under the site's prefix.
    assert 'src="chat.js?v=' in page.text
    assert client.get("/s/south/embed/chat.js").status_code == 200
    moved = client.get("/s/north", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/s/north/"


def test_an_unknown_site_is_a_404_and_so_is_a_broken_one(client: TestClient) -> None:
    for path in ["/s/nowhere/api/ask", "/s/nowhere/", "/s/nowhere", "/s/unbuilt/embed/"]:
        res = client.post(path, json={"question": OPEN}) if "api" in path else client.get(path)
        assert res.status_code == 404, path
        assert "/healthz" in res.json()["error"]
    assert client.get("/widget.js").status_code == 404  # no single site at the root


def test_healthz_lists_the_sites_their_generations_and_why_others_are_not_served(
    client: TestClient, built: Settings
) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "degraded"  # two folders are not served
    assert set(health["sites"]) == {"north", "south"}
    for name, site in health["sites"].items():
        assert site["status"] == "ok" and site["generation"].startswith("g")
        assert site["path"] == f"/s/{name}/"
        assert client.get(f"/s/{name}/healthz").json()["generation"] == site["generation"]
    broken = health["not_served"]
    assert set(broken) == {"unbuilt", "empty"}
    assert "No index" in broken["unbuilt"] and "--site unbuilt" in broken["unbuilt"]
    assert "corpus" in broken["empty"]


def test_limits_are_per_site(client: TestClient) -> None:
    # north allows 3 questions a minute; a client over it there is not limited on south.
    assert [ask(client, "north", OPEN).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert ask(client, "north", OPEN).headers["retry-after"]
    assert ask(client, "south", PERMIT).status_code == 200


def test_origins_are_per_site(client: TestClient) -> None:
    allowed = ask(client, "north", OPEN, origin=NORTH_ORIGIN)
    assert allowed.headers["access-control-allow-origin"] == NORTH_ORIGIN
    other = ask(client, "south", PERMIT, origin=NORTH_ORIGIN)
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    preflight = {"origin": NORTH_ORIGIN, "access-control-request-method": "POST"}
    assert client.options("/s/north/api/ask", headers=preflight).status_code == 204
    assert client.options("/s/south/api/ask", headers=preflight).status_code == 403


def test_log_rows_and_votes_stay_in_their_site(client: TestClient) -> None:
    chat = {"question": OPEN, "session": "north-s1", "turn": 0}
    assert client.post("/s/north/api/chat", json=chat).status_code == 200
    vote = {"session": "north-s1", "turn": 0, "question": OPEN, "answer": "8 am", "liked": False}
    assert client.post("/s/north/api/feedback", json=vote).status_code == 204
    assert ask(client, "south", PERMIT).status_code == 200
    north = admin_rows(client, "north", NORTH_TOKEN)
    south = admin_rows(client, "south", DEPLOYMENT_TOKEN)
    assert [r["question"] for r in north] == [OPEN] and north[0]["vote"] == "down"
    assert [r["question"] for r in south] == [PERMIT] and south[0]["vote"] == ""
    # The same session and turn voted on south is south's vote only.
    vote_south = {**vote, "question": PERMIT, "liked": True}
    client.post("/s/south/api/chat", json={"question": PERMIT, "session": "north-s1", "turn": 0})
    assert client.post("/s/south/api/feedback", json=vote_south).status_code == 204
    assert admin_rows(client, "north", NORTH_TOKEN)[0]["vote"] == "down"
    assert {r["vote"] for r in admin_rows(client, "south", DEPLOYMENT_TOKEN)} == {"", "up"}


def test_a_site_token_opens_only_its_site_and_the_deployment_token_opens_all(
    client: TestClient,
) -> None:
    def status(site: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return client.get(f"/s/{site}/admin", headers=headers).status_code

    assert status("north", NORTH_TOKEN) == 200
    assert status("south", NORTH_TOKEN) == 401
    assert status("north", DEPLOYMENT_TOKEN) == 200
    assert status("south", DEPLOYMENT_TOKEN) == 200
    assert client.get("/admin").status_code == 404  # no admin page outside the sites


@pytest.mark.parametrize("token", [NORTH_TOKEN, DEPLOYMENT_TOKEN])
def test_the_admin_login_works_under_the_site_prefix(client: TestClient, token: str) -> None:
    same_site = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    res = client.post("/s/north/admin/login", data={"token": token}, headers=same_site,
                      follow_redirects=False)  # fmt: skip
    assert res.status_code == 303 and res.headers["location"] == "/s/north/admin"
    assert "Path=/s/north/admin" in res.headers["set-cookie"]
    page = client.get("/s/north/admin")  # the session cookie, sent back under the prefix
    assert page.status_code == 200
    assert 'href="/s/north/admin/log"' in page.text and '="/admin' not in page.text
    assert client.get("/s/south/admin").status_code == 401  # that cookie is north's only
    # Even sent to south on purpose (south takes the deployment token too): north's only.
    session = {"cookie": f"faqbot_admin={client.cookies.get('faqbot_admin')}"}
    assert client.get("/s/south/admin", headers=session).status_code == 401
    assert client.get("/s/north/admin", headers=session).status_code == 200


def test_a_site_whose_profile_breaks_later_is_skipped_at_the_next_start(
    built: Settings, tmp_path: Path
) -> None:
    assert built.sites_dir is not None
    sites_dir = tmp_path / "sites"
    for name in ("north", "south"):  # the built indexes, with south's profile garbled
        (sites_dir / name).mkdir(parents=True)
        (sites_dir / name / "corpus").symlink_to(built.sites_dir / name / "corpus")
    (sites_dir / "south" / "faqbot.toml").write_text("name = [", encoding="utf-8")
    settings = built.with_(sites_dir=sites_dir)
    sites, problems = open_sites(settings, embeddings=HashingEmbeddings())
    assert [s.config.name for s in sites] == ["north"]
    assert [p.name for p in problems] == ["south"] and "readable TOML" in problems[0].error
    with TestClient(create_sites_server(settings, sites, problems, mount_ui=False)) as c:
        assert ask(c, "north", OPEN).status_code == 200
        assert ask(c, "south", PERMIT).status_code == 404


@pytest.mark.integration
def test_each_site_has_its_own_gradio_chat_under_its_prefix(built: Settings) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NORTH_ADMIN_TOKEN", NORTH_TOKEN)
        sites, problems = open_sites(built, embeddings=HashingEmbeddings())
    with TestClient(create_sites_server(built, sites, problems)) as c:
        page = c.get("/s/south/", headers={"host": "assistant.example.edu"})
        assert page.status_code == 200 and "Southgate Parking Assistant" in page.text
        # Gradio's own requests go to the site's prefix, also when only the host is known.
        assert '"root":"http://assistant.example.edu/s/south"' in page.text
        assert c.get("/s/south/gradio_api/info").status_code == 200

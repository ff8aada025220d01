"""The admin page under a prefix and with several tokens (bot/serve/admin.py): a site of many
(``/s/<name>``, bot/serve/sites.py) or an app mounted behind a proxy's path links, redirects
and scopes its cookie under that prefix; it takes its own token and the deployment's; a
session opens only the site that issued it; wrong tokens count across replicas in Redis."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.config import Settings
from bot.serve.admin import admin_router
from bot.types import Gap
from tests.serve.test_admin import TOKEN, Clock, FakeLog, bearer, fake_insights, row

DEPLOYMENT = "the-deployment-token-0123"
PREFIX = "/s/north"
SAME_SITE = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
URLS = re.compile(r'(?:href|src|action)="([^"]*)"')


def site_admin(
    site: str = "north",
    prefix: str = "",
    token: str = TOKEN,
    more_tokens: tuple[str, ...] = (DEPLOYMENT,),
    **settings: Any,
) -> TestClient:
    """One site's admin routes with 60 logged questions (two pages of the log), mounted
    under ``prefix`` as the sites' server or a proxy's path would put them."""
    rows = [row(n, f"Question {n} about parking?") for n in range(60)]
    gap = Gap(3, ("Is there a dorm?",), 3, "housing.md", "Rooms", 0.2)
    app = FastAPI()
    router = admin_router(
        Settings(admin_token=token, site=site, **settings), FakeLog(rows),
        fake_insights([], gaps=(gap,)), lambda: "Ingested 3 files.", Clock(),
        more_tokens=more_tokens,
    )  # fmt: skip
    app.include_router(router)
    outer = Starlette(routes=[Mount(prefix, app)]) if prefix else app
    return TestClient(outer)


def login(client: TestClient, token: str, prefix: str = "") -> Any:
    return client.post(f"{prefix}/admin/login", data={"token": token}, headers=SAME_SITE,
                       follow_redirects=False)  # fmt: skip


def test_every_link_form_redirect_and_the_cookie_carry_the_prefix() -> None:
    client = site_admin(prefix=PREFIX)
    form = client.get(f"{PREFIX}/admin")
    assert form.status_code == 401 and f'action="{PREFIX}/admin/login"' in form.text
    res = login(client, TOKEN, PREFIX)
    assert res.status_code == 303 and res.headers["location"] == f"{PREFIX}/admin"
    assert f"Path={PREFIX}/admin" in res.headers["set-cookie"]
    pages = [f"{PREFIX}/admin", f"{PREFIX}/admin/log?page=1", f"{PREFIX}/admin/log?page=2",
             f"{PREFIX}/admin/logout"]  # fmt: skip
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        urls = [u for u in URLS.findall(page.text) if not u.startswith("#")]
        assert urls, path
        assert all(u.startswith(f"{PREFIX}/admin") for u in urls), (path, urls)
    overview = client.get(f"{PREFIX}/admin").text
    for route in ("/admin/log?q=", "/admin/export.csv", "/admin/plot/daily.svg",
                  "/admin/reingest", "/admin/logout", "/admin/admin.css"):  # fmt: skip
        assert f"{PREFIX}{route}" in overview, route
    for asset in ("admin.css", "icon.svg"):
        assert client.get(f"{PREFIX}/admin/{asset}").status_code == 200
    again = client.post(f"{PREFIX}/admin/reingest", headers=SAME_SITE, follow_redirects=False)
    assert again.headers["location"] == f"{PREFIX}/admin#reingest"
    out = client.post(f"{PREFIX}/admin/logout", headers=SAME_SITE, follow_redirects=False)
    assert out.headers["location"] == f"{PREFIX}/admin"
    assert f"Path={PREFIX}/admin" in out.headers["set-cookie"]
    assert client.get(f"{PREFIX}/admin").status_code == 401
    script = client.get(f"{PREFIX}/admin/export.csv")
    assert script.status_code == 401 and f"Log in at {PREFIX}/admin" in script.text


def test_without_a_prefix_the_links_are_the_plain_admin_routes() -> None:
    client = site_admin()
    res = login(client, TOKEN)
    assert res.headers["location"] == "/admin" and "Path=/admin;" in res.headers["set-cookie"]
    urls = [u for u in URLS.findall(client.get("/admin").text) if not u.startswith("#")]
    assert urls and all(u.startswith("/admin") for u in urls)


def test_the_sites_token_and_the_deployments_both_open_it_and_nothing_else() -> None:
    client = site_admin()
    for token in (TOKEN, DEPLOYMENT):
        assert client.get("/admin/export.csv", headers=bearer(token)).status_code == 200
        assert login(site_admin(), token).status_code == 303
    for wrong in ("x" * 24, TOKEN + DEPLOYMENT, DEPLOYMENT[:-1], ""):
        assert client.get("/admin/export.csv", headers=bearer(wrong)).status_code == 401
    assert login(client, "n" * 24).status_code == 401


def test_more_tokens_do_not_turn_on_a_page_that_is_off() -> None:
    client = site_admin(token="")
    assert client.get("/admin", headers=bearer(DEPLOYMENT)).status_code == 404
    assert login(client, DEPLOYMENT).status_code == 404


@pytest.mark.parametrize("token", [TOKEN, DEPLOYMENT])
def test_a_session_opens_only_the_site_that_issued_it(token: str) -> None:
    north, south = site_admin("north"), site_admin("south")  # the very same two tokens
    assert login(north, token).status_code == 303
    cookie = north.cookies.get("faqbot_admin") or ""
    assert north.get("/admin").status_code == 200
    south.cookies.set("faqbot_admin", cookie)
    assert south.get("/admin").status_code == 401
    assert south.get("/admin/export.jsonl").status_code == 401


def test_a_session_ends_when_its_token_is_no_longer_accepted() -> None:
    old = site_admin(more_tokens=(DEPLOYMENT,))
    assert login(old, DEPLOYMENT).status_code == 303
    rotated = site_admin(more_tokens=("a-new-deployment-token-99",))
    rotated.cookies.set("faqbot_admin", old.cookies.get("faqbot_admin") or "")
    assert rotated.get("/admin").status_code == 401


def nine_wrong_then_one(url: str, site: str) -> int:
    """Nine wrong tokens on replica a, a tenth on replica b (of the same site): the status
    of the right token on b afterwards."""
    a, b = site_admin(site, redis_url=url), site_admin(site, redis_url=url)
    for _ in range(9):  # one short of the lockout
        assert login(a, "x" * 24).status_code == 401
    assert login(b, "y" * 24).status_code == 401
    status: int = login(b, TOKEN).status_code
    return status


def test_without_redis_each_replica_counts_its_own_wrong_tokens() -> None:
    assert nine_wrong_then_one("", "north") == 303


@pytest.mark.integration
def test_wrong_tokens_on_one_replica_count_on_another(redis_url: str) -> None:
    site = f"t-{uuid.uuid4().hex[:12]}"  # the session's Redis is shared: keys of its own
    assert nine_wrong_then_one(redis_url, site) == 429  # b counted a's nine: locked
    other = site_admin(f"t-{uuid.uuid4().hex[:12]}", redis_url=redis_url)
    assert login(other, TOKEN).status_code == 303  # another site's counts are its own

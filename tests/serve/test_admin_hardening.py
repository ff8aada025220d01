"""The admin page against hostile input (bot/serve/admin.py): odd digits and huge numbers in
cookies and queries are 4xx or the default page, never a 500; logging out is a same-site
POST; the exports carry no terminal escapes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.insights.grouping import build_insights
from bot.serve.admin import admin_router
from tests.serve.test_admin import NOW, TOKEN, Clock, FakeLog, bearer, logged_in, make_admin, row

NINES = "9" * 400
HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()


def real_grouping_admin() -> TestClient:
    """The admin routes over the real insights code (an empty log, no embedding needed), so
    a window that grouping cannot build shows up as it would in production."""
    app = FastAPI()
    insights = lambda since, until: build_insights([], lambda texts: [], since, until)  # noqa: E731
    app.include_router(admin_router(Settings(admin_token=TOKEN), FakeLog(), insights,
                                    lambda: "", Clock()))  # fmt: skip
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("value", ['"\\262.x"', '"\\262\\263.x"', f"{HUGE}.x"])
def test_a_cookie_with_odd_digits_is_a_login_form_not_a_500(value: str) -> None:
    # "\262" is how a cookie spells the byte 0xB2: "²", which str.isdigit() accepts.
    admin = make_admin()
    client = TestClient(admin.client.app, raise_server_exceptions=False)
    response = client.get("/admin", headers={"Cookie": f"faqbot_admin={value}"})
    assert response.status_code == 401 and 'action="/admin/login"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/log?page=²",
        "/admin/log?page=٣",
        f"/admin/log?page={HUGE}",
        "/admin/plot/daily.svg?until=²",
        f"/admin/plot/daily.svg?until={NINES}",
        f"/admin/plot/daily.svg?until={HUGE}",
        "/admin/plot/daily.svg?until=99999999999999999999",
        f"/admin?since={HUGE}d",
        f"/admin?since={NINES}w",
        f"/admin/export.csv?since={HUGE}d",
        f"/admin/plot/daily.svg?since={NINES}d&until={int(NOW)}",
    ],
)
def test_odd_numbers_in_queries_are_never_a_500(path: str) -> None:
    response = real_grouping_admin().get(path, headers=bearer())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.text.strip()  # a message, not an empty body


def test_an_odd_page_number_shows_the_first_page() -> None:
    admin = make_admin(rows=[row(n, f"question {n}", t=NOW - n) for n in range(1, 61)])
    for page in ("²", "٣", HUGE):
        response = admin.client.get(f"/admin/log?page={page}", headers=bearer())
        assert response.status_code == 200 and "Page 1 of 2" in response.text


def test_logging_out_is_a_post_from_this_site() -> None:
    admin = logged_in(make_admin())
    page = admin.client.get("/admin").text
    assert '<form method="post" action="/admin/logout"' in page
    assert 'href="/admin/logout"' not in page and "<script" not in page
    # A link or an image on another site can no longer log the admin out.
    shown = admin.client.get("/admin/logout", follow_redirects=False)
    assert shown.status_code in (200, 405) and "set-cookie" not in shown.headers
    assert admin.client.get("/admin").status_code == 200
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = admin.client.post("/admin/logout", headers=headers, follow_redirects=False)
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert admin.client.get("/admin").status_code == 200
    out = admin.client.post(
        "/admin/logout", headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert out.status_code == 303 and 'faqbot_admin=""' in out.headers["set-cookie"]
    assert admin.client.get("/admin").status_code == 401


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31mred\x1b[0m\r\x08\x00"


def test_exports_carry_no_terminal_escapes() -> None:
    question = f"Is parking {ESCAPES}free?"
    admin = make_admin(rows=[row(1, question, section=f"Fees{ESCAPES}", origin="\x1b[1m")])
    csv_text = admin.client.get("/admin/export.csv?since=7d", headers=bearer()).text
    jsonl_text = admin.client.get("/admin/export.jsonl?since=7d", headers=bearer()).text
    (record,) = [json.loads(line) for line in jsonl_text.splitlines()]
    (cells,) = list(csv.DictReader(io.StringIO(csv_text)))
    for exported in (record, cells):
        for value in exported.values():
            text = str(value)
            assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in text), text
            assert "[2J" not in text and "owned" not in text and "[31m" not in text
        assert exported["question"].startswith("Is parking") and "free?" in exported["question"]
        assert "red" in exported["question"]  # the text around the escapes is kept

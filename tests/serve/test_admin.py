"""The admin page (bot/serve/admin.py) through HTTP, against an app holding only its router, with
a fake question log, fake insights and a fake re-ingest."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.errors import IngestLockedError, LogStoreError
from bot.serve.admin import CSP, admin_router
from bot.types import Day, Gap, Insights, QuestionRow, Topic

TOKEN = "correct-horse-battery-staple-42"
NOW = 1_780_000_000.0
END = NOW + 1  # a window ends after the current second, so it holds the last question
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass
class FakeLog:
    """The question log in memory: the LogReader protocol, with every call recorded."""

    rows: list[QuestionRow] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _match(self, since: float, until: float | None, search: str, only: str) -> list[Any]:
        found = [
            r
            for r in sorted(self.rows, key=lambda r: -r.time)
            if r.time >= since
            and (until is None or r.time <= until)
            and search.lower() in r.question.lower()
            and (only != "unanswered" or r.abstained)
            and (only != "down" or r.vote == "down")
        ]
        return found

    def questions(self, since: float = 0.0, until: float | None = None, search: str = "",
                  only: str = "", limit: int | None = None,
                  offset: int = 0) -> list[QuestionRow]:  # fmt: skip
        self.calls.append({"since": since, "until": until, "search": search, "only": only,
                           "limit": limit, "offset": offset})  # fmt: skip
        found = self._match(since, until, search, only)[offset:]
        return found if limit is None else found[:limit]

    def count(self, since: float = 0.0, until: float | None = None, search: str = "",
              only: str = "") -> int:  # fmt: skip
        return len(self._match(since, until, search, only))


def row(n: int, question: str, t: float = NOW - 3600, **kw: Any) -> QuestionRow:
    return QuestionRow(**{"id": n, "time": t, "channel": "widget", "question": question,
                          "abstained": False, **kw})  # fmt: skip


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Admin:
    client: TestClient
    log: FakeLog
    windows: list[tuple[float, float]]
    clock: Clock


def fake_insights(
    windows: list[tuple[float, float]], gaps: tuple[Gap, ...] = (), topics: tuple[Topic, ...] = ()
) -> Callable[[float, float], Insights]:
    def insights(since: float, until: float) -> Insights:
        windows.append((since, until))
        days = (Day("2026-05-27", 10, 2, 3, 1), Day("2026-05-28", 0, 0, 0, 0))
        return Insights(since, until, 10, 2, 3, 1, gaps=gaps, topics=topics, days=days)

    return insights


def make_admin(token: str = TOKEN, rows: list[QuestionRow] | None = None,
               reingest: Callable[[], str] = lambda: "Ingested 3 files: 40 chunks.",
               base_url: str = "http://testserver", **insights: Any) -> Admin:  # fmt: skip
    log, clock = FakeLog(rows or []), Clock()
    windows: list[tuple[float, float]] = []
    app = FastAPI()
    settings = Settings(admin_token=token)
    router = admin_router(settings, log, fake_insights(windows, **insights), reingest, clock)
    app.include_router(router)
    return Admin(TestClient(app, base_url=base_url), log, windows, clock)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def logged_in(admin: Admin, token: str = TOKEN) -> Admin:
    response = admin.client.post("/admin/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    return admin


ROUTES = ["/admin", "/admin/log", "/admin/plot/daily.svg", "/admin/export.csv",
          "/admin/export.jsonl"]  # fmt: skip


def test_off_when_the_token_is_empty() -> None:
    admin = make_admin(token="")
    for path in [*ROUTES, "/admin/admin.css", "/admin/logout"]:
        assert admin.client.get(path, headers=bearer("")).status_code == 404, path
        assert admin.client.get(path, headers=bearer(TOKEN)).status_code == 404, path
    for path in ("/admin/login", "/admin/reingest"):
        response = admin.client.post(path, data={"token": ""}, headers=bearer(""))
        assert response.status_code == 404
    assert admin.windows == [] and admin.log.calls == []


def test_bearer_token_wrong_is_refused_and_right_is_let_in() -> None:
    admin = make_admin(rows=[row(1, "When does term start?")])
    for path in ROUTES:
        wrong = admin.client.get(path, headers=bearer("correct-horse-battery-staple-43"))
        assert wrong.status_code == 401, path
        assert "When does term start?" not in wrong.text
        assert admin.client.get(path).status_code == 401, path
        assert admin.client.get(path, headers=bearer()).status_code == 200, path
    assert admin.client.post("/admin/reingest", headers=bearer("nope")).status_code == 401


def test_a_browser_logs_in_through_the_form_and_gets_a_safe_cookie() -> None:
    admin = make_admin()
    first = admin.client.get("/admin")
    assert first.status_code == 401
    assert 'type="password"' in first.text and 'action="/admin/login"' in first.text
    wrong = admin.client.post("/admin/login", data={"token": "not-the-token-at-all"})
    assert wrong.status_code == 401 and "Wrong token" in wrong.text
    assert "set-cookie" not in wrong.headers
    ok = admin.client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/admin"
    cookie = ok.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/admin", "max-age=43200"} <= flags
    assert "secure" not in flags  # plain http here (a test server): see the https test
    assert TOKEN not in cookie
    assert admin.client.get("/admin").status_code == 200
    admin.clock.now += 12 * 3600 + 1  # the session is over
    assert admin.client.get("/admin").status_code == 401


def test_the_cookie_is_secure_over_https_and_log_out_drops_it() -> None:
    admin = make_admin(base_url="https://testserver")
    ok = admin.client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert "secure" in {p.strip().lower() for p in ok.headers["set-cookie"].split(";")}
    assert admin.client.get("/admin").status_code == 200
    out = admin.client.post("/admin/logout", follow_redirects=False)
    assert out.status_code == 303 and 'faqbot_admin=""' in out.headers["set-cookie"]
    assert admin.client.get("/admin").status_code == 401


@pytest.mark.parametrize(
    "cookie",
    ["", "garbage", f"{int(NOW) + 3600}.{'0' * 64}", f"{int(NOW) + 10**6}.abc", TOKEN],
)
def test_a_forged_cookie_is_refused(cookie: str) -> None:
    admin = make_admin()
    admin.client.cookies.set("faqbot_admin", cookie)
    assert admin.client.get("/admin").status_code == 401
    assert admin.client.get("/admin/export.csv").status_code == 401


def test_a_cookie_made_with_another_token_is_refused() -> None:
    other = logged_in(make_admin(token="another-token-entirely-000"), "another-token-entirely-000")
    value = other.client.cookies.get("faqbot_admin")
    admin = make_admin()
    admin.client.cookies.set("faqbot_admin", value or "")
    assert admin.client.get("/admin").status_code == 401


def test_wrong_tokens_are_limited_per_client() -> None:
    admin = make_admin()
    for _ in range(10):
        assert admin.client.post("/admin/login", data={"token": "x" * 20}).status_code == 401
    locked = admin.client.post("/admin/login", data={"token": TOKEN})
    assert locked.status_code == 429  # even the right one, until the minute is over
    assert admin.client.get("/admin", headers=bearer()).status_code == 429
    admin.clock.now += 61
    assert admin.client.get("/admin", headers=bearer()).status_code == 200


def test_every_admin_response_has_the_security_headers_and_no_cors() -> None:
    admin = make_admin()
    evil = {"Origin": "https://evil.example"}
    responses = [
        admin.client.get("/admin", headers=evil),
        admin.client.post("/admin/login", data={"token": "x"}),
        admin.client.get("/admin/admin.css", headers=evil),
        *(admin.client.get(p, headers={**evil, **bearer()}) for p in ROUTES),
        admin.client.get("/admin/log?page=x", headers={**evil, **bearer()}),
        make_admin(token="").client.get("/admin"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["cache-control"] == "no-store", response.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["content-security-policy"] == CSP
        assert not [h for h in headers if h.lower().startswith("access-control-")]
    assert "frame-ancestors 'none'" in CSP and "script-src" not in CSP


def test_hostile_question_text_is_escaped_everywhere() -> None:
    gap = Gap(4, (XSS, "plain"), 3, source=XSS, section="S & <b>", score=0.2)
    admin = make_admin(rows=[row(1, XSS, origin=XSS, source=XSS, vote="down")], gaps=(gap,),
                       topics=(Topic(XSS, "<i>sec</i>", 5, 1),))  # fmt: skip
    for path in ("/admin", "/admin/log", f"/admin/log?q={XSS}"):
        page = admin.client.get(path, headers=bearer()).text
        assert "<script>" not in page and "<img src=x" not in page and "<i>sec" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    overview = admin.client.get("/admin", headers=bearer()).text
    assert "S &amp; &lt;b&gt;" in overview  # the nearest section, escaped too


def test_the_overview_shows_totals_gaps_topics_and_the_chart() -> None:
    gap = Gap(7, ("Is there a crèche on campus?", "childcare for students", "nursery"), 5,
              source="student-life.html", section="Support", score=0.31)  # fmt: skip
    admin = make_admin(gaps=(gap,), topics=(Topic("fees.html", "Paying in instalments", 12, 2),))
    page = admin.client.get("/admin?since=7d", headers=bearer()).text
    assert admin.windows[-1] == (END - 7 * 86400, END)
    assert "Questions in the last 7 days" in page
    assert "20%" in page  # 2 of 10 abstained
    assert "7 questions</strong>: 5 unanswered, 2 voted" in page
    assert "student-life.html › Support" in page and "0.31" in page
    assert 'href="/admin/log?q=Is+there+a+cr%C3%A8che+on+campus%3F"' in page
    assert "fees.html › Paying in instalments" in page
    assert f'src="/admin/plot/daily.svg?since=7d&amp;until={int(END)}"' in page
    assert 'alt="Chart of questions per day' in page
    assert 'action="/admin/reingest"' in page and "/admin/export.csv?since=7d" in page


def test_other_windows_are_read_and_an_unknown_one_is_thirty_days() -> None:
    admin = make_admin()
    admin.client.get("/admin?since=forever", headers=bearer())
    assert admin.windows[-1] == (END - 30 * 86400, END)
    page = admin.client.get("/admin?since=24h", headers=bearer()).text
    assert admin.windows[-1] == (END - 86400, END) and "Questions since" in page
    admin.client.get("/admin?since=2026-05-01", headers=bearer())
    assert admin.windows[-1][0] == 1_777_593_600.0  # midnight UTC
    export = admin.client.get("/admin/export.csv?since=2026-05-01", headers=bearer())
    assert 'filename="questions-20260501-' in export.headers["content-disposition"]


def test_the_chart_is_an_svg_of_the_pages_window() -> None:
    admin = make_admin()
    admin.client.get("/admin?since=90d", headers=bearer())
    chart = admin.client.get(f"/admin/plot/daily.svg?since=90d&until={int(END)}", headers=bearer())
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert chart.content.lstrip().startswith(b"<?xml") and b"<svg" in chart.content
    assert admin.windows == [(END - 90 * 86400, END)]  # the page's insights, reused


def test_search_and_filter_reach_the_log() -> None:
    rows = [row(n, f"question {n} about parking", t=NOW - n) for n in range(1, 121)]
    rows.append(row(500, "Where is the library?", abstained=True))
    admin = make_admin(rows=rows)
    page = admin.client.get("/admin/log?q=PARKING&only=unanswered", headers=bearer())
    assert (
        admin.log.calls[-1]["search"] == "PARKING" and admin.log.calls[-1]["only"] == "unanswered"
    )
    assert "0 questions match" in page.text
    page = admin.client.get("/admin/log?q=parking&page=2", headers=bearer())
    call = admin.log.calls[-1]
    assert (call["search"], call["only"], call["limit"], call["offset"]) == ("parking", "", 50, 50)
    assert "120 questions match. Page 2 of 3" in page.text
    assert "question 51 about parking" in page.text and "question 50 about" not in page.text
    assert 'rel="prev" href="/admin/log?q=parking&amp;page=1"' in page.text
    admin.client.get("/admin/log?only=evil&page=-3", headers=bearer())
    assert admin.log.calls[-1]["only"] == "" and admin.log.calls[-1]["offset"] == 0


def test_csv_export_defuses_formulas_and_is_an_attachment() -> None:
    rows = [row(1, "=HYPERLINK(\"http://x\")", origin="+1", section="-2"), row(2, "@SUM(A1)"),
            row(3, "A fine question, with a comma", t=NOW - 86400 * 40)]  # fmt: skip
    admin = make_admin(rows=rows)
    response = admin.client.get("/admin/export.csv?since=30d", headers=bearer())
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["question"] for r in table] == ['\'=HYPERLINK("http://x")', "'@SUM(A1)"]
    assert table[0]["origin"] == "'+1" and table[0]["section"] == "'-2"
    assert table[0]["time_utc"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW - 3600))
    assert admin.log.calls[-1]["since"] == NOW - 30 * 86400


def test_jsonl_export_parses_back_to_the_rows() -> None:
    rows = [row(n, f'q{n} "quoted" <b>', t=NOW - n) for n in range(1, 1203)]
    admin = make_admin(rows=rows)
    response = admin.client.get("/admin/export.jsonl?since=7d", headers=bearer())
    assert response.headers["content-disposition"].endswith('.jsonl"')
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in records] == list(range(1, 1203))  # all of them, in batches
    assert records[0]["question"] == 'q1 "quoted" <b>' and records[0]["abstained"] is False


def test_reingest_shows_its_summary() -> None:
    admin = logged_in(make_admin(reingest=lambda: "Ingested 3 files: <40> chunks."))
    assert "No re-ingest from this page" in admin.client.get("/admin").text
    response = admin.client.post("/admin/reingest", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin#reingest"
    page = admin.client.get("/admin").text
    assert "Last re-ingest finished at" in page and "Ingested 3 files: &lt;40&gt; chunks." in page


def test_reingest_shows_the_error_message() -> None:
    def locked() -> str:
        raise IngestLockedError("/srv/index.lock", "pid 4242 on <host>")

    admin = logged_in(make_admin(reingest=locked))
    admin.client.post("/admin/reingest")
    page = admin.client.get("/admin").text
    assert "Last re-ingest failed at" in page
    assert "Another ingest is already running (pid 4242 on &lt;host&gt;" in page


def test_reingest_runs_one_at_a_time() -> None:
    release, runs = threading.Event(), []

    def slow() -> str:
        runs.append(1)
        release.wait(timeout=30)
        return "Done: 9 chunks."

    admin = logged_in(make_admin(reingest=slow))
    first = threading.Thread(target=admin.client.post, args=("/admin/reingest",))
    first.start()
    deadline = time.monotonic() + 10
    while "A re-ingest is running" not in admin.client.get("/admin").text:
        assert time.monotonic() < deadline, "the re-ingest never started"
        time.sleep(0.02)
    second = admin.client.post("/admin/reingest")
    assert second.status_code == 409 and "already running" in second.text
    release.set()
    first.join(timeout=30)
    assert runs == [1] and "Done: 9 chunks." in admin.client.get("/admin").text


def test_a_failing_log_store_is_reported_on_the_page() -> None:
    admin = make_admin()

    def down(*args: Any, **kwargs: Any) -> int:
        raise LogStoreError("postgresql://faq:s3cret@<db>/log", "connection refused")

    admin.log.count = down  # type: ignore[method-assign]
    page = admin.client.get("/admin/log", headers=bearer())
    assert page.status_code == 503 and page.headers["x-frame-options"] == "DENY"
    assert "database postgresql://faq:***@&lt;db&gt;/log: connection refused" in page.text
    assert "s3cret" not in page.text


def test_posts_from_another_origin_are_refused() -> None:
    admin = logged_in(make_admin())
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        response = admin.client.post("/admin/reingest", headers={"Origin": origin})
        assert response.status_code == 403, origin
        login = admin.client.post("/admin/login", data={"token": TOKEN}, headers={"Origin": origin})
        assert login.status_code == 403
    cross = admin.client.post("/admin/reingest", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert "No re-ingest from this page" in admin.client.get("/admin").text
    same = admin.client.post("/admin/reingest", headers={"Origin": "http://testserver"})
    assert same.status_code == 200 and "Last re-ingest finished" in same.text

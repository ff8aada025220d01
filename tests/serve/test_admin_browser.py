"""The admin page in real headless Chromium, served by uvicorn with only its router and a
month of made-up questions to a made-up college: logging in (with a mouse and with the
keyboard alone), the groups and the chart, the log's search, the re-ingest button, a
phone's width, and not one script or CSP error.

FAQBOT_SCREENSHOT=1 retakes docs/admin.png (the README picture) during the first test."""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from bot.config import Profile, Settings
from bot.serve.admin import admin_router
from bot.types import Day, Gap, Insights, QuestionRow, Topic
from tests.conftest import ROOT
from tests.serve.conftest import serve_in_thread
from tests.serve.test_admin import FakeLog

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("FAQBOT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: set FAQBOT_CHROMIUM", allow_module_level=True)
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

TOKEN = "river-otter-lantern-7f3a9c2e"
SCREENSHOT = ROOT / "docs" / "admin.png"
SUMMARY = "Ingested 14 files and 38 web pages: 1,204 passages (generation 12) in 2.1 s."
DAY = 86400
# (page, section, questions): what the fictional Harrow Vale College's pages answer ...
ANSWERED = [
    ("fees-and-funding.html", "Paying in instalments", [
        "Can I pay my tuition in instalments?", "how do i split the fees into monthly payments",
        "What happens if I miss an instalment?"]),
    ("enrolment.html", "Key dates", [
        "When does enrolment open for the spring term?", "last day to enrol in evening classes",
        "When do classes start in January?"]),
    ("campus/parking.html", "Student permits", [
        "How much is a student parking permit?", "where can I park on campus",
        "Is there free parking for evening students?"]),
    ("library.html", "Opening hours", [
        "Is the library open on Sundays?", "library hours during exams",
        "Can I book a study room in the library?"]),
    ("it-help.html", "Wi-Fi and accounts", [
        "How do I connect to the campus wifi?", "I forgot my student portal password"]),
]  # fmt: skip
# ... and what they do not: (nearest page, section, score, questions).
MISSING = [
    ("student-life.html", "Support services", 0.31, [
        "Is there a crèche or childcare on campus?", "can i bring my toddler to the nursery",
        "Does the college help with childcare costs?"]),
    ("sport.html", "Clubs", 0.27, [
        "How much is a gym membership for students?", "Is the fitness centre open at weekends?"]),
    ("graduation.html", "The ceremony", 0.24, [
        "Where do I rent a graduation gown?", "how many guests can I bring to graduation"]),
    ("housing.html", "Living nearby", 0.19, [
        "Can I keep a cat in student housing?", "are dogs allowed in the residence halls"]),
]  # fmt: skip


def month_of_questions(now: float) -> tuple[list[QuestionRow], dict[str, int]]:
    """30 days of questions, busier on weekdays; about one in five the pages do not answer.
    Returns the rows and, for each unanswered question, its group in MISSING."""
    rng, rows, group = random.Random(7), list[QuestionRow](), dict[str, int]()
    for day in range(30):
        start = now - (30 - day) * DAY
        weekday = time.gmtime(start).tm_wday < 5
        for _ in range(rng.randint(14, 30) if weekday else rng.randint(4, 10)):
            t = start + rng.uniform(0, DAY - 1)
            channel = rng.choice(["widget", "widget", "chat", "api"])
            origin = "https://www.harrowvale.example" if channel != "chat" else ""
            if rng.random() < 0.2:
                g = rng.randrange(len(MISSING))
                source, section, score, asked = MISSING[g]
                question, abstained = rng.choice(asked), rng.random() < 0.8
                group[question] = g
            else:
                source, section, asked = rng.choice(ANSWERED)
                question, abstained, score = rng.choice(asked), False, rng.uniform(0.35, 0.8)
            vote = rng.choices(["", "up", "down"], weights=(70, 24, 6))[0]
            if abstained or question in group:  # no vote on a refusal; a poor answer, down
                vote = "" if abstained else "down"
            rows.append(QuestionRow(
                id=len(rows) + 1, time=t, channel=channel, question=question,
                abstained=abstained, source=source, section=section, score=round(score, 3),
                latency_ms=rng.uniform(120, 900), origin=origin, session=f"s{rng.randrange(400)}",
                vote=vote))  # fmt: skip
    return rows, group


def day(name: str, rows: list[QuestionRow]) -> Day:
    up, down = sum(r.vote == "up" for r in rows), sum(r.vote == "down" for r in rows)
    return Day(name, len(rows), sum(r.abstained for r in rows), up, down)


def insights_of(rows: list[QuestionRow], group: dict[str, int]) -> Any:
    """What the grouping would make of the rows, computed plainly from the made-up groups."""

    def build(since: float, until: float) -> Insights:
        window = [r for r in rows if since <= r.time <= until]
        per_day: dict[str, list[QuestionRow]] = defaultdict(list)
        for r in window:
            per_day[time.strftime("%Y-%m-%d", time.gmtime(r.time))].append(r)
        first = int(max(since, min((r.time for r in rows), default=since)) // DAY)
        names = [
            time.strftime("%Y-%m-%d", time.gmtime(n * DAY))
            for n in range(first, int(until // DAY) + 1)
        ]
        days = tuple(day(name, per_day[name]) for name in names)
        bad = [r for r in window if r.question in group and (r.abstained or r.vote == "down")]
        by_group: dict[int, list[QuestionRow]] = defaultdict(list)
        for r in bad:
            by_group[group[r.question]].append(r)
        gaps = []
        for g, rs in sorted(by_group.items(), key=lambda kv: -len(kv[1])):
            source, section, score, _ = MISSING[g]
            common = tuple(q for q, _ in Counter(r.question for r in rs).most_common(3))
            gaps.append(Gap(len(rs), common, sum(r.abstained for r in rs), source, section, score))
        answered = Counter((r.source, r.section) for r in window if not r.abstained)
        downs = Counter((r.source, r.section) for r in window if r.vote == "down")
        topics = tuple(Topic(s, sec, n, downs[(s, sec)]) for (s, sec), n in answered.most_common(6))
        return Insights(since, until, len(window), sum(r.abstained for r in window),
                        sum(r.vote == "up" for r in window), sum(r.vote == "down" for r in window),
                        tuple(gaps), topics, days)  # fmt: skip

    return build


@dataclass
class Site:
    url: str
    log: FakeLog
    ingests: list[float] = field(default_factory=list)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    rows, group = month_of_questions(time.time())
    log = FakeLog(rows)
    ingests: list[float] = []

    def reingest() -> str:
        ingests.append(time.time())
        time.sleep(0.3)
        return SUMMARY

    settings = Settings(admin_token=TOKEN, profile=Profile(name="Harrow Vale College"))
    app = FastAPI()
    insights = insights_of(rows, group)
    if os.environ.get("FAQBOT_SCREENSHOT") == "1":  # the README picture: the real grouping
        from bot.index.embedding import MiniLMEmbeddings
        from bot.insights.grouping import build_insights

        embed = MiniLMEmbeddings().embed_documents

        def insights(since: float, until: float) -> Insights:
            window = [r for r in rows if since <= r.time < until]
            return build_insights(window, embed, since, until)

    app.include_router(admin_router(settings, log, insights, reingest))
    url, stop = serve_in_thread(app, "/admin")
    yield Site(url, log, ingests)
    stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@dataclass
class Opened:
    page: Page
    problems: list[str]


def open_admin(browser: Browser, site: Site, width: int = 1280, height: int = 900) -> Opened:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    # The login form answers 401 by design; Chromium logs that as a failed resource.
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            and "status of 401" not in m.text else None)  # fmt: skip
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status == 404
            else None)  # fmt: skip
    page.goto(f"{site.url}/admin")
    return Opened(page, problems)


def log_in(opened: Opened) -> Page:
    page = opened.page
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions in the last 30 days")
    return page


def image_loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_log_in_and_see_the_groups_and_the_chart(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site)
    page = opened.page
    expect(page.get_by_label("Admin token")).to_be_focused()
    page.get_by_label("Admin token").fill("not-the-right-token-at-all")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong token")
    page = log_in(opened)
    gaps = page.locator("li.gap")
    if os.environ.get("FAQBOT_SCREENSHOT") == "1":  # the real grouping: thumbs-down too
        expect(gaps.nth(len(MISSING) - 1)).to_be_visible()
    else:
        expect(gaps).to_have_count(len(MISSING))
    expect(gaps.first).to_contain_text("Nearest passage:")
    expect(page.get_by_role("heading", name="Most asked answered topics")).to_be_visible()
    chart = page.locator("figure img")
    expect(chart).to_be_visible()
    page.wait_for_function("() => document.querySelector('figure img').complete")
    assert image_loaded(page, "figure img")
    assert (chart.get_attribute("alt") or "").startswith("Chart of questions per day from")
    if os.environ.get("FAQBOT_SCREENSHOT") == "1":
        page.screenshot(path=str(SCREENSHOT))
    gaps.first.get_by_role("link", name="See in the log").click()  # that group's questions
    expect(page.get_by_role("heading", level=1)).to_have_text("Question log")
    expect(page.locator("table.log tbody tr").first).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()
    assert opened.problems == []
    page.context.close()


def test_search_the_log(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site)
    page = log_in(opened)
    page.get_by_label("Question contains").fill("parking")
    page.get_by_label("Show").select_option("down")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Question log")
    expected = site.log.count(search="parking", only="down")
    assert expected > 0
    expect(page.locator("p.period")).to_contain_text(f"{expected} question")
    cells = page.locator("table.log td.question")
    for text in cells.all_text_contents():
        assert "parking" in text.lower()
    expect(page.get_by_label("Question contains")).to_have_value("parking")
    assert opened.problems == []
    page.context.close()


def test_the_reingest_button_shows_the_summary(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site)
    page = log_in(opened)
    before = len(site.ingests)
    page.get_by_role("button", name="Re-ingest now").click()
    expect(page.locator("#reingest pre.summary")).to_have_text(SUMMARY)
    expect(page.locator("#reingest")).to_contain_text("Last re-ingest finished at")
    assert len(site.ingests) == before + 1
    assert opened.problems == []
    page.context.close()


def test_keyboard_only(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site)
    page = opened.page
    expect(page.get_by_label("Admin token")).to_be_focused()  # no mouse needed to start
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions in the last 30 days")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    for _ in range(80):  # on to the re-ingest button, through every link and field
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Re-ingest now":
            break
    expect(page.get_by_role("button", name="Re-ingest now")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#reingest pre.summary")).to_have_text(SUMMARY)
    assert opened.problems == []
    page.context.close()


CONTRAST = """selector => [...document.querySelectorAll(selector)].map(el => {
  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = rgb => rgb.slice(0, 3).map(v => (v /= 255) <= 0.03928 ? v / 12.92
    : ((v + 0.055) / 1.055) ** 2.4).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  let back = el;
  while (back && parse(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
  const [a, b] = [lum(parse(getComputedStyle(el).color)),
                  lum(back ? parse(getComputedStyle(back).backgroundColor) : [255, 255, 255])];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})"""
TEXTS = [
    "h1",
    "h2",
    ".top a",
    ".brand",
    ".period",
    ".hint",
    ".totals li",
    ".gap",
    ".nearest",
    "summary",
    "figcaption",
    "button",
    ".button",
    ".windows a",
    "th",
    "td",
    "label",
    "a",
]


def test_text_contrast_is_aa(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site)
    page = log_in(opened)
    for path in ("/admin", "/admin/log"):
        page.goto(f"{site.url}{path}")
        for selector in TEXTS:
            ratios = page.evaluate(CONTRAST, selector)
            assert all(r >= 4.5 for r in ratios), (path, selector, min(ratios, default=0))
    assert opened.problems == []
    page.context.close()


def test_a_phone_width_has_no_sideways_scroll(site: Site, browser: Browser) -> None:
    opened = open_admin(browser, site, width=390, height=844)
    page = opened.page
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page = log_in(opened)
    for path in ("/admin", "/admin?since=90d", "/admin/log"):
        page.goto(f"{site.url}{path}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
    page.goto(f"{site.url}/admin")
    page.wait_for_function("() => document.querySelector('figure img').complete")
    assert image_loaded(page, "figure img")
    box = page.locator("figure img").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert opened.problems == []
    page.context.close()

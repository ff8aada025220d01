"""What the admin routes (bot/serve/admin.py) send: plain server-rendered HTML pages with no script
and one stylesheet (bot/serve/admin/admin.css), so the strict CSP holds and a keyboard reaches
all (the CSV and JSON-lines exports of the log are in admin_export.py).

Every logged text (questions, origins, sources, sections, ingest messages) was typed by
someone else: it goes through :func:`e` (HTML-escaped, quotes included) and nothing else,
and a CSV cell that a spreadsheet would run as a formula gets a leading apostrophe. The
exports' text is cleaned as the insights command's (grouping.clean): no terminal escapes.

Every link, form and asset starts with ``root``: the request's root_path ("" for one site,
"/s/<name>" for a site of many, or a reverse proxy's prefix), so the pages work under any.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.insights.plots import describe, rates
from bot.types import Day, Gap, IngestCounts, Insights, QuestionRow, Topic

WINDOWS = (("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"))
ONLY = (("", "All questions"), ("unanswered", "Unanswered (abstained)"), ("down", "Voted down"))
CHANNELS = {"chat": "chat page", "widget": "widget", "api": "API"}
BUILT = (("files", "files"), ("pages", "web pages"), ("chunks", "chunks"),
         ("fetched", "pages fetched"), ("unchanged", "pages unchanged"), ("failed", "pages failed"),
         ("duplicates", "duplicates left out"), ("boilerplate", "boilerplate blocks"))  # fmt: skip
CREDENTIALS = re.compile(r"([a-z][a-z0-9+.-]*://[^/@\s:]*:)[^/@\s]*@", re.I)


@dataclass(frozen=True)
class IngestResult:
    """The last re-ingest from the admin page: when it ended, and its summary or error."""

    time: float
    ok: bool
    text: str


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def redact(message: str) -> str:
    """An error message without the password of any database URL it names."""
    return CREDENTIALS.sub(r"\1***@", message)


def utc(t: float, seconds: bool = False) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.gmtime(t))


def logout_form(root: str) -> str:
    # A POST, so that no link or image on another site can log the admin out.
    return (f'<form method="post" action="{e(root)}/admin/logout" class="logout">'
            '<button type="submit">Log out</button></form>')  # fmt: skip


def href(path: str, **query: str | int) -> str:
    """A link to an admin route, escaped for an attribute; empty values are left out."""
    kept = {k: v for k, v in query.items() if v not in ("", None)}
    return e(f"{path}?{urlencode(kept)}" if kept else path)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def where(source: str, section: str) -> str:
    """``source › section`` (either may be missing), escaped."""
    return " › ".join(e(p) for p in (source, section) if p) or "–"


def here(current: bool) -> str:
    return ' aria-current="page"' if current else ""


def document(page: str, site: str, body: str, current: str = "", nav: bool = True,
             root: str = "") -> str:  # fmt: skip
    """A whole page; ``current``: the route shown ("/admin", "/admin/log"), without ``root``."""
    links, at = "", e(root)
    if nav:
        items = [("/admin", "Overview"), ("/admin/log", "Question log")]
        links = " ".join(f'<a href="{at}{p}"{here(p == current)}>{n}</a>' for p, n in items)
        links = f'<nav aria-label="Admin">{links} {logout_form(root)}</nav>'
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{e(page)} — {e(site)} admin</title>
<link rel="stylesheet" href="{at}/admin/admin.css">
<link rel="icon" href="{at}/admin/icon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="top"><p class="brand">{e(site)} <span>admin</span></p>{links}</header>
<main id="main">
{body}
</main>
</body>
</html>
"""


def logout_page(site: str, root: str = "") -> str:
    back = f'<p><a href="{e(root)}/admin">Back to the overview</a></p>'
    return document("Log out", site, f"<h1>Log out</h1>\n{logout_form(root)}\n{back}", root=root)


def login_page(site: str, message: str = "", root: str = "") -> str:
    alert = f'<p class="error" role="alert">{e(message)}</p>' if message else ""
    body = f"""<div class="login card">
<h1>Admin</h1>
{alert}
<form method="post" action="{e(root)}/admin/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required
 autofocus aria-describedby="token-hint">
<p id="token-hint" class="hint">The server's FAQBOT_ADMIN_TOKEN, or this site's own token.</p>
<button type="submit">Log in</button>
</form>
</div>"""
    return document("Log in", site, body, nav=False, root=root)


def message_page(site: str, heading: str, message: str, kind: str = "notice",
                 root: str = "") -> str:  # fmt: skip
    body = f"""<h1>{e(heading)}</h1>
<p class="{kind}" role="{"alert" if kind == "error" else "status"}">{e(redact(message))}</p>
<p><a href="{e(root)}/admin">Back to the overview</a></p>"""
    return document(heading, site, body, root=root)


def overview_page(site: str, label: str, found: Insights, running: float | None,
                  last: IngestResult | None, built: IngestCounts | None = None,
                  root: str = "") -> str:  # fmt: skip
    named = dict(WINDOWS).get(label)
    heading = f"Questions in the last {named}" if named else f"Questions since {utc(found.since)}"
    if label == "all":
        heading = "All logged questions"
    windows = " ".join(
        f'<a href="{href(root + "/admin", since=key)}"{here(key == label)}>{name}</a>'
        for key, name in WINDOWS
    )
    body = f"""<div class="headline">
<h1>{e(heading)}</h1>
<nav class="windows" aria-label="Time window">{windows}</nav>
</div>
<p class="period">{utc(found.since)} to {utc(found.until)} UTC</p>
{totals(found)}
<div class="columns">
{chart(label, found, root)}
{gaps(found.gaps, root)}
</div>
{topics(found.topics)}
<div class="columns tools">
{search_form(root=root)}
{exports(label, root)}
</div>
{reingest(running, last, built, root)}"""
    return document("Overview", site, body, current="/admin", root=root)


def totals(found: Insights) -> str:
    cells = (
        (f"{found.questions:,}", "questions"),
        (percent(found.abstained, found.questions), f"abstained ({found.abstained:,})"),
        (f"{found.up:,}", "thumbs up"),
        (f"{found.down:,}", "thumbs down"),
    )
    items = "".join(f'<li><span class="n">{n}</span> {what}</li>' for n, what in cells)
    return f'<ul class="totals" aria-label="Totals">{items}</ul>'


def chart(label: str, found: Insights, root: str = "") -> str:
    src = href(root + "/admin/plot/daily.svg", since=label, until=int(found.until))
    return f"""<section class="card chart" aria-labelledby="chart-h">
<h2 id="chart-h">Day by day</h2>
<figure>
<img src="{src}" width="720" height="440" alt="{e(describe(found.days))}">
<figcaption>Bars: questions a day. Lines: the share the assistant abstained on (solid) and
the share voted down (dashed).</figcaption>
</figure>
{day_table(found.days)}
</section>"""


def day_table(days: Sequence[Day]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{e(d.day)}</th><td>{d.questions}</td><td>{d.abstained}</td>'
        f"<td>{_share(rates(d)[0])}</td><td>{d.up}</td><td>{d.down}</td></tr>"
        for d in reversed(days)
    )
    return f"""<details>
<summary>The numbers for each day</summary>
<div class="scroll" role="region" aria-label="Numbers for each day" tabindex="0">
<table>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Questions</th>
<th scope="col">Abstained</th><th scope="col">Abstained %</th><th scope="col">Up</th>
<th scope="col">Down</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</div>
</details>"""


def _share(value: float) -> str:
    return "–" if value != value else f"{value:.0f}%"  # NaN: a day without questions


def gaps(found: Sequence[Gap], root: str = "") -> str:
    if not found:
        items = '<p class="hint">None in this window: every question was answered.</p>'
    else:
        items = '<ol class="gaps">' + "".join(gap(g, root) for g in found) + "</ol>"
    return f"""<section class="card" aria-labelledby="gaps-h">
<h2 id="gaps-h">Questions the pages did not answer</h2>
<p class="hint">Grouped by meaning, largest first: each group is a page to write or improve.</p>
{items}
</section>"""


def gap(g: Gap, root: str = "") -> str:
    down = g.size - g.unanswered
    examples = "".join(f"<li>{e(x)}</li>" for x in g.examples[:3])
    nearest = (
        f'<p class="nearest">Nearest passage: {where(g.source, g.section)} '
        f'<span class="score">(score {g.score:.2f})</span></p>'
        if g.source or g.section
        else '<p class="nearest">No passage came near.</p>'
    )
    first = g.examples[0] if g.examples else ""
    link = (
        f'<a href="{href(root + "/admin/log", q=first)}">See in the log'
        f'<span class="visually-hidden">: {e(first)}</span></a>'
        if first
        else ""
    )
    noun = "question" if g.size == 1 else "questions"
    return f"""<li class="gap">
<p class="size"><strong>{g.size:,} {noun}</strong>: {g.unanswered:,} unanswered, {down:,} voted
down</p>
<ul class="examples">{examples}</ul>
{nearest}
{link}
</li>"""


def topics(found: Sequence[Topic]) -> str:
    if not found:
        table = '<p class="hint">No answered questions in this window.</p>'
    else:
        rows = "".join(
            f"<tr><td>{where(t.source, t.section)}</td><td>{t.questions:,}</td>"
            f"<td>{t.down:,}</td></tr>"
            for t in found
        )
        table = f"""<div class="scroll" role="region" aria-label="Most asked topics" tabindex="0">
<table>
<thead><tr><th scope="col">Page › section</th><th scope="col">Questions</th>
<th scope="col">Voted down</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</div>"""
    return f"""<section class="card" aria-labelledby="topics-h">
<h2 id="topics-h">Most asked answered topics</h2>
{table}
</section>"""


def search_form(q: str = "", only: str = "", heading: bool = True, root: str = "") -> str:
    options = "".join(
        f'<option value="{key}"{" selected" if key == only else ""}>{name}</option>'
        for key, name in ONLY
    )
    title = '<h2 id="search-h">Search the log</h2>' if heading else ""
    labelled = ' aria-labelledby="search-h"' if heading else ' aria-label="Search the log"'
    return f"""<section class="card"{labelled}>
{title}
<form class="search" method="get" action="{e(root)}/admin/log" role="search">
<div class="field"><label for="q">Question contains</label>
<input id="q" name="q" type="search" value="{e(q)}"></div>
<div class="field"><label for="only">Show</label>
<select id="only" name="only">{options}</select></div>
<button type="submit">Search</button>
</form>
</section>"""


def exports(label: str, root: str = "") -> str:
    return f"""<section class="card" aria-labelledby="export-h">
<h2 id="export-h">Export</h2>
<p>Every question of this window, newest first:</p>
<p class="buttons"><a class="button" href="{href(root + "/admin/export.csv", since=label)}"
 download>CSV
<span class="visually-hidden">file</span></a>
<a class="button" href="{href(root + "/admin/export.jsonl", since=label)}"
 download>JSON lines
<span class="visually-hidden">file</span></a></p>
</section>"""


def reingest(running: float | None, last: IngestResult | None,
             built: IngestCounts | None = None, root: str = "") -> str:  # fmt: skip
    if running is not None:
        status = (
            f'<p class="notice">A re-ingest is running (started {utc(running)} UTC). '
            f'<a href="{e(root)}/admin#reingest">Reload</a> to see its summary.</p>'
        )
    elif last is None:
        status = '<p class="hint">No re-ingest from this page since the server started.</p>'
    else:
        outcome = "finished" if last.ok else "failed"
        kind = "summary" if last.ok else "error"
        status = (
            f'<p class="{kind}-head">Last re-ingest {outcome} at {utc(last.time)} UTC:</p>'
            f'<pre class="{kind}">{e(redact(last.text))}</pre>'
        )
    return f"""<section class="card" id="reingest" aria-labelledby="reingest-h">
<h2 id="reingest-h">Re-ingest the pages</h2>
<p>Reads the corpus and the web pages again and swaps the new index in once it is complete;
the assistant goes on answering meanwhile.</p>
<form method="post" action="{e(root)}/admin/reingest">
<button type="submit">Re-ingest now</button></form>
<div role="status">{status}</div>
{last_build(built)}
</section>"""


def last_build(counts: IngestCounts | None) -> str:
    """What the ingest that built the served index did (kept with the index, so also one
    run from the command line): numbers and short stage names only, escaped."""
    if counts is None:
        return '<p class="hint">The served index was built before ingests kept their counts.</p>'
    cells = "".join(f'<li><span class="n">{getattr(counts, key):,}</span> {what}</li>'
                    for key, what in BUILT)  # fmt: skip
    times = ", ".join(f"{e(name)} {seconds:,.1f} s" for name, seconds in counts.stages)
    return f"""<h3 id="built-h">The index being served</h3>
<p>Built {utc(counts.time)} UTC in {counts.seconds:,.1f} s{f" ({times})" if times else ""}.</p>
<ul class="totals" aria-labelledby="built-h">{cells}</ul>"""


def log_page(site: str, rows: Sequence[QuestionRow], q: str, only: str, page: int,
             pages: int, total: int, root: str = "") -> str:  # fmt: skip
    noun = "question matches" if total == 1 else "questions match"
    body = f"""<h1>Question log</h1>
{search_form(q, only, heading=False, root=root)}
<p class="period" role="status">{total:,} {noun}. Page {page} of {pages}, newest first.</p>
{log_table(rows)}
{pager(q, only, page, pages, root)}"""
    return document("Question log", site, body, current="/admin/log", root=root)


def log_table(rows: Sequence[QuestionRow]) -> str:
    if not rows:
        return '<p class="hint">No questions.</p>'
    heads = ("Time (UTC)", "Channel", "Origin", "Question", "Abstained", "Page › section",
             "Score", "Latency", "Vote")  # fmt: skip
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "".join("<tr>" + "".join(cell(h, v) for h, v in zip(heads, log_cells(r), strict=True))
                   + "</tr>" for r in rows)  # fmt: skip
    return f"""<div class="scroll" role="region" aria-label="Questions" tabindex="0">
<table class="log">
<thead><tr>{head}</tr></thead>
<tbody>{body}</tbody>
</table>
</div>"""


def log_cells(r: QuestionRow) -> tuple[str, ...]:
    """A row's cells, escaped, in the order of the log table's columns."""
    return (utc(r.time), e(CHANNELS.get(r.channel, r.channel)), e(r.origin) or "–",
            e(r.question), "yes" if r.abstained else "no", where(r.source, r.section),
            f"{r.score:.2f}", f"{r.latency_ms:,.0f} ms", e(r.vote) or "–")  # fmt: skip


def cell(head: str, value: str) -> str:
    """A log cell; on a phone the rows become cards and ``data-label`` names each value."""
    kind = {"Question": "question", "Time (UTC)": "nowrap", "Latency": "nowrap"}.get(head, "")
    classes = f' class="{kind}"' if kind else ""
    return f'<td{classes} data-label="{head}">{value}</td>'


def pager(q: str, only: str, page: int, pages: int, root: str = "") -> str:
    links = [f'<a rel="{rel}" href="{href(root + "/admin/log", q=q, only=only, page=n)}">{name}</a>'
             for rel, n, name in (("prev", page - 1, "← Newer"), ("next", page + 1, "Older →"))
             if 1 <= n <= pages]  # fmt: skip
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>' if links else ""

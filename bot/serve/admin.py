"""The admin page for the college's web team: what students asked, what the pages did not
answer, the log itself and its export, and a button that re-ingests the pages.

    GET  /admin              overview of a window (?since=7d|30d|90d): totals, chart, gaps,
                             topics, search, export links, re-ingest   (login form if not in)
    POST /admin/login        form field ``token``: 303 to /admin with a session cookie
    POST /admin/logout       drops the cookie, 303 to /admin (GET: a page with the button)
    GET  /admin/log          the searchable log (?q=&only=unanswered|down&page=), 50 a page
    GET  /admin/plot/daily.svg   the overview's chart (?since=&until=)
    GET  /admin/export.csv, /admin/export.jsonl   the window's rows (?since=), attachments
    POST /admin/reingest     runs the safe ingest in a worker thread, one at a time
    GET  /admin/admin.css, /admin/icon.svg   the stylesheet and icon (the login form's too)

Off (404 everywhere) unless ``settings.admin_token`` is set. Every route takes
``Authorization: Bearer <token>`` (for scripts) or the session cookie (browsers), which
holds an expiry and its HMAC keyed by the token, never the token: changing the token ends
every session. A site of many (bot/serve/sites.py) also takes the deployment's token; its
cookies name the site, so one site's session never opens another's page. Every link,
redirect and the cookie's path start with the request's root_path (``/s/<name>`` there).
Logged questions are hostile input: the page escapes every one of them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute

from bot.config import Settings
from bot.errors import FaqBotError
from bot.insights.grouping import parse_since
from bot.serve import admin_page
from bot.serve._admin_auth import NUMBER, SESSION_SECONDS, Attempts, Sessions, is_https, same_origin
from bot.serve.admin_export import csv_lines, jsonl
from bot.serve.admin_page import IngestResult, utc
from bot.serve.guard import ADMIN_CSP
from bot.serve.ratelimit import client_key
from bot.types import IngestCounts, Insights, QuestionRow

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "admin"  # the stylesheet and the icon (package data)
ASSETS = {"admin.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
COOKIE = "faqbot_admin"
PAGE_SIZE = 50
DEFAULT_WINDOW = "30d"
EXPORT_BATCH = 500
REINGEST_WAIT = 20.0  # seconds the button's request waits for the summary before it returns
CSP = ADMIN_CSP  # also set by bot/serve/guard.py on every /admin response, routed or not
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": CSP,
           "X-Content-Type-Options": "nosniff"}  # fmt: skip
PUBLIC = {"/admin/login", "/admin/logout", *(f"/admin/{name}" for name in ASSETS)}  # no login
PAGES = {"/admin", "/admin/log"}  # what a browser opens: these answer 401 with the login form
NEED_LOGIN = "Log in at {root}/admin first, or send the header Authorization: Bearer <token>."
CROSS_SITE = "Refused: this form must be sent from the admin page itself, on this host."
TOO_MANY_TRIES = "Too many wrong tokens from your address. Wait a minute and try again."
CRASHED = "The re-ingest failed unexpectedly; the server log has the details."
BAD_UNTIL = "The chart's until must be Unix seconds (digits) up to a day from now."


class LogReader(Protocol):
    """The question log as the admin page reads it (bot/logstore.LogStore)."""

    def questions(self, since: float = 0.0, until: float | None = None, search: str = "",
                  only: str = "", limit: int | None = None,
                  offset: int = 0) -> list[QuestionRow]: ...  # fmt: skip

    def count(self, since: float = 0.0, until: float | None = None, search: str = "",
              only: str = "") -> int: ...  # fmt: skip


InsightsFn = Callable[[float, float], Insights]
ReingestFn = Callable[[], str]
BuiltFn = Callable[[], IngestCounts | None]


def window(text: str, now: float) -> tuple[str, float]:
    """The window a ``since`` query names (``7d``, ``24h``, ``2026-11-01``, ... as
    grouping reads it, or ``all``): its label and start. Anything else is the default."""
    label = "".join(text.lower().split())
    if label == "all":
        return "all", 0.0
    try:
        return label, max(0.0, parse_since(label, now))
    except FaqBotError:
        return DEFAULT_WINDOW, parse_since(DEFAULT_WINDOW, now)


def window_rows(log: LogReader, since: float, until: float) -> Iterator[QuestionRow]:
    """Every row of the window, newest first, read in batches (``until`` is fixed, so the
    questions asked meanwhile cannot shift the offsets)."""
    offset = 0
    while True:
        batch = log.questions(since=since, until=until, limit=EXPORT_BATCH, offset=offset)
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


class Reingest:
    """The re-ingest button's one worker at a time, and its last result, in memory. The
    run is a daemon thread: stopping the server mid-ingest is safe (the ingest swaps the
    new index in atomically), so shutdown does not wait for it."""

    def __init__(self, run: ReingestFn, clock: Callable[[], float]) -> None:
        self.run, self.clock = run, clock
        self.started: float | None = None
        self.last: IngestResult | None = None
        self._lock = threading.Lock()

    def start(self) -> concurrent.futures.Future[IngestResult] | None:
        """The running ingest's future, or None when one is already running."""
        if not self._lock.acquire(blocking=False):
            return None
        self.started = self.clock()
        future: concurrent.futures.Future[IngestResult] = concurrent.futures.Future()
        threading.Thread(target=self._work, args=(future,), daemon=True).start()
        return future

    def _work(self, future: concurrent.futures.Future[IngestResult]) -> None:
        try:
            result = IngestResult(self.clock(), True, self.run())
        except FaqBotError as exc:
            result = IngestResult(self.clock(), False, str(exc))
        except Exception:
            logger.exception("re-ingest from the admin page failed")
            result = IngestResult(self.clock(), False, CRASHED)
        self.last, self.started = result, None
        self._lock.release()
        future.set_result(result)


def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def admin_router(
    settings: Settings,
    log: LogReader,
    insights: InsightsFn,
    reingest: ReingestFn,
    clock: Callable[[], float] = time.time,
    last_ingest: BuiltFn = lambda: None,
    more_tokens: Sequence[str] = (),
) -> APIRouter:
    """The admin routes. ``last_ingest``: the counts of the ingest that built the index
    being served (kept with the index, so also one run from the command line).
    ``more_tokens``: tokens that open the page besides ``settings.admin_token`` (a site's
    page: the deployment's); the page stays off while ``settings.admin_token`` is empty."""
    sessions = Sessions((settings.admin_token, *more_tokens), settings.site)
    attempts = Attempts(settings)
    trusted, title = settings.trusted_proxies, settings.title
    job = Reingest(reingest, clock)
    # The page and its chart ask for the same window one after the other (the chart's URL
    # carries the page's ``until``), and grouping the questions is the slow part.
    window_insights = functools.lru_cache(maxsize=4)(insights)

    def root(request: Request) -> str:
        """Where this app is mounted ("" at the top, "/s/<name>" for a site of many)."""
        return str(request.scope.get("root_path", "")).rstrip("/")

    def login_form(request: Request, message: str = "", status: int = 401) -> Response:
        page = admin_page.login_page(title, message, root(request))
        return HTMLResponse(page, status_code=status, headers={"WWW-Authenticate": "Bearer"})

    def refusal(request: Request, path: str) -> Response | None:
        """Why this request may not go on, as the response that says so; None if it may."""
        if not settings.admin_token:
            return PlainTextResponse("Not found", status_code=404)
        if request.method == "POST" and not same_origin(request, trusted):
            return PlainTextResponse(CROSS_SITE, status_code=403)
        if path in PUBLIC:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        now, client = clock(), client_key(request, trusted)
        if scheme.lower() == "bearer":
            if attempts.blocked(client, now):
                return PlainTextResponse(TOO_MANY_TRIES, status_code=429)
            if sessions.token(given.strip()) is not None:
                return None
            attempts.failed(client, now)
        elif sessions.cookie_ok(request.cookies.get(COOKIE, ""), now):
            return None
        if path in PAGES and request.method == "GET":
            return login_form(request)
        need = NEED_LOGIN.format(root=root(request))
        return PlainTextResponse(need, 401, headers={"WWW-Authenticate": "Bearer"})

    class AdminRoute(APIRoute):
        """Every route's gate and headers in one place, so no route can forget them."""

        def get_route_handler(self) -> Callable[[Request], Any]:
            handler = super().get_route_handler()
            path = self.path

            async def gated(request: Request) -> Response:
                response = refusal(request, path)
                if response is None:
                    try:
                        response = await handler(request)
                    except RequestValidationError:
                        response = PlainTextResponse("Bad request", status_code=400)
                    except FaqBotError as exc:  # the log's database is down, ...: say so
                        logger.warning("admin page %s: %s", path, exc)
                        page = admin_page.message_page(
                            title, "Not available", str(exc), "error", root(request)
                        )
                        response = HTMLResponse(page, status_code=503)
                return secure(response)

            return gated

    router = APIRouter(route_class=AdminRoute, include_in_schema=False)

    @router.get("/admin")
    def overview(request: Request, since: str = DEFAULT_WINDOW) -> Response:
        until = float(int(clock()) + 1)  # whole seconds (the chart's URL), this one included
        label, start = window(since, until)
        found = window_insights(start, until)
        page = admin_page.overview_page(
            title, label, found, job.started, job.last, last_ingest(), root(request)
        )
        return HTMLResponse(page)

    @router.post("/admin/login")
    async def login(request: Request) -> Response:
        now, client = clock(), client_key(request, trusted)
        if attempts.blocked(client, now):
            return login_form(request, TOO_MANY_TRIES, status=429)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        key = sessions.token(form.get("token", [""])[0].strip())
        if key is None:
            attempts.failed(client, now)
            return login_form(request, "Wrong token. Check it and try again.")
        home = root(request) + "/admin"
        response = RedirectResponse(home, status_code=303)
        response.set_cookie(COOKIE, sessions.cookie(key, now), SESSION_SECONDS, path=home,
                            secure=is_https(request, trusted), httponly=True,
                            samesite="strict")  # fmt: skip
        return response

    @router.get("/admin/logout")
    def logout_page(request: Request) -> Response:
        # A GET never logs out (a link or an image on another site could): it offers the button.
        return HTMLResponse(admin_page.logout_page(title, root(request)))

    @router.post("/admin/logout")
    def logout(request: Request) -> Response:  # refusal() has checked that it is same-site
        home = root(request) + "/admin"
        response = RedirectResponse(home, status_code=303)
        response.delete_cookie(COOKIE, path=home, secure=is_https(request, trusted),
                               httponly=True, samesite="strict")  # fmt: skip
        return response

    assets = {name: (STATIC / name).read_bytes() for name in ASSETS}

    def asset(name: str) -> Callable[[], Response]:
        return lambda: Response(assets[name], media_type=ASSETS[name])

    for name in ASSETS:
        router.add_api_route(f"/admin/{name}", asset(name), methods=["GET"])

    @router.get("/admin/log")
    def question_log(request: Request, q: str = "", only: str = "", page: str = "1") -> Response:
        only = only if only in ("unanswered", "down") else ""
        q = q.strip()[: settings.max_question_chars]
        total = log.count(search=q, only=only)
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(max(int(page), 1), pages) if NUMBER.fullmatch(page) else 1
        rows = log.questions(search=q, only=only, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
        return HTMLResponse(
            admin_page.log_page(title, rows, q, only, number, pages, total, root(request))
        )

    @router.get("/admin/plot/daily.svg")
    def daily_plot(since: str = DEFAULT_WINDOW, until: str = "") -> Response:
        from bot.insights.plots import daily_svg

        end = float(int(clock()) + 1)
        if until:
            if not NUMBER.fullmatch(until) or float(until) > end + 86_400:
                return PlainTextResponse(BAD_UNTIL, status_code=400)
            end = float(until)
        _, start = window(since, end)
        svg = daily_svg(window_insights(start, end).days)
        return Response(svg, media_type="image/svg+xml")

    def export(since: str, kind: str, media_type: str) -> Response:
        until = clock()
        label, start = window(since, until)
        stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(until))
        name = f"questions-{label.replace('-', '')}-{stamp}.{kind}"
        rows = window_rows(log, start, until)
        lines = csv_lines(rows) if kind == "csv" else (jsonl(r) + "\n" for r in rows)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(lines, media_type=media_type, headers=headers)

    @router.get("/admin/export.csv")
    def export_csv(since: str = DEFAULT_WINDOW) -> Response:
        return export(since, "csv", "text/csv; charset=utf-8")

    @router.get("/admin/export.jsonl")
    def export_jsonl(since: str = DEFAULT_WINDOW) -> Response:
        return export(since, "jsonl", "application/x-ndjson")

    @router.post("/admin/reingest")
    async def reingest_now(request: Request) -> Response:
        future = job.start()
        if future is None:
            since = f" (started {utc(job.started)} UTC)" if job.started else ""
            text = f"A re-ingest is already running{since}. Its summary will be on the overview."
            page = admin_page.message_page(title, "Re-ingest", text, root=root(request))
            return HTMLResponse(page, 409)
        # Wait a while for the summary without holding the event loop; a longer ingest goes
        # on in its thread and the overview says it is running.
        await asyncio.wait({asyncio.wrap_future(future)}, timeout=REINGEST_WAIT)
        return RedirectResponse(root(request) + "/admin#reingest", status_code=303)

    return router

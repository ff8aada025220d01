"""The public host app: the Gradio chat, the embeddable widget, a JSON API, and the limits
that make it safe to expose.

    /            the chat (Gradio)            /embed/     the light chat the widget opens
    /widget.js   the one-tag launcher         /api/chat   the embed chat's protocol (SSE)
    /api/ask     JSON for sites' own pages    /api/feedback  thumbs from the embed chat
    /healthz     for load balancers           /docs       OpenAPI page of the JSON API
    /admin       the web team's insights (only with FAQBOT_ADMIN_TOKEN)

Serve it with :func:`uvicorn_server`, which every caller (app.py, benchmarks, tests) uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import h11
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import MODEL_NAME, Settings
from bot.ingest.report import read_counts
from bot.insights.questionlog import NoLog, QuestionLog, open_log
from bot.serve.api import api_router
from bot.serve.guard import Guard, error_response, gradio_event_checker, gradio_stream_checker
from bot.serve.ratelimit import AnswerQueue, RateLimiter
from bot.serve.widget import widget_router
from bot.sites import site_path
from bot.types import IngestCounts

log = logging.getLogger(__name__)
# Chat questions count against the per-client ask budget in the chat handler, which says so
# politely in the chat. Each question is a few raw Gradio requests (join and stream, for the
# answer, its sources, a vote; a page load adds a few), so every Gradio route shares a
# backstop budget this many times larger (HTTP 429).
GRADIO_EVENTS_PER_ASK = 8
ANSWER_CONCURRENCY = 2
# The Chroma server (FAQBOT_CHROMA_URL) cannot be reached while a question is answered: a
# 503 the balancer may retry elsewhere and a client after Retry-After, not a 500.
STORE_DOWN = "The assistant cannot reach its pages right now. Please try again in a moment."
STORE_RETRY_SECONDS = 10
INGEST_COUNTS = ("files", "pages", "chunks", "fetched", "unchanged", "failed", "duplicates",
                 "boilerplate")  # fmt: skip


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head. uvicorn has none: its
    keep-alive timer starts only after a response and stops at the next byte, so a client
    that connects and sends nothing, or drips header lines (slowloris), held the connection
    for ever. The timer runs while h11 waits for a request from the peer (from connect, and
    again after each response) and stops once a head is whole; answers may take longer."""

    head_timeout = 10.0  # set per server by uvicorn_server (FAQBOT_HEADER_TIMEOUT)
    head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_head_timer()
        super().connection_lost(exc)

    def await_head(self) -> None:
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            self.stop_head_timer()
        elif self.head_timer is None:  # from the first byte awaited, not the latest
            self.head_timer = self.loop.call_later(self.head_timeout, self.transport.close)

    def stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None


def uvicorn_server(
    app: ASGIApp, host: str, port: int, settings: Settings | None = None
) -> uvicorn.Server:
    """The one way this app is served (``settings``: its transport limits, the defaults'
    when None).

    uvicorn's proxy headers are off: by default it takes X-Forwarded-For from 127.0.0.1 as
    the client address before any limit runs, so anything on this machine could rotate it.
    ``client_key`` reads it, from trusted proxies only.

    HTTP is h11, named: "auto" picks httptools when installed, which buffers a header of any
    size (a 20 MB one was served). h11 stops buffering a head past FAQBOT_MAX_HEADER_BYTES
    (400, closed); the Guard answers 431 to a whole head over it or with too many headers."""
    settings = settings or Settings()
    protocol = type(
        "H11Protocol", (HeadTimeoutH11Protocol,), {"head_timeout": settings.header_timeout}
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning",
        proxy_headers=False, forwarded_allow_ips="", server_header=False,
        http=protocol, h11_max_incomplete_event_size=settings.max_header_bytes,
    )  # fmt: skip
    return uvicorn.Server(config)


def live_manifest(chain: Any) -> Any:
    """The manifest of the index a question would be answered from now, not the one the
    last question loaded (the check is throttled, so polling stays cheap)."""
    try:
        getattr(chain, "reload", lambda: False)()
    except Exception as exc:  # a broken new index: still serving the loaded one
        log.warning("index reload failed, still serving the loaded one: %s", exc)
    return getattr(chain, "manifest", None)


def ingest_status(manifest: Any) -> dict[str, Any] | None:
    """The counts of the ingest that built ``manifest``'s index, for /healthz: numbers
    only (read_counts drops anything else a manifest might hold)."""
    counts = read_counts(getattr(manifest, "extra", None))
    if counts is None:
        return None
    when = datetime.fromtimestamp(counts.time, UTC).isoformat(timespec="seconds")
    return {
        "when": when.replace("+00:00", "Z"),
        "seconds": round(counts.seconds, 1),
        **{name: getattr(counts, name) for name in INGEST_COUNTS},
    }


def store_unreachable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("the Chroma store is unreachable, answering 503: %s", exc)
    return error_response(503, STORE_DOWN, retry_after=STORE_RETRY_SECONDS)


def create_server(
    chain: Any,
    settings: Settings,
    mount_ui: bool = True,
    questions: QuestionLog | NoLog | None = None,
    answer_queue: AnswerQueue | None = None,
    admin_tokens: tuple[str, ...] = (),
) -> FastAPI:
    """The whole app. ``questions``: the question log (by default the one the settings ask
    for); it is flushed and closed when the server stops. ``answer_queue``: the line to
    answer in, shared by the sites of one process (bot/serve/sites.py); by default its own.
    ``admin_tokens``: more tokens that open the admin page (a site's: the deployment's)."""
    questions = open_log(settings) if questions is None else questions

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        questions.close()

    app = FastAPI(
        title=settings.title, version="1", docs_url="/docs", redoc_url=None, lifespan=lifespan
    )
    app.state.questions = questions
    # The only HTTP client on the answer path is Chroma's (an LLM's errors fall back inside
    # the answer stage), so a transport error reaching a route is the store being down.
    app.add_exception_handler(httpx.TransportError, store_unreachable)
    # In Redis when FAQBOT_REDIS_URL is set, so every replica counts the same budgets; a
    # site's budgets are its own (FAQBOT_SITES_DIR).
    redis, site = settings.redis_url, settings.site or "default"
    asks = RateLimiter(settings.rate_per_minute, settings.rate_per_day, redis_url=redis, site=site)
    events = RateLimiter(
        settings.rate_per_minute * GRADIO_EVENTS_PER_ASK,
        settings.rate_per_day * GRADIO_EVENTS_PER_ASK,
        redis_url=redis,
        site=site,
        name="events",
    )
    # Answering is CPU-bound: a few at a time, first come first served, keeps the tail short
    # (dozens of threads fighting over 2 cores made p95 three times the median). The line
    # waiting for a turn is bounded like the chat's (FAQBOT_QUEUE_SIZE).
    queue = answer_queue or AnswerQueue(ANSWER_CONCURRENCY, settings.queue_size)
    mounts: dict[str, Any] = {}
    if mount_ui:
        from bot.serve.ui import build_app

        mounts[""] = build_app(chain, settings, limiter=asks, questions=questions)
    app.add_middleware(
        Guard, settings=settings, events=events,
        check_event=gradio_event_checker(mounts), check_stream=gradio_stream_checker(mounts),
    )  # fmt: skip

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        manifest = live_manifest(chain)
        return {
            "status": "ok" if manifest else "no index",
            "index_loaded": manifest is not None,
            "generation": getattr(manifest, "generation", None),
            "chunks": getattr(chain, "chunk_count", 0),
            "model": getattr(manifest, "model", MODEL_NAME),
            "api_waiting": queue.waiting,
            # Where per-client budgets are counted: "redis" (shared by replicas) or "process".
            "limits": asks.backend,
            # What the ingest that built this index did (None: built before this was kept).
            "ingest": ingest_status(manifest),
            # Entries written, dropped (queue full), given up on (database down) and set aside
            # (a row the database refuses).
            "question_log": {
                "on": questions.enabled,
                **{
                    k: getattr(questions, k, 0)
                    for k in ("written", "dropped", "failed", "set_aside")
                },
            },
        }

    app.include_router(api_router(chain, settings, asks, events, queue, questions))
    app.include_router(widget_router(chain, settings))
    if settings.admin_token:
        from bot.insights.reports import Reports
        from bot.serve.admin import admin_router

        reports = Reports(settings, questions, chain.embeddings, chain.embeddings)

        def built() -> IngestCounts | None:  # the admin page shows the live index's build
            return read_counts(getattr(live_manifest(chain), "extra", None))

        router = admin_router(
            settings, reports.reader, reports.insights, reports.reingest, last_ingest=built,
            more_tokens=admin_tokens,
        )  # fmt: skip
        app.include_router(router)
    if mount_ui:
        import gradio as gr

        from bot.serve.page import SocialTags, page_options

        options = page_options(site_path(settings.site) if settings.site else "")
        for path, blocks in mounts.items():
            gr.mount_gradio_app(app, blocks, path or "/", **options)
        # The chat page's link preview: the site profile's, not Gradio's.
        app.add_middleware(SocialTags, profile=settings.profile)
    return app

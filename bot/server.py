"""The public host app: the Gradio chat, the embeddable widget, a JSON API, and the limits
that make it safe to expose.

    /            the chat (Gradio)            /embed/     the compact chat for the widget iframe
    /widget.js   the one-tag launcher         /api/ask    JSON for sites with their own front end
    /healthz     for load balancers           /docs       OpenAPI page of the JSON API

Serve it with :func:`uvicorn_server`, which every caller (app.py, benchmarks, tests) uses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.types import ASGIApp

from bot.config import MODEL_NAME, Settings
from bot.errors import FaqBotError
from bot.guard import Guard, error_response, gradio_event_checker
from bot.ratelimit import RETRY_AFTER_SECONDS, TOO_MANY, RateLimiter, client_key
from bot.types import Answer

log = logging.getLogger(__name__)
WIDGET_JS = Path(__file__).with_name("widget.js")
BUSY = "The assistant is busy answering other questions. Please try again in a few seconds."
BUSY_RETRY_SECONDS = 5
# Chat questions count against the per-client ask budget in the chat handler, which says so
# politely in the chat. Each question is a few raw Gradio requests (join and stream, for the
# answer, its sources, a vote; a page load adds a few), so every Gradio route shares a
# backstop budget this many times larger (HTTP 429).
GRADIO_EVENTS_PER_ASK = 8
ANSWER_CONCURRENCY = 2


def uvicorn_server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    """The one way this app is served. uvicorn's proxy headers are off: by default it takes
    X-Forwarded-For from 127.0.0.1 as the client address before any limit runs, so anything
    on this machine could rotate it. ``client_key`` reads it, from trusted proxies only."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning",
        proxy_headers=False, forwarded_allow_ips="", server_header=False,
    )  # fmt: skip
    return uvicorn.Server(config)


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list)


class CitationOut(BaseModel):
    n: int
    source: str
    section: str
    quote: str
    start: int
    end: int
    url: str = Field("", description="the web page quoted, with its heading's #id; '' for a file")
    pages: str = Field("", description="the PDF page(s) of the passage, '3' or '3-4'; '' if none")


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    abstained: bool


def to_response(answer: Answer) -> AskResponse:
    return AskResponse(
        answer=answer.text,
        abstained=answer.abstained,
        citations=[
            CitationOut(
                n=c.n,
                source=c.source,
                section=c.section,
                quote=c.quote,
                start=c.start,
                end=c.end,
                url=c.url,
                pages=c.pages,
            )
            for c in answer.citations
        ],
    )


def create_server(chain: Any, settings: Settings, mount_ui: bool = True) -> FastAPI:
    app = FastAPI(title=settings.title, version="1", docs_url="/docs", redoc_url=None)
    asks = RateLimiter(settings.rate_per_minute, settings.rate_per_day)
    events = RateLimiter(
        settings.rate_per_minute * GRADIO_EVENTS_PER_ASK,
        settings.rate_per_day * GRADIO_EVENTS_PER_ASK,
    )
    # Answering is CPU-bound: a few at a time, first come first served, keeps the tail short
    # (dozens of threads fighting over 2 cores made p95 three times the median). The line
    # waiting for a turn is bounded like the chat's (FAQBOT_QUEUE_SIZE).
    answering = asyncio.Semaphore(ANSWER_CONCURRENCY)
    waiting = [0]
    mounts: dict[str, Any] = {}
    if mount_ui:
        from bot.ui import build_app

        mounts["/embed"] = build_app(chain, settings, compact=True, limiter=asks)
        mounts[""] = build_app(chain, settings, limiter=asks)
    app.add_middleware(
        Guard, settings=settings, events=events, check_event=gradio_event_checker(mounts)
    )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        # Report the index a question would be answered from now, not the one the last
        # question loaded (the check is throttled, so polling stays cheap).
        try:
            getattr(chain, "reload", lambda: False)()
        except Exception as exc:  # a broken new index: still serving the loaded one
            log.warning("index reload failed, still serving the loaded one: %s", exc)
        manifest = getattr(chain, "manifest", None)
        return {
            "status": "ok" if manifest else "no index",
            "index_loaded": manifest is not None,
            "generation": getattr(manifest, "generation", None),
            "chunks": getattr(chain, "chunk_count", 0),
            "model": getattr(manifest, "model", MODEL_NAME),
            "api_waiting": waiting[0],
        }

    @app.post(
        "/api/ask",
        response_model=AskResponse,
        responses={
            400: {"description": "empty, too long or not valid text"},
            413: {"description": "body over 64 KB"},
            429: {"description": "rate limit"},
            503: {"description": "too many questions waiting"},
        },
    )
    async def ask(body: AskRequest, request: Request) -> AskResponse | Response:
        if waiting[0] >= settings.queue_size:
            return error_response(503, BUSY, retry_after=BUSY_RETRY_SECONDS)
        # Counted here, once the body is valid: a malformed request (422) costs nothing.
        if not asks.allow(client_key(request, settings.trusted_proxies)):
            return error_response(429, TOO_MANY, retry_after=RETRY_AFTER_SECONDS)
        history = [t.model_dump() for t in body.history]
        waiting[0] += 1
        try:
            await answering.acquire()
        finally:
            waiting[0] -= 1
        try:
            if await request.is_disconnected():  # nobody left to answer: the turn passes on
                return Response(status_code=499)
            answer = await run_in_threadpool(chain.ask, body.question, history)
        except FaqBotError as exc:
            return error_response(400, str(exc))
        finally:
            answering.release()
        return to_response(answer)

    # The launcher's default title is the site profile's, as a JSON string literal (so no
    # profile text can break out of it); a page's data-title still wins.
    widget_js = WIDGET_JS.read_text(encoding="utf-8").replace(
        "__DEFAULT_TITLE__", json.dumps(settings.profile.widget_title).replace("<", "\\u003c")
    )

    @app.get("/widget.js")
    def widget() -> Response:
        return Response(
            widget_js,
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    if mount_ui:
        import gradio as gr

        from bot.page import page_options

        options = page_options()
        for path, blocks in mounts.items():
            gr.mount_gradio_app(app, blocks, path or "/", **options)
    return app

"""The public host app: the Gradio chat, the embeddable widget, a JSON API, and the limits
that make it safe to expose.

    /            the chat (Gradio)            /embed/     the compact chat for the widget iframe
    /widget.js   the one-tag launcher         /api/ask    JSON for sites with their own front end
    /healthz     for load balancers           /docs       OpenAPI page of the JSON API
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.answer import Answer
from bot.config import MODEL_NAME, Settings
from bot.errors import FaqBotError
from bot.ratelimit import RETRY_AFTER_SECONDS, TOO_MANY, RateLimiter, client_key

WIDGET_JS = Path(__file__).with_name("widget.js")
MAX_BODY_BYTES = 64 * 1024  # a 2,000-char question and 20 turns fit many times over
TOO_LARGE = f"Request too large: the limit is {MAX_BODY_BYTES:,} bytes."
LOCAL_ORIGINS = ("http://localhost", "http://127.0.0.1")
# Chat questions count against the per-client ask budget in the chat handler, which says so
# politely in the chat. Each question is a few raw Gradio events (ask, sources, votes), so
# the events themselves get a backstop budget this many times larger (HTTP 429).
GRADIO_EVENT_PATHS = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/")
GRADIO_EVENTS_PER_ASK = 3
ANSWER_CONCURRENCY = 2


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


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    abstained: bool


def allowed_origins(settings: Settings) -> tuple[str, ...]:
    return tuple(o.rstrip("/") for o in settings.allowed_origins)


def origin_allowed(origin: str, settings: Settings) -> bool:
    origin = origin.rstrip("/")
    if allowed_origins(settings):
        return origin in allowed_origins(settings)
    # Nothing configured: localhost on any port, for development. A public site is listed.
    return any(origin == o or origin.startswith(o + ":") for o in LOCAL_ORIGINS)


def frame_ancestors(settings: Settings) -> str:
    listed = allowed_origins(settings) or tuple(f"{o}:*" for o in LOCAL_ORIGINS)
    return "frame-ancestors " + " ".join(["'self'", *listed])


def to_response(answer: Answer) -> AskResponse:
    return AskResponse(
        answer=answer.text,
        abstained=answer.abstained,
        citations=[
            CitationOut(
                n=c.n, source=c.source, section=c.section, quote=c.quote, start=c.start, end=c.end
            )
            for c in answer.citations
        ],
    )


def create_server(chain: Any, settings: Settings, mount_ui: bool = True) -> FastAPI:
    app = FastAPI(title=settings.title, version="1", docs_url="/docs", redoc_url=None)
    asks = RateLimiter(settings.rate_per_minute, settings.rate_per_day)
    # Answering is CPU-bound: a few at a time, first come first served, keeps the tail short
    # (dozens of threads fighting over 2 cores made p95 three times the median).
    answering = asyncio.Semaphore(ANSWER_CONCURRENCY)
    events = RateLimiter(
        settings.rate_per_minute * GRADIO_EVENTS_PER_ASK,
        settings.rate_per_day * GRADIO_EVENTS_PER_ASK,
    )

    app.add_middleware(Guard, settings=settings, asks=asks, events=events)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        manifest = getattr(chain, "manifest", None)
        return {
            "status": "ok" if manifest else "no index",
            "index_loaded": manifest is not None,
            "generation": getattr(manifest, "generation", None),
            "chunks": getattr(chain, "chunk_count", 0),
            "model": getattr(manifest, "model", MODEL_NAME),
        }

    @app.post(
        "/api/ask",
        response_model=AskResponse,
        responses={
            400: {"description": "empty or too long question"},
            413: {"description": "body over 64 KB"},
            429: {"description": "rate limit"},
        },
    )
    async def ask(body: AskRequest) -> AskResponse | JSONResponse:
        history = [t.model_dump() for t in body.history]
        try:
            async with answering:
                answer = await run_in_threadpool(chain.ask, body.question, history)
        except FaqBotError as exc:
            return _error(400, str(exc))
        return to_response(answer)

    @app.get("/widget.js")
    def widget() -> Response:
        return Response(
            WIDGET_JS.read_text(encoding="utf-8"),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    if mount_ui:
        import gradio as gr

        from bot.page import page_options
        from bot.ui import build_app

        options = page_options()
        embed = build_app(chain, settings, compact=True, limiter=asks)
        gr.mount_gradio_app(app, embed, "/embed", **options)
        gr.mount_gradio_app(app, build_app(chain, settings, limiter=asks), "/", **options)
    return app


class BodyTooLargeError(HTTPException):
    """The request body streamed past MAX_BODY_BYTES (an HTTPException, so that routes
    which wrap body errors still answer 413)."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class Guard:
    """Limits and headers for every route, as plain ASGI (Starlette's ``BaseHTTPMiddleware``
    cost a fifth of the throughput under load). It also counts streamed bodies, so a
    chunked upload without Content-Length cannot get past the size cap."""

    def __init__(
        self, app: ASGIApp, settings: Settings, asks: RateLimiter, events: RateLimiter
    ) -> None:
        self.app, self.settings, self.asks, self.events = app, settings, asks, events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path, origin = request.url.path, request.headers.get("origin", "")
        api = path.startswith("/api/")
        refused = self.refusal(request, path, origin, api)
        if refused is not None:
            await refused(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if path.startswith("/embed"):
                    headers["Content-Security-Policy"] = frame_ancestors(self.settings)
                elif not api and path != "/widget.js":
                    headers["Content-Security-Policy"] = "frame-ancestors 'self'"
                if api and origin and origin_allowed(origin, self.settings):
                    _cors_headers(headers, origin)
            await send(message)

        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLargeError
            return message

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLargeError:
            if not started:
                await _too_large()(scope, receive, send)

    def refusal(self, request: Request, path: str, origin: str, api: bool) -> Response | None:
        """The response that refuses this request before any route sees it, if any."""
        size = request.headers.get("content-length", "")
        if size.isdigit() and int(size) > MAX_BODY_BYTES:
            return _too_large()
        if api and request.method == "OPTIONS":
            if not origin_allowed(origin, self.settings):
                return _error(403, "This origin may not use the API.")
            return _cors(Response(status_code=204), origin, preflight=True)
        if request.method != "POST":
            return None
        limiter = None
        if path == "/api/ask":
            limiter = self.asks
        elif any(p in path for p in GRADIO_EVENT_PATHS):
            limiter = self.events
        if limiter is None or limiter.allow(client_key(request, self.settings.trusted_proxies)):
            return None
        refused = _error(429, TOO_MANY)
        refused.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return _cors(refused, origin) if api and origin_allowed(origin, self.settings) else refused


def _too_large() -> JSONResponse:
    return _error(413, TOO_LARGE)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _cors(response: Response, origin: str, preflight: bool = False) -> Response:
    _cors_headers(response.headers, origin)
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def _cors_headers(headers: MutableHeaders, origin: str) -> None:
    # Echo only an origin that was checked against the allow-list, never "*".
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"

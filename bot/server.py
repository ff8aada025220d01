"""The public host app: the Gradio chat, the embeddable widget, a JSON API, and the limits
that make it safe to expose.

    /            the chat (Gradio)            /embed/     the compact chat for the widget iframe
    /widget.js   the one-tag launcher         /api/ask    JSON for sites with their own front end
    /healthz     for load balancers           /docs       OpenAPI page of the JSON API
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.answer import Answer
from bot.config import MODEL_NAME, Settings
from bot.errors import FaqBotError

WIDGET_JS = Path(__file__).with_name("widget.js")
MAX_BODY_BYTES = 64 * 1024  # a 2,000-char question and 20 turns fit many times over
LOCAL_ORIGINS = ("http://localhost", "http://127.0.0.1")
# Gradio posts each chat event here; one question is a few events (ask, sources, votes), so
# chat events get a budget this many times the per-client ask limit.
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


class RateLimiter:
    """Sliding one-minute window plus a per-day count, per client key, in memory (per
    process: run one worker, or put a shared limiter in front of several)."""

    def __init__(self, per_minute: int, per_day: int, max_keys: int = 100_000) -> None:
        self.per_minute, self.per_day, self.max_keys = per_minute, per_day, max_keys
        self._minute: dict[str, deque[float]] = {}
        self._day: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, cost: int = 1, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        today = int(now // 86_400)
        with self._lock:
            if len(self._minute) > self.max_keys:  # many clients: forget the idle ones
                self._minute = {k: v for k, v in self._minute.items() if v and v[-1] > now - 60}
                self._day = {k: v for k, v in self._day.items() if v[0] == today}
            window = self._minute.setdefault(key, deque())
            while window and window[0] <= now - 60:
                window.popleft()
            day, used = self._day.get(key, (today, 0))
            used = used if day == today else 0
            if len(window) + cost > self.per_minute or used + cost > self.per_day:
                return False
            window.extend([now] * cost)
            self._day[key] = (today, used + cost)
            return True


def client_key(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The socket peer, unless it is a trusted proxy: then the nearest untrusted address in
    X-Forwarded-For. A client can put anything in that header, so it is never taken from
    an untrusted peer."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return peer


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


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

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path, origin = request.url.path, request.headers.get("origin", "")
        api = path.startswith("/api/")
        size = request.headers.get("content-length", "")
        if size.isdigit() and int(size) > MAX_BODY_BYTES:
            return _error(413, f"Request too large: the limit is {MAX_BODY_BYTES:,} bytes.")
        if api and request.method == "OPTIONS":
            if not origin_allowed(origin, settings):
                return _error(403, "This origin may not use the API.")
            return _cors(Response(status_code=204), origin, preflight=True)
        if request.method == "POST":
            limiter = None
            if path == "/api/ask":
                limiter = asks
            elif any(p in path for p in GRADIO_EVENT_PATHS):
                limiter = events
            key = client_key(request, settings.trusted_proxies)
            if limiter is not None and not limiter.allow(key):
                message = (
                    "Too many questions from your address; please wait a minute and try again."
                )
                refused = _error(429, message)
                refused.headers["Retry-After"] = "60"
                return (
                    _cors(refused, origin) if api and origin_allowed(origin, settings) else refused
                )
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if path.startswith("/embed"):
            response.headers["Content-Security-Policy"] = frame_ancestors(settings)
        elif not api and path != "/widget.js":
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        if api and origin and origin_allowed(origin, settings):
            _cors(response, origin)
        return response

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

        from bot.ui import build_app, page_options

        options = page_options()
        gr.mount_gradio_app(app, build_app(chain, settings, compact=True), "/embed", **options)
        gr.mount_gradio_app(app, build_app(chain, settings), "/", **options)
    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _cors(response: Response, origin: str, preflight: bool = False) -> Response:
    # Echo only an origin that was checked against the allow-list, never "*".
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response

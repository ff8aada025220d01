"""Guard: the ASGI middleware in front of every route of the host app (bot/serve/server.py).

It refuses what no route should see (oversized bodies, uploads, floods of Gradio requests,
unknown Gradio events), drops proxy headers that did not come from a trusted proxy, and
gives every response the same security headers and one origin policy, Gradio's included.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings
from bot.serve.ratelimit import RETRY_AFTER_SECONDS, TOO_MANY, RateLimiter, client_key, is_trusted

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024  # a 2,000-char question and 20 turns fit many times over
TOO_LARGE = f"Request too large: the limit is {MAX_BODY_BYTES:,} bytes."
CRASHED = "Sorry, something went wrong on our side. Please try again in a moment."
NO_UPLOADS = "This assistant takes no file uploads: send the question as JSON text."
UNKNOWN_EVENT = "Unknown event for this page: reload the page and try again."
UNKNOWN_STREAM = "No such event or session (it may have finished): ask the question again."
# Browsers send about 10-20 headers; h11 bounds a head only while it is incomplete, so a
# whole one that arrived in one read is measured here.
MAX_HEADERS = 100
HEAD_TOO_LARGE = "Request headers too large: at most {count} headers and {size:,} bytes."
LOCAL_ORIGINS = ("http://localhost", "http://127.0.0.1")
# The embed chat (bot/embed/) runs its own script and styles only: no inline code, no eval,
# nothing from another host, no form posts, and it talks to this origin alone.
EMBED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
# The web team's page (bot/serve/admin.py): its own files only, never framed.
ADMIN_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# JSON, event streams and the launcher script: no page has a reason to frame them, and
# shown as a document they run nothing. X-Frame-Options too, for browsers without CSP 2.
NOT_FRAMED_CSP = "default-src 'none'; frame-ancestors 'none'"
GRADIO_API = "/gradio_api/"
# The Gradio routes that look an event up by fn_index or api_name, unchecked (a 500).
EVENT_ROUTES = ("queue/join", "call/", "run/", "api/")
# No component takes a file, and max_file_size=0 still let empty files into the temp dir.
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
UNUSED_PATHS = ("/gradio_api/component_server",)  # for components this app does not have
# Read only from FAQBOT_TRUSTED_PROXIES: from anyone else they are dropped before any route
# (Gradio writes X-Forwarded-Host/-Proto into the page's root URL). Gradio's SSR server
# sets x-gradio-server, to the same effect; this app runs without SSR.
PROXY_HEADERS = {b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto",
                 b"x-forwarded-port", b"x-forwarded-prefix", b"forwarded"}  # fmt: skip
NEVER_FROM_CLIENTS = {b"x-gradio-server"}


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


def gradio_event_checker(mounts: dict[str, Any]) -> Callable[[str, bytes], str | None]:
    """What is wrong with the body of a POST to an event route (EVENT_ROUTES) of the Gradio
    app mounted at the path's prefix, if anything: Gradio looked an unknown event up
    unchecked, and answered HTTP 500."""

    def check(path: str, body: bytes) -> str | None:
        from gradio.data_classes import PredictBody

        prefix, _, route = path.partition(GRADIO_API)
        blocks = mounts.get(prefix)
        if blocks is None:
            return None
        kind, _, name = route.rstrip("/").partition("/")
        fn_index = None
        if kind != "call":  # queue/join, run/{api_name}, api/{api_name}
            try:
                fn_index = PredictBody.model_validate_json(body).fn_index
            except ValidationError:
                return None  # Gradio answers a malformed body itself (422)
        if fn_index is not None:
            return None if fn_index in blocks.fns else UNKNOWN_EVENT
        if kind == "queue":
            return None  # no fn_index: Gradio says so (400)
        names = {fn.api_name for fn in blocks.fns.values()}
        return None if name.removeprefix("v2/") in names else UNKNOWN_EVENT

    return check


def gradio_stream_checker(mounts: dict[str, Any]) -> Callable[[str, str | None], bool]:
    """Whether a GET of an event stream (``call/[v2/]{api}/{event_id}``, ``queue/data?
    session_hash=``) of the Gradio app mounted at the path's prefix names a session its queue
    still holds, looked up as Gradio looks it up. Gradio opens the stream (200) first and
    raises its 404 inside it: a cut-off response and a "response already started" traceback
    for any unknown or malformed id."""

    def known(path: str, session_hash: str | None) -> bool:
        prefix, _, route = path.partition(GRADIO_API)
        blocks = mounts.get(prefix)
        parts = route.split("/")
        if blocks is None or not parts[-1]:
            return True  # not a Gradio stream, or not one of its routes: the router answers
        queue = blocks._queue
        if parts == ["queue", "data"]:
            if session_hash is None:
                return True  # Gradio's own 422
            session = session_hash
        elif parts[0] == "call" and (len(parts) == 3 or (len(parts) == 4 and parts[1] == "v2")):
            event = queue.event_ids_to_events.get(parts[-1])
            pending = queue.pending_event_ids_session.items()
            session = event.session_hash if event is not None else next(
                (s for s, ids in pending if parts[-1] in ids), parts[-1]
            )  # fmt: skip
        else:
            return True
        return session in queue.pending_messages_per_session

    return known


class BodyTooLargeError(HTTPException):
    """The request body streamed past MAX_BODY_BYTES (an HTTPException, so that routes
    which wrap body errors still answer 413)."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class Guard:
    """Limits and headers for every route, as plain ASGI (Starlette's ``BaseHTTPMiddleware``
    cost a fifth of the throughput under load). It also counts streamed bodies, so a
    chunked upload without Content-Length cannot get past the size cap. Every response
    leaves through it with the same headers: Gradio's, the routes', its own refusals, and
    the 500 of an unhandled error."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        events: RateLimiter,
        check_event: Callable[[str, bytes], str | None],
        check_stream: Callable[[str, str | None], bool] = lambda path, session: True,
    ) -> None:
        self.app, self.settings, self.events, self.check_event = app, settings, events, check_event
        self.check_stream = check_stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self.without_spoofable_headers(scope)
        request = Request(scope)
        path, origin = request.url.path, request.headers.get("origin", "")
        api = path.startswith("/api/")
        started = finished = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
                self.add_headers(MutableHeaders(scope=message), path, origin, api)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            refused = self.refusal(request, path, origin, api)
            if refused is None and request.method == "POST" and _event_route(path):
                body = await _read_body(receive)
                problem = self.check_event(path, body)
                refused = error_response(400, problem) if problem else None
                receive = _replay(body, receive)
            if refused is not None:
                await refused(scope, receive, send_with_headers)
                return
            await self.app(scope, _capped(receive), send_with_headers)
        except BodyTooLargeError:
            if not started:
                await _too_large()(scope, receive, send_with_headers)
        except Exception:
            if started and not finished:
                raise  # cut off mid-response: the server must drop the connection
            # Logged here, not by uvicorn, which would also close a keep-alive connection
            # whose response (a mounted app's own 500) was already complete.
            log.exception("unhandled error on %s %s", request.method, path)
            if not started:
                await error_response(500, CRASHED)(scope, receive, send_with_headers)

    def without_spoofable_headers(self, scope: Scope) -> Scope:
        peer = scope.get("client") or ("", 0)
        trusted = is_trusted(peer[0], self.settings.trusted_proxies)
        drop = NEVER_FROM_CLIENTS if trusted else NEVER_FROM_CLIENTS | PROXY_HEADERS
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in drop]
        return scope if len(headers) == len(scope["headers"]) else {**scope, "headers": headers}

    def add_headers(self, headers: MutableHeaders, path: str, origin: str, api: bool) -> None:
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if path == "/admin" or path.startswith("/admin/"):
            # The web team's page: its own CSP (bot/serve/admin.py), never framed, never shared
            # with another origin, whatever FAQBOT_ALLOWED_ORIGINS says.
            headers["Content-Security-Policy"] = ADMIN_CSP
            headers["X-Frame-Options"] = "DENY"
            headers["Cache-Control"] = "no-store"
            _drop_cors_headers(headers)
            return
        if path.startswith("/embed"):
            # Framed by the listed sites: no X-Frame-Options, which cannot list them.
            headers["Content-Security-Policy"] = f"{EMBED_CSP}; {frame_ancestors(self.settings)}"
        elif api or path == "/widget.js":
            headers["Content-Security-Policy"] = NOT_FRAMED_CSP
            headers["X-Frame-Options"] = "DENY"
        else:  # the Gradio chat and the rest: this site's own pages may frame them
            headers["Content-Security-Policy"] = "frame-ancestors 'self'"
            headers["X-Frame-Options"] = "SAMEORIGIN"
        if not (origin and origin_allowed(origin, self.settings)):
            # One origin policy for the whole app: Gradio's own CORS trusts any localhost
            # page, with credentials, whatever FAQBOT_ALLOWED_ORIGINS says.
            _drop_cors_headers(headers)
        elif api:
            _cors_headers(headers, origin)

    def refusal(self, request: Request, path: str, origin: str, api: bool) -> Response | None:
        """The response that refuses this request before any route sees it, if any."""
        scope, most = request.scope, self.settings.max_header_bytes
        head = len(scope.get("raw_path", b"")) + len(scope["query_string"])
        head += sum(len(k) + len(v) + 4 for k, v in scope["headers"])  # ": " and CRLF
        if len(scope["headers"]) > MAX_HEADERS or head > most:
            return error_response(431, HEAD_TOO_LARGE.format(count=MAX_HEADERS, size=most))
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return _too_large()
        if any(p in path for p in UPLOAD_PATHS):
            return error_response(403, NO_UPLOADS)
        if any(p in path for p in UNUSED_PATHS):
            return error_response(404, "Not found: this assistant does not use that route.")
        if request.headers.get("content-type", "").lower().startswith("multipart/"):
            return error_response(415, NO_UPLOADS)
        if api and request.method == "OPTIONS":
            if not origin_allowed(origin, self.settings):
                return error_response(403, "This origin may not use the API.")
            return _preflight(Response(status_code=204))
        if GRADIO_API in path and not self.events.allow(
            client_key(request, self.settings.trusted_proxies)
        ):
            return error_response(429, TOO_MANY, retry_after=RETRY_AFTER_SECONDS)
        if request.method == "GET" and not self.check_stream(
            path, request.query_params.get("session_hash")
        ):
            return error_response(404, UNKNOWN_STREAM)
        return None


def _event_route(path: str) -> bool:
    _, api, route = path.partition(GRADIO_API)
    return bool(api) and route.startswith(EVENT_ROUTES)


async def _read_body(receive: Receive) -> bytes:
    """The whole body (small: the size cap holds here too)."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLargeError
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives ``body`` once, then whatever comes next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _capped(receive: Receive) -> Receive:
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLargeError
        return message

    return capped_receive


def _too_large() -> JSONResponse:
    return error_response(413, TOO_LARGE)


def error_response(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    response = JSONResponse({"error": message}, status_code=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _preflight(response: Response) -> Response:
    # Allow-Origin itself is added with every response's headers, for allowed origins only.
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _drop_cors_headers(headers: MutableHeaders) -> None:
    for name in {k for k in headers if k.startswith("access-control-")}:
        del headers[name]


def _cors_headers(headers: MutableHeaders, origin: str) -> None:
    # Echo only an origin that was checked against the allow-list, never "*".
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"

"""The JSON routes: ``POST /api/ask`` (one JSON answer), ``POST /api/chat`` (the embed
chat's protocol: the answer as server-sent events) and ``POST /api/feedback`` (a thumbs
vote). All of them share one answer queue and one per-client question budget; every answered
question and every vote goes to the question log (bot/insights/questionlog.py), off the answer path.

``/api/chat`` answers ``text/event-stream``::

    event: token   data: {"text": "..."}     LLM mode only: the model's text as it comes
    event: answer  data: {AskResponse}       final (replaces any tokens); the stream ends
    event: error   data: {"error": "..."}    it failed after the stream began

A question that is refused as sent (empty, too long), a full queue and the rate limit are
plain JSON errors (400, 503, 429 with ``Retry-After``) before any event. A body that does not
fit the models (a number out of range, a lone surrogate, ...) is a 422 whose ``detail`` echoes
the input with unencodable characters replaced, so the error itself is valid JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.errors import SORRY, FaqBotError
from bot.insights.questionlog import NoLog, QuestionLog, question_entry, vote_entry
from bot.serve.guard import error_response, origin_allowed
from bot.serve.ratelimit import RETRY_AFTER_SECONDS, TOO_MANY, AnswerQueue, RateLimiter, client_key
from bot.types import Answer

log = logging.getLogger(__name__)
BUSY = "The assistant is busy answering other questions. Please try again in a few seconds."
BUSY_RETRY_SECONDS = 5
MAX_FEEDBACK_CITATIONS = 20
# Bounds of every number a client sends: far above any real chat (a turn is one question of
# one tab), far below what the log's INTEGER columns hold.
MAX_TURN = 10_000
MAX_CITATION_NUMBER = 1_000
# Votes one client (ratelimit.client_key) may cast on one answer to one question, each
# under its own (session, turn): a few students behind one campus address, not a script
# rotating session ids. Remembered for this many (client, answer) pairs, oldest forgotten.
VOTERS_PER_ANSWER = 3
MAX_REMEMBERED_ANSWERS = 10_000
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "empty, too long or not valid text"},
    413: {"description": "body over 64 KB"},
    429: {"description": "rate limit (Retry-After says when to try again)"},
    503: {"description": "too many questions waiting (Retry-After says when to try again)"},
}


def _encodable(value: Any) -> Any:
    """``value`` with every string made encodable as UTF-8 (a lone surrogate becomes "?")."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 (``{"detail": [...]}``), with the echoed input made encodable: its own
    handler fails on a lone surrogate and the client got a 500 instead."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _encodable(jsonable_encoder(errors))}, status_code=422)


class ApiRoute(APIRoute):
    """The JSON routes' 422 answered here, whatever the app's exception handlers are."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_error(request, exc)

        return checked


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list)


class ChatRequest(AskRequest):
    session: str = Field("", max_length=64, pattern="^[A-Za-z0-9_-]*$")
    turn: int = Field(-1, ge=-1, le=MAX_TURN, description="the turn a later vote names; -1: none")
    site: str = Field("", max_length=200, description="the page embedding the chat (origin)")


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


class VotedCitation(BaseModel):
    n: int = Field(0, ge=0, le=MAX_CITATION_NUMBER)
    source: str = Field("", max_length=2000)
    section: str = Field("", max_length=2000)
    quote: str = Field("", max_length=4000)


class FeedbackRequest(BaseModel):
    session: str = Field(min_length=1, max_length=64, pattern="^[A-Za-z0-9_-]+$")
    turn: int = Field(ge=0, le=MAX_TURN)
    question: str = Field(max_length=4000)
    answer: str = Field(max_length=8000)
    abstained: bool = False
    liked: bool
    citations: list[VotedCitation] = Field(default_factory=list, max_length=MAX_FEEDBACK_CITATIONS)


class VoteBudget:
    """Which (session, turn)s of each client have voted on each answer: at most
    VOTERS_PER_ANSWER, so rotating session ids (or turn numbers) adds no weight. A session
    already counted may vote again (a changed mind; the log drops exact repeats)."""

    def __init__(self, per_answer: int = VOTERS_PER_ANSWER) -> None:
        self.per_answer = per_answer
        self._seen: OrderedDict[tuple[str, str], set[tuple[str, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, question: str, answer: str, session: str, turn: int) -> bool:
        digest = hashlib.sha256(json.dumps([question, answer]).encode()).hexdigest()[:32]
        key, voter = (client, digest), (session, turn)
        with self._lock:
            voters = self._seen.setdefault(key, set())
            self._seen.move_to_end(key)
            while len(self._seen) > MAX_REMEMBERED_ANSWERS:
                self._seen.popitem(last=False)
            if voter not in voters and len(voters) >= self.per_answer:
                return False
            voters.add(voter)
            return True


def to_response(answer: Answer) -> AskResponse:
    return AskResponse(
        answer=answer.text,
        abstained=answer.abstained,
        citations=[
            CitationOut(**{name: getattr(c, name) for name in CitationOut.model_fields})
            for c in answer.citations
        ],
    )


def sse_event(name: str, data: object) -> bytes:
    """One server-sent event (JSON has no raw newlines, so one data line holds it)."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def api_router(
    chain: Any,
    settings: Settings,
    asks: RateLimiter,
    votes: RateLimiter,
    queue: AnswerQueue,
    questions: QuestionLog | NoLog,
) -> APIRouter:
    router = APIRouter(route_class=ApiRoute)
    budget = VoteBudget()

    def logged(answer: Answer, question: str, channel: str, started: float, **where: Any) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        questions.question(question_entry(answer, question, channel, latency_ms, **where))

    def site_of(origin: str) -> str:
        """An embedding site as logged: an allowed origin, else "other" (the value comes from
        the client, so a forged one must not fill the log with made-up sites)."""
        if not origin:
            return ""
        return origin.rstrip("/") if origin_allowed(origin, settings) else "other"

    async def refused(client: str) -> Response | None:
        """503 when the line is full, else 429 over the client's budget. Counted only for a
        valid body: a malformed request (422) costs nothing. With FAQBOT_REDIS_URL the count
        is a network round trip: off the event loop, which serves every other request."""
        if queue.full():
            return error_response(503, BUSY, retry_after=BUSY_RETRY_SECONDS)
        if not await run_in_threadpool(asks.allow, client):
            return error_response(429, TOO_MANY, retry_after=RETRY_AFTER_SECONDS)
        return None

    @router.post("/api/ask", response_model=AskResponse, responses=ERRORS)
    async def ask(body: AskRequest, request: Request) -> AskResponse | Response:
        client = client_key(request, settings.trusted_proxies)
        refusal = await refused(client)
        if refusal is not None:
            return refusal
        history = [t.model_dump() for t in body.history]
        async with queue.turn():
            if await request.is_disconnected():  # nobody left to answer: the turn passes on
                return Response(status_code=499)
            started = time.perf_counter()
            try:
                answer = await run_in_threadpool(chain.ask, body.question, history)
            except FaqBotError as exc:
                return error_response(400, str(exc))
        origin = site_of(request.headers.get("origin", ""))
        logged(answer, body.question.strip(), "api", started, origin=origin, client=client)
        return to_response(answer)

    @router.post(
        "/api/chat",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
    )
    async def chat(body: ChatRequest, request: Request) -> Response:
        client = client_key(request, settings.trusted_proxies)
        refusal = await refused(client)
        if refusal is not None:
            return refusal
        events: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def on_token(text: str) -> None:  # called from the answering thread
            loop.call_soon_threadsafe(events.put_nowait, ("token", {"text": text}))

        async def produce() -> None:
            try:
                async with queue.turn():
                    if await request.is_disconnected():
                        return
                    started = time.perf_counter()
                    answer = await run_in_threadpool(
                        chain.ask, body.question, [t.model_dump() for t in body.history], on_token
                    )
                    events.put_nowait(("answer", to_response(answer).model_dump()))
                logged(
                    answer, body.question.strip(), "widget", started, origin=site_of(body.site),
                    session=body.session, turn=body.turn if body.session else -1, client=client,
                )  # fmt: skip
            except FaqBotError as exc:
                events.put_nowait(("refused", {"error": str(exc)}))
            except Exception:  # a crash is an error event, never a hung stream
                log.exception("answering failed")
                events.put_nowait(("error", {"error": SORRY}))
            finally:
                events.put_nowait(None)

        task = asyncio.create_task(produce())
        first = await events.get()
        if first is None:  # the client left while waiting
            return Response(status_code=499)
        if first[0] == "refused":
            return error_response(400, first[1]["error"])

        async def stream() -> AsyncIterator[bytes]:
            item: tuple[str, Any] | None = first
            while item is not None:
                name, data = item
                yield sse_event("error" if name == "refused" else name, data)
                item = await events.get()
            await task

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @router.post("/api/feedback", status_code=204, responses={429: ERRORS[429]})
    def vote(body: FeedbackRequest, request: Request) -> Response:
        client = client_key(request, settings.trusted_proxies)
        if not votes.allow(client):
            return error_response(429, TOO_MANY, retry_after=RETRY_AFTER_SECONDS)
        if not budget.allow(client, body.question, body.answer, body.session, body.turn):
            return Response(status_code=204)  # not counted, as a repeated click is not
        questions.vote(
            vote_entry(
                body.question, body.answer, [c.model_dump() for c in body.citations], body.liked,
                abstained=body.abstained, session=body.session, turn=body.turn,
            )
        )  # fmt: skip
        return Response(status_code=204)

    return router

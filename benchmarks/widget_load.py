"""The widget benchmark's protocol load (``benchmarks.widget``, section 3): the embedded
chat's own POST /api/chat client, 50 clients with the limits lifted, and a 200-client rush
against the app's normal limits. Raw asyncio streams, not httpx, so the clients leave the
2 shared cores to the server they measure."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import proc_status_kb, served_app, summary_ms
from benchmarks.load import Head, body_parts, read_head, sse_events
from bot.config import Settings

LOAD_CLIENTS, LOAD_SECONDS = 50, 60.0
LOAD_BUDGET_P95_MS, RSS_BUDGET_MB = 500.0, 500.0
RUSH_CLIENTS, RUSH_SECONDS = 200, 30.0
RETRY_CAP_S = 5.0
# uvicorn closes a kept-alive connection idle for 5 s; a browser then opens a new one, and
# so does a client idle this long (after a Retry-After wait), rather than write into a
# connection the server is closing (a reset, not the server's answer).
IDLE_REUSE_S = 4.0
REQUEST_TIMEOUT_S = 30.0
RSS_SAMPLE_S = 0.5
ALLOWED_RUSH_STATUSES = {200, 429, 503}


def chat_request(port: int, question: str, session: str, forwarded_for: str = "") -> bytes:
    """One POST /api/chat as the widget sends it, HTTP/1.1 kept alive."""
    body = json.dumps({"question": question, "history": [], "session": session}).encode()
    proxy = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
    head = (
        f"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\n{proxy}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def retry_after_s(head: Head) -> float | None:
    """The Retry-After of a response in seconds (delta-seconds only, as the app sends it)."""
    value = head.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def forwarded_address(n: int) -> str:
    """Client n's address in 198.18.0.0/15, the range RFC 2544 reserves for benchmarks."""
    return f"198.{18 + n // 65_536 % 2}.{n // 256 % 256}.{n % 256}"


@dataclass
class Outcome:
    """One request: its status, the ms to its ``answer`` event, what went wrong if anything
    ("event error", "no answer", an exception's name), and the Retry-After of a refusal."""

    status: int | None
    answer_ms: float | None = None
    error: str = ""
    retry_after: float | None = None


async def read_chat_reply(reader: asyncio.StreamReader, started: float) -> tuple[Head, Outcome]:
    """Read one response to the end: an event stream (timed at its ``answer`` event) or a
    JSON refusal. Content-Length and chunked bodies both."""
    head = await read_head(reader)
    outcome = Outcome(head.status, retry_after=retry_after_s(head))
    streamed = head.status == 200 and "event-stream" in head.headers.get("content-type", "")
    buffer, last = b"", ""
    async for part in body_parts(reader, head):
        if not streamed:
            continue
        events, buffer = sse_events((buffer + part).replace(b"\r\n", b"\n"))
        for event, _ in events:
            if event == "answer" and outcome.answer_ms is None:
                outcome.answer_ms = (time.perf_counter() - started) * 1000
            if event in ("answer", "error"):
                last = last or event
    if head.status == 200 and outcome.answer_ms is None:
        outcome.error = "event error" if last == "error" else "no answer"
    return head, outcome


class ChatClient:
    """One kept-alive connection asking questions the way the embedded chat does."""

    def __init__(self, port: int, session: str, forwarded_for: str = "") -> None:
        self.port, self.session, self.forwarded_for = port, session, forwarded_for
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def ask(self, question: str) -> Outcome:
        try:
            return await asyncio.wait_for(self._ask(question), REQUEST_TIMEOUT_S)
        except Exception as exc:  # counted, not raised: a load test reports its failures
            self.close()  # and the next question goes on a new connection
            return Outcome(None, error=type(exc).__name__)

    async def _ask(self, question: str) -> Outcome:
        if self.writer is not None and time.monotonic() - self.last_used > IDLE_REUSE_S:
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        started = time.perf_counter()
        self.writer.write(chat_request(self.port, question, self.session, self.forwarded_for))
        head, outcome = await read_chat_reply(self.reader, started)
        self.last_used = time.monotonic()
        if head.closes:
            self.close()
        return outcome

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """What a load run saw: statuses, answer times, errors, refusals without Retry-After."""

    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answer_ms: list[float] = field(default_factory=list)
    refusals_without_retry_after: int = 0

    def add(self, outcome: Outcome) -> float:
        """Count one outcome; returns the seconds the client should wait before the next."""
        self.statuses[str(outcome.status) if outcome.status else "none"] += 1
        if outcome.error:
            self.errors[outcome.error] += 1
        elif outcome.status == 200 and outcome.answer_ms is not None:
            self.answer_ms.append(outcome.answer_ms)
        elif outcome.status not in (429, 503):
            self.errors[f"HTTP {outcome.status}"] += 1
        if outcome.status in (429, 503):
            if outcome.retry_after is None:
                self.refusals_without_retry_after += 1
            return min(outcome.retry_after or 1.0, RETRY_CAP_S)
        return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used, from /proc (0.0 if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """The 1/5/15-minute load average: the figures here depend on what else runs."""
    return [round(x, 2) for x in os.getloadavg()]


def latency_figures(values_ms: list[float]) -> dict[str, float]:
    return {**summary_ms(values_ms), "max": round(max(values_ms, default=0.0), 3)}


async def sample_rss(pid: int, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(proc_status_kb(pid, "VmRSS") / 1024)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_SAMPLE_S)


async def drive(
    url: str, pid: int, questions: list[str], clients: int, seconds: float, forwarded: bool
) -> dict[str, Any]:
    """``clients`` connections, each asking its next question as soon as the last is done
    (or its Retry-After has passed), until ``seconds`` pass."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load is only ever sent to this machine's loopback, not {url}")
    port = int(url.rsplit(":", 1)[1])
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        client = ChatClient(port, f"bench-{n}", forwarded_address(n) if forwarded else "")
        i = n
        try:
            while time.perf_counter() < deadline:
                wait = tally.add(await client.ask(questions[i % len(questions)]))
                i += clients
                await asyncio.sleep(min(wait, max(0.0, deadline - time.perf_counter())))
        finally:
            client.close()

    samples: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, samples, stop))
    server_before = cpu_seconds(pid)
    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    server_cpu = cpu_seconds(pid) - server_before
    stop.set()
    await sampler
    answered = len(tally.answer_ms)
    return {
        "clients": clients,
        "seconds_bound": seconds,
        "wall_s": round(wall, 2),
        "requests": sum(tally.statuses.values()),
        "statuses": dict(tally.statuses),
        "answers": answered,
        "errors": dict(tally.errors),
        "error_count": sum(tally.errors.values()),
        "refusals_without_retry_after": tally.refusals_without_retry_after,
        "answers_per_s": round(answered / wall, 2) if wall else 0.0,
        "answer_ms": latency_figures(tally.answer_ms),
        "server_rss_sampled_mb": {
            "n": len(samples),
            "mean": round(sum(samples) / len(samples), 1) if samples else 0.0,
            "max": round(max(samples, default=0.0), 1),
        },
        "server_peak_rss_mb": round(proc_status_kb(pid, "VmHWM") / 1024, 1),
        # The clients share the cores with the server: what they cost is reported.
        "client_cpu_cores": round(cpu / wall, 2) if wall else 0.0,
        "server_cpu_cores": round(server_cpu / wall, 2) if wall else 0.0,
        "server_cpu_ms_per_answer": round(server_cpu * 1000 / answered, 2) if answered else None,
    }


def healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


async def warm_up(url: str, question: str) -> None:
    """One question first, so the model's first-call warm-up is not in the figures."""
    client = ChatClient(int(url.rsplit(":", 1)[1]), "bench-warm-up")
    try:
        await client.ask(question)
    finally:
        client.close()


def steady_load(url: str, pid: int, questions: list[str], quick: bool) -> dict[str, Any]:
    clients, seconds = (5, 5.0) if quick else (LOAD_CLIENTS, LOAD_SECONDS)
    asyncio.run(warm_up(url, questions[0]))
    before = load_average()
    result = asyncio.run(drive(url, pid, questions, clients, seconds, forwarded=False))
    result["load_average_before"] = before
    result["budget"] = {"errors": 0, "p95_ms": LOAD_BUDGET_P95_MS, "rss_mb": RSS_BUDGET_MB}
    result["met"] = (
        result["error_count"] == 0
        and result["answers"] > 0
        and result["answer_ms"]["p95"] <= LOAD_BUDGET_P95_MS
        and result["server_peak_rss_mb"] <= RSS_BUDGET_MB
    )
    return result


def normal_limits() -> dict[str, str]:
    """The app's shipped queue and per-client limits (bot.config's defaults), behind
    127.0.0.1 as a trusted proxy so each client's X-Forwarded-For is its own student."""
    defaults = Settings()
    return {
        "FAQBOT_QUEUE_SIZE": str(defaults.queue_size),
        "FAQBOT_RATE_PER_MINUTE": str(defaults.rate_per_minute),
        "FAQBOT_RATE_PER_DAY": str(defaults.rate_per_day),
        "FAQBOT_TRUSTED_PROXIES": "127.0.0.1/32",
    }


def rush(questions: list[str], quick: bool) -> dict[str, Any]:
    clients, seconds = (5, 5.0) if quick else (RUSH_CLIENTS, RUSH_SECONDS)
    limits = normal_limits()
    with served_app("bench-widget-rush-", **limits) as (url, server):
        before = load_average()
        result = asyncio.run(drive(url, server.pid, questions, clients, seconds, forwarded=True))
        result["server_up_after"] = healthy(url)
    statuses = {int(s) for s in result["statuses"] if s.isdigit()}
    result["limits"] = limits
    result["load_average_before"] = before
    result["retry_after_cap_s"] = RETRY_CAP_S
    result["budget"] = {
        "statuses": sorted(ALLOWED_RUSH_STATUSES),
        "refusals_without_retry_after": 0,
        "server_up_after": True,
    }
    result["met"] = (
        "none" not in result["statuses"]
        and statuses <= ALLOWED_RUSH_STATUSES
        and result["error_count"] == 0
        and result["refusals_without_retry_after"] == 0
        and result["server_up_after"]
    )
    return result

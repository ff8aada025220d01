"""Part 5: the served chat under load: 50 concurrent clients speaking the Gradio chat's protocol.

The server is the real host app (``benchmarks.serve``: ``bot.serve.server.create_server``, as
app.py serves it) on a free 127.0.0.1 port over a temporary index, with the per-client
rate limits lifted; nothing else is ever addressed. Each client loops over the eval
questions with no pause: POST ``/gradio_api/call/ask``, then reads the event stream of
``/gradio_api/call/ask/{event_id}`` until ``complete``. The run is bounded in time and in
request count and stops by itself. "first event" is the question echoed back, "complete"
the whole answer with its sources (the goal: p95 <= 1 s, no errors). Memory (part 4) is
read from the same server, and the CPU both sides used is reported.

The clients are plain asyncio streams (HTTP/1.1 keep-alive, Content-Length and chunked
bodies), not httpx: on 2 shared cores httpx clients took 0.87 of a core, starving the
server they measured.

    python -m benchmarks.load [--quick] [--clients 50] [--seconds 20]
    python -m benchmarks.load --api     # /api/ask, 50 clients, 60 s (benchmarks.load_api)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    ROOT,
    load_cases,
    ratio,
    real_embeddings,
    save_result,
    summary_ms,
    temp_index,
)
from benchmarks.server_process import ServerProcess

GOAL_MB = 1024  # the serving process's peak RSS under load

CLIENTS = 50
SECONDS = 20.0
MAX_REQUESTS = 5000
REQUEST_TIMEOUT = 60.0
GOAL_P95_MS = 1000.0
RESULT_FILE = "load.json"
ASK = "/gradio_api/call/ask"
UI_SOURCE = ROOT / "bot" / "serve" / "ui.py"


# ----------------------------------------------------------------------------- lean client
class HttpError(Exception):
    """A response other than 200, counted by its status ("POST 503", "GET 404")."""


@dataclass
class Head:
    status: int
    headers: dict[str, str]

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


async def read_head(reader: asyncio.StreamReader) -> Head:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines[1:] if line)
    return Head(int(lines[0].split()[1]), {k.strip().lower(): v.strip() for k, _, v in fields})


async def body_parts(reader: asyncio.StreamReader, head: Head) -> AsyncIterator[bytes]:
    """The body as it arrives: chunk by chunk (the event stream), or in one piece."""
    if not head.chunked:
        yield await reader.readexactly(int(head.headers.get("content-length", "0")))
        return
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                pass
            return
        yield (await reader.readexactly(size + 2))[:-2]


async def read_body(reader: asyncio.StreamReader, head: Head) -> bytes:
    return b"".join([part async for part in body_parts(reader, head)])


def sse_events(buffer: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The complete events in ``buffer`` as (event, data), and what is left of it."""
    *blocks, rest = buffer.split(b"\n\n")
    events = []
    for block in blocks:
        event = data = ""
        for line in block.decode("utf-8").split("\n"):
            name, _, value = line.partition(":")
            if name == "event":
                event = value.strip()
            elif name == "data":
                data = value.strip()
        events.append((event, data))
    return events, rest


def post_request(port: int, question: str) -> bytes:
    body = json.dumps({"data": [question]}).encode()
    head = (
        f"POST {ASK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def stream_request(port: int, event_id: str) -> bytes:
    return (
        f"GET {ASK}/{event_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()


def _has_answer(data: str) -> bool:
    return '"role": "assistant"' in data or '"role":"assistant"' in data


class ChatClient:
    """One kept-alive connection asking questions the way the chat page does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _exchange(self, request: bytes) -> tuple[asyncio.StreamReader, Head]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        return self.reader, await read_head(self.reader)

    async def ask(self, question: str) -> dict[str, Any]:
        """Seconds from the POST to the first event, the first answer text and ``complete``."""
        started = time.perf_counter()
        reader, head = await self._exchange(post_request(self.port, question))
        body = await read_body(reader, head)
        self._after(head)
        if head.status != 200:
            raise HttpError(f"POST {head.status}")
        event_id = json.loads(body)["event_id"]
        reader, head = await self._exchange(stream_request(self.port, event_id))
        if head.status != 200:
            await read_body(reader, head)
            self._after(head)
            raise HttpError(f"GET {head.status}")
        first_event = first_answer = done = None
        outcome, buffer = "", b""
        async for part in body_parts(reader, head):  # to the end: the connection is reused
            now = time.perf_counter() - started
            events, buffer = sse_events(buffer + part)
            for event, data in events:
                if outcome or event == "heartbeat":
                    continue
                first_event = first_event if first_event is not None else now
                if first_answer is None and (_has_answer(data) or event == "complete"):
                    first_answer = now
                if event in ("complete", "error"):
                    outcome, done = event, now
        self._after(head)
        if outcome != "complete":
            raise HttpError(f"event {outcome or 'missing'}")
        return {"first_event_s": first_event, "first_answer_s": first_answer, "complete_s": done}

    def _after(self, head: Head) -> None:
        if head.closes:
            self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _check_loopback(url: str) -> int:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load is only ever sent to this machine's loopback, not {url}")
    return int(url.rsplit(":", 1)[1])


async def _ask_in_turn(url: str, questions: list[str]) -> list[dict[str, Any]]:
    client = ChatClient(_check_loopback(url))
    try:
        return [await asyncio.wait_for(client.ask(q), REQUEST_TIMEOUT) for q in questions]
    finally:
        client.close()


def ask_once(url: str, question: str) -> dict[str, Any]:
    """One question, synchronously (warm-up and idle memory)."""
    return asyncio.run(_ask_in_turn(url, [question]))[0]


def idle_figures(server: ServerProcess) -> dict[str, Any]:
    """After start-up and one answered question, settled for a moment."""
    ask_once(server.url, "How much does the full CPT cost?")
    time.sleep(1.0)
    return {
        "server_start_s": round(server.start_seconds, 2),
        "idle_rss_mb": server.rss_mb(),
        "idle_peak_rss_mb": server.peak_mb(),
    }


# ----------------------------------------------------------------------------- load
async def drive(
    url: str, questions: list[str], clients: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    """``clients`` connections, each asking its next question as soon as the last answer is
    complete, until ``seconds`` pass or ``max_requests`` were issued."""
    port = _check_loopback(url)
    results: list[dict[str, Any]] = []
    errors: Counter[str] = Counter()
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal issued
        client, i = ChatClient(port), n
        try:
            while time.perf_counter() < deadline and issued < max_requests:
                issued += 1
                question = questions[i % len(questions)]
                i += clients
                try:
                    results.append(await asyncio.wait_for(client.ask(question), REQUEST_TIMEOUT))
                except Exception as exc:  # counted, not raised: a load test reports failures
                    errors[str(exc) if isinstance(exc, HttpError) else type(exc).__name__] += 1
                    client.close()  # and goes on, on a new connection
        finally:
            client.close()

    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    complete = summary_ms([r["complete_s"] * 1000 for r in results])
    return {
        "clients": clients,
        "seconds_bound": seconds,
        "wall_s": round(wall, 2),
        "requests": len(results) + sum(errors.values()),
        "completed": len(results),
        "failed": sum(errors.values()),
        "errors": dict(errors),
        "throughput_rps": round(len(results) / wall, 2) if wall else 0.0,
        "first_event_ms": summary_ms([r["first_event_s"] * 1000 for r in results]),
        "first_answer_ms": summary_ms([r["first_answer_s"] * 1000 for r in results]),
        "complete_ms": complete,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": not errors and bool(results) and complete["p95"] <= GOAL_P95_MS,
        # The clients share the 2 cores with the server: what they cost is reported.
        "client_cpu_cores": round(cpu / wall, 2) if wall else 0.0,
    }


def _sample_rss(server: ServerProcess, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_mb())
        stop.wait(0.2)


def run(
    quick: bool = False,
    clients: int | None = None,
    seconds: float | None = None,
    backend: str = "auto",
    profile: Path | None = None,
) -> dict[str, Any]:
    from bot.ingest.pipeline import ingest

    clients = clients or (5 if quick else CLIENTS)
    seconds = seconds or (5.0 if quick else SECONDS)
    questions = [c.question for c in load_cases() if not c.history]
    tmp = temp_index(prefix="bench-load-")
    try:
        ingest(tmp.settings, real_embeddings(backend))
        extra = ("--profile", str(profile.resolve())) if profile else ()
        with ServerProcess(tmp.settings, backend=backend, extra_args=extra) as server:
            idle = idle_figures(server)
            single = asyncio.run(_ask_in_turn(server.url, questions[:10]))
            stop, peak = threading.Event(), [0.0]
            sampler = threading.Thread(target=_sample_rss, args=(server, stop, peak))
            sampler.start()
            cpu_before, machine_before = server.cpu_seconds(), machine_cpu_seconds()
            try:
                load = asyncio.run(drive(server.url, questions, clients, seconds, MAX_REQUESTS))
            finally:
                stop.set()
                sampler.join()
            cpu_after, machine_after = server.cpu_seconds(), machine_cpu_seconds()
            after = server.rss_mb()
            hwm = server.peak_mb()
    finally:
        tmp.cleanup()
    used = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
    load.update(_server_cpu(used, load["wall_s"], load["completed"]))
    # Anything else busy on the machine meanwhile (other benchmarks, tests) shows here.
    wall = load["wall_s"] or 1.0
    busy, stolen = ((b - a) / wall for a, b in zip(machine_before, machine_after, strict=True))
    load["machine_busy_cores"] = round(busy, 2)
    load["machine_stolen_cores"] = round(stolen, 2)  # by other guests of the host
    load["other_processes_cpu_cores"] = round(
        max(0.0, busy - load["server_cpu_cores"] - load["client_cpu_cores"]), 2
    )
    one = summary_ms([r["complete_s"] * 1000 for r in single])
    return {
        **idle,
        "single_client_complete_ms": one,
        "load": load,
        "load_complete_p50_vs_single": ratio(load["complete_ms"]["p50"], one["p50"]),
        "load_rss_max_sampled_mb": peak[0],
        "load_peak_rss_mb": hwm,
        "rss_after_load_mb": after,
        "goal_mb": GOAL_MB,
        "goal_met": hwm <= GOAL_MB,  # memory; the latency goal is load["goal_met"]
        "chat_concurrency": _chat_concurrency(),
        "backend": backend,
    }


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all cores spent busy, and stolen by the hypervisor, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text("utf-8").split("\n")[0].split()[1:]]
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]  # user nice system irq softirq
    return busy / os.sysconf("SC_CLK_TCK"), ticks[7] / os.sysconf("SC_CLK_TCK")


def _server_cpu(used: tuple[float, float], wall: float, answers: int) -> dict[str, Any]:
    """What the server spent per answer, and where: its event loop thread (HTTP, Gradio's
    queue and its pre/postprocessing) or its other threads (the handler, ONNX)."""
    main, rest = used
    per = (lambda s: round(s * 1000 / answers, 1)) if answers else (lambda s: None)
    return {
        "server_cpu_cores": round((main + rest) / wall, 2) if wall else 0.0,
        "server_cpu_ms_per_answer": per(main + rest),
        "server_cpu_ms_per_answer_event_loop": per(main),
        "server_cpu_ms_per_answer_other_threads": per(rest),
    }


def _chat_concurrency() -> int | None:
    """bot.serve.ui's CHAT_CONCURRENCY, read from its source: importing gradio here would cost the
    client process seconds and hundreds of MB for one number."""
    found = re.search(r"^CHAT_CONCURRENCY = (\d+)", UI_SOURCE.read_text("utf-8"), re.MULTILINE)
    return int(found[1]) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 clients for 5 s")
    parser.add_argument("--clients", type=int, default=None, help=f"default {CLIENTS}")
    parser.add_argument("--seconds", type=float, default=None, help=f"default {SECONDS:.0f}")
    parser.add_argument(
        "--api",
        action="store_true",
        help="instead: 50 clients for 60 s against the widget's JSON API (benchmarks.load_api)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write the server's cProfile (its main thread and the others) to this file",
    )
    args = parser.parse_args(argv)
    if args.api:
        from benchmarks import load_api

        return load_api.main(["--quick"] if args.quick else [])
    result = run(args.quick, args.clients, args.seconds, profile=args.profile)
    print(json.dumps(result, indent=2))
    if not args.quick:  # a run of its own is kept, whatever its size (the figures say it)
        save_result(result, RESULTS / RESULT_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load on the widget's JSON API: ``python -m benchmarks.load_api [--quick]``.

Starts the real host app (``app.py``: FastAPI + Gradio) on a free 127.0.0.1 port over a
temporary index, with the per-client rate limits lifted (every client here shares one
address), and lets 50 concurrent clients POST ``/api/ask`` for 60 s (bounded in requests
too). Reports answers/s, latency p50/p95, errors, the server's peak RSS, and the CPU the
clients themselves used. The clients are plain asyncio streams, not httpx: on 2 shared
cores httpx took 0.87 of a core, starving the server it was measuring.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from benchmarks.common import (
    load_cases,
    part_main,
    proc_status_kb,
    served_app,
    summary_ms,
)

CLIENTS, SECONDS, MAX_REQUESTS = 50, 60.0, 50_000
GOAL_P95_MS = 1000.0


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def exchange(
    port: int,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    body: bytes,
    timeout: float,
    latencies: list[float],
    errors: Counter[str],
) -> Connection:
    """One request on a kept-alive connection: its latency (a 200) or its error is counted,
    and after a failure the client reconnects and goes on."""
    begun = time.perf_counter()
    try:
        writer.write(body)
        status = await asyncio.wait_for(_response_status(reader), timeout=timeout)
    except Exception as exc:  # counted, not raised: a load test reports its failures
        errors[type(exc).__name__] += 1
        writer.close()
        return await asyncio.open_connection("127.0.0.1", port)
    if status == 200:
        latencies.append((time.perf_counter() - begun) * 1000)
    else:
        errors[str(status)] += 1
    return reader, writer


async def drive(url: str, questions: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` keep-alive connections, each asking its next question as soon as the last
    answer is in, until ``seconds`` pass or MAX_REQUESTS were issued."""
    assert url.startswith("http://127.0.0.1:"), "loopback only"
    port = int(url.rsplit(":", 1)[1])
    bodies = [_request(port, q) for q in questions]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0
    deadline = time.perf_counter() + seconds
    cpu_before = time.process_time()

    async def worker(n: int) -> None:
        nonlocal issued
        i = n
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and issued < MAX_REQUESTS:
                issued += 1
                body = bodies[i % len(bodies)]
                reader, writer = await exchange(port, reader, writer, body, 30, latencies, errors)
                i += clients
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    wall = time.perf_counter() - started
    latency = summary_ms(latencies)
    return {
        "clients": clients,
        "seconds_bound": seconds,
        "wall_s": round(wall, 2),
        "answers": len(latencies),
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "answers_per_s": round(len(latencies) / wall, 2) if wall else 0.0,
        "latency_ms": latency,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": not errors and latency["p95"] <= GOAL_P95_MS,
        # The clients share the 2 cores with the server: what they cost is reported.
        "client_cpu_cores": round((time.process_time() - cpu_before) / wall, 2) if wall else 0.0,
    }


def _request(port: int, question: str) -> bytes:
    body = json.dumps({"question": question}).encode()
    head = (
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length framed, as uvicorn sends JSON)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (
            int(v)
            for k, _, v in (h.partition(":") for h in lines[1:])
            if k.lower() == "content-length"
        ),
        0,
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def run(quick: bool = False) -> dict[str, Any]:
    questions = [c.question for c in load_cases() if not c.history]
    with served_app("bench-api-") as (url, server):
        result = asyncio.run(
            drive(url, questions, 5 if quick else CLIENTS, 5.0 if quick else SECONDS)
        )
        result["server_peak_rss_mb"] = round(proc_status_kb(server.pid, "VmHWM") / 1024, 1)
        return result


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "5 clients for 5 s", argv, result_file="load-api.json")


if __name__ == "__main__":
    raise SystemExit(main())

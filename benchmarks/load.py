"""Part 5: the served app under load: 50 concurrent clients against its Gradio API.

The server is the real app (``benchmarks.serve``) on a free 127.0.0.1 port over a temporary
index; nothing else is ever addressed. Each client loops over the eval questions: POST
``/gradio_api/call/ask``, then reads the event stream until ``complete``. The run is
bounded in time and in request count and stops by itself. The app streams each answer
word by word for up to ``STREAM_MAX_SECONDS`` (1 s) and answers at most 8 at once
(``concurrency_limit``), so "complete" latency includes that pacing by design; the first
answer text is the figure a user feels. Memory (part 4) is read from the same server.

    python -m benchmarks.load [--quick] [--clients 50] [--seconds 20]
    python -m benchmarks.load --api     # /api/ask, 50 clients, 60 s (benchmarks.load_api)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from typing import Any

from benchmarks.common import load_cases, ratio, real_embeddings, summary_ms, temp_index
from benchmarks.memory import GOAL_MB, ServerProcess, idle_figures

CLIENTS = 50
SECONDS = 20.0
NO_REVEAL_SECONDS = 12.0
MAX_REQUESTS = 5000
REQUEST_TIMEOUT = 120.0


def _check_loopback(url: str) -> None:
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"load is only ever sent to this machine's loopback, not {url}")


def ask_once(url: str, question: str) -> dict[str, Any]:
    """One question through the API, synchronously (used for warm-up and idle memory)."""
    import httpx

    _check_loopback(url)
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        event = client.post(f"{url}/gradio_api/call/ask", json={"data": [question]}).json()
        last = ""
        with client.stream("GET", f"{url}/gradio_api/call/ask/{event['event_id']}") as resp:
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    last = line.split(":", 1)[1].strip()
                    if last in ("complete", "error"):
                        break
    return {"event": last}


def _has_answer(line: str) -> bool:
    return '"role": "assistant"' in line or '"role":"assistant"' in line


async def _one(client: Any, url: str, question: str) -> dict[str, Any]:
    started = time.perf_counter()
    first_event = first_answer = None
    outcome = "error"
    resp = await client.post(f"{url}/gradio_api/call/ask", json={"data": [question]})
    resp.raise_for_status()
    event_id = resp.json()["event_id"]
    async with client.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
        event = ""
        async for line in stream.aiter_lines():
            now = time.perf_counter() - started
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
                if first_event is None:
                    first_event = now
                if event in ("complete", "error"):
                    outcome = event
                    if event == "complete" and first_answer is None:
                        first_answer = now
                    break
            elif first_answer is None and line.startswith("data:") and _has_answer(line):
                first_answer = now
    return {
        "ok": outcome == "complete",
        "first_event_s": first_event,
        "first_answer_s": first_answer,
        "complete_s": time.perf_counter() - started,
    }


async def drive(
    url: str, questions: list[str], clients: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    import httpx

    _check_loopback(url)
    results: list[dict[str, Any]] = []
    errors: dict[str, int] = {}
    issued = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:

        async def worker(n: int) -> None:
            nonlocal issued
            i = n
            while time.perf_counter() < deadline and issued < max_requests:
                issued += 1
                question = questions[i % len(questions)]
                i += clients
                try:
                    results.append(await _one(client, url, question))
                except Exception as exc:  # counted, and the client goes on
                    name = type(exc).__name__
                    errors[name] = errors.get(name, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        wall = time.perf_counter() - started

    ok = [r for r in results if r["ok"]]
    return {
        "clients": clients,
        "seconds_bound": seconds,
        "wall_s": round(wall, 2),
        "requests": len(results) + sum(errors.values()),
        "completed": len(ok),
        "failed": len(results) - len(ok) + sum(errors.values()),
        "errors": errors,
        "throughput_rps": round(len(ok) / wall, 2) if wall else 0.0,
        "first_event_ms": summary_ms([r["first_event_s"] * 1000 for r in ok if r["first_event_s"]]),
        "first_answer_ms": summary_ms(
            [r["first_answer_s"] * 1000 for r in ok if r["first_answer_s"]]
        ),
        "complete_ms": summary_ms([r["complete_s"] * 1000 for r in ok]),
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
    no_reveal_pass: bool = False,
) -> dict[str, Any]:
    from bot.ingest import ingest

    clients = clients or (5 if quick else CLIENTS)
    seconds = seconds or (5.0 if quick else SECONDS)
    questions = [c.question for c in load_cases() if not c.history]
    tmp = temp_index(prefix="bench-load-")
    try:
        ingest(tmp.settings, real_embeddings(backend))
        with ServerProcess(tmp.settings, backend=backend) as server:
            idle = idle_figures(server)
            single = [ask_once_timed(server.url, q) for q in questions[:5]]
            stop, peak = threading.Event(), [0.0]
            sampler = threading.Thread(target=_sample_rss, args=(server, stop, peak))
            sampler.start()
            try:
                load = asyncio.run(drive(server.url, questions, clients, seconds, MAX_REQUESTS))
            finally:
                stop.set()
                sampler.join()
            after = server.rss_mb()
            hwm = server.peak_mb()
        # The same app with the word-by-word reveal off: what the server itself sustains.
        no_reveal = None
        if no_reveal_pass:
            with ServerProcess(tmp.settings, backend, extra_args=("--no-reveal",)) as server:
                ask_once(server.url, questions[0])
                no_reveal = asyncio.run(
                    drive(server.url, questions, clients, NO_REVEAL_SECONDS, MAX_REQUESTS)
                )
                no_reveal["peak_rss_mb"] = server.peak_mb()
    finally:
        tmp.cleanup()
    one = summary_ms(single)
    return {
        **idle,
        "single_client_complete_ms": one,
        "load": load,
        "load_complete_p50_vs_single": ratio(load["complete_ms"]["p50"], one["p50"]),
        "load_without_word_reveal": no_reveal,
        "load_rss_max_sampled_mb": peak[0],
        "load_peak_rss_mb": hwm,
        "rss_after_load_mb": after,
        "goal_mb": GOAL_MB,
        "goal_met": hwm <= GOAL_MB,
        "backend": backend,
    }


def ask_once_timed(url: str, question: str) -> float:
    started = time.perf_counter()
    ask_once(url, question)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 clients for 5 s")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument(
        "--no-reveal-pass",
        action="store_true",
        help="then the same load on the app with its word-by-word reveal off",
    )
    parser.add_argument(
        "--api",
        action="store_true",
        help="instead: 50 clients for 60 s against the widget's JSON API (benchmarks.load_api)",
    )
    args = parser.parse_args(argv)
    if args.api:
        from benchmarks import load_api

        return load_api.main(["--quick"] if args.quick else [])
    result = run(args.quick, args.clients, args.seconds, no_reveal_pass=args.no_reveal_pass)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

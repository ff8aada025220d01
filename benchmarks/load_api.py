"""Load on the widget's JSON API: ``python -m benchmarks.load_api [--quick]``.

Starts the real host app (``app.py``: FastAPI + Gradio) on a free 127.0.0.1 port over a
temporary index, with the per-client rate limits lifted (every client here shares one
address), and lets 50 concurrent clients POST ``/api/ask`` for 60 s (bounded in requests
too). Reports answers/s, latency p50/p95, errors, and the server's peak RSS.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import (
    ROOT,
    free_port,
    load_cases,
    part_main,
    proc_status_kb,
    real_embeddings,
    summary_ms,
    temp_index,
)

CLIENTS, SECONDS, MAX_REQUESTS = 50, 60.0, 50_000
GOAL_P95_MS = 1000.0


async def drive(url: str, questions: list[str], clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    assert url.startswith("http://127.0.0.1:"), "loopback only"
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker(n: int) -> None:
            nonlocal issued
            i = n
            while time.perf_counter() < deadline and issued < MAX_REQUESTS:
                issued += 1
                started = time.perf_counter()
                try:
                    res = await client.post(
                        f"{url}/api/ask", json={"question": questions[i % len(questions)]}
                    )
                    if res.status_code == 200:
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        errors[str(res.status_code)] = errors.get(str(res.status_code), 0) + 1
                except Exception as exc:  # counted; the client goes on
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                i += clients

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        wall = time.perf_counter() - started
    latency = summary_ms(latencies)
    return {
        "clients": clients,
        "seconds_bound": seconds,
        "wall_s": round(wall, 2),
        "answers": len(latencies),
        "errors": errors,
        "error_count": sum(errors.values()),
        "answers_per_s": round(len(latencies) / wall, 2) if wall else 0.0,
        "latency_ms": latency,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": not errors and latency["p95"] <= GOAL_P95_MS,
    }


def run(quick: bool = False) -> dict[str, Any]:
    from bot.ingest import ingest

    questions = [c.question for c in load_cases() if not c.history]
    tmp = temp_index(prefix="bench-api-")
    port = free_port()
    env = {
        **os.environ,
        "FAQBOT_CORPUS_DIR": str(tmp.settings.corpus_dir),
        "FAQBOT_INDEX_DIR": str(tmp.settings.index_dir),
        "FAQBOT_DATA_DIR": str(tmp.settings.data_dir),
        "FAQBOT_HOST": "127.0.0.1",
        "FAQBOT_PORT": str(port),
        "FAQBOT_RATE_PER_MINUTE": "100000000",
        "FAQBOT_RATE_PER_DAY": "100000000",
    }
    server = None
    try:
        ingest(tmp.settings, real_embeddings())
        server = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        _wait(url, server)
        result = asyncio.run(
            drive(url, questions, 5 if quick else CLIENTS, 5.0 if quick else SECONDS)
        )
        result["server_peak_rss_mb"] = round(proc_status_kb(server.pid, "VmHWM") / 1024, 1)
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        tmp.cleanup()


def _wait(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("app.py exited before serving")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("app.py did not answer /healthz in 120 s")


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "5 clients for 5 s", argv)


if __name__ == "__main__":
    raise SystemExit(main())

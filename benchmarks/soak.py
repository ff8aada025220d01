"""Memory under a long run: ``python -m benchmarks.soak [--minutes 10] [--clients 10]``.

Starts the real host app (``app.py``) on a free 127.0.0.1 port over a temporary index,
with the per-client rate limits lifted (every client here shares one address), and lets
``--clients`` loopback clients POST ``/api/ask`` for ``--minutes`` (fractions allowed),
each asking its next question as soon as the last answer is in. Half the questions are
the eval set's (repeats, as users ask the FAQ again and again), half are new: one of them
about a made-up place, so each brings a new question text and a new word for the bot's
caches. The server's RSS is sampled every ``--sample-seconds``.

Every cache keyed by question, word or client is bounded, so after a warm-up (the first
WARMUP_SHARE of the run, while they fill) RSS should stay flat: reported are answers,
errors, RSS after warm-up and at the end, and the slope over the rest of the run.
Results go to ``benchmarks/results/soak.json`` (not with ``--quick``: 3 clients, 15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from typing import Any

from benchmarks.common import (
    RESULTS,
    load_cases,
    proc_status_kb,
    save_result,
    served_app,
    summary_ms,
)
from benchmarks.load_api import _request, exchange
from benchmarks.question_cost import made_up_word

CLIENTS, MINUTES, SAMPLE_SECONDS = 10, 10.0, 5.0
MAX_REQUESTS = 5_000_000  # a bound besides the clock
WARMUP_SHARE = 0.2
# Flat: what is left of the run grows RSS by less than this per minute.
GOAL_SLOPE_MB_PER_MIN = 0.5
RESPONSE_TIMEOUT_S = 30.0


def questions(seed: int = 3) -> tuple[list[str], Any]:
    """(the eval set's questions, a maker of new ones that never repeat)."""
    known = [c.question for c in load_cases() if not c.history]
    rng = random.Random(seed)
    count = 0

    def new() -> str:
        nonlocal count
        count += 1
        base = rng.choice(known).rstrip(" ?")
        return f"{base} in {made_up_word(rng)}{count}?"

    return known, new


def slope_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return None
    slope = sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread
    return round(slope * 60, 3)


def memory_figures(samples: list[tuple[float, float]], seconds: float) -> dict[str, Any]:
    """RSS after warm-up vs at the end, and the slope over the part after warm-up."""
    after = [s for s in samples if s[0] >= seconds * WARMUP_SHARE] or samples[-1:]
    rss = [m for _, m in samples]
    return {
        "rss_samples": len(samples),
        "rss_start_mb": rss[0] if rss else None,
        "rss_after_warmup_mb": after[0][1] if after else None,
        "rss_end_mb": rss[-1] if rss else None,
        "rss_max_mb": max(rss) if rss else None,
        "growth_after_warmup_mb": round(after[-1][1] - after[0][1], 1) if after else None,
        "slope_after_warmup_mb_per_min": slope_per_minute(after),
        "goal_slope_mb_per_min": GOAL_SLOPE_MB_PER_MIN,
        "rss_mb_over_time": [[round(t, 1), m] for t, m in samples],
    }


async def soak(
    port: int, pid: int, clients: int, seconds: float, sample_seconds: float
) -> dict[str, Any]:
    known, new = questions()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: list[tuple[float, float]] = []
    issued = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(n: int) -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and issued < MAX_REQUESTS:
                issued += 1
                question = new() if issued % 2 else known[(issued // 2 + n) % len(known)]
                body = _request(port, question)
                reader, writer = await exchange(
                    port, reader, writer, body, RESPONSE_TIMEOUT_S, latencies, errors
                )
        finally:
            writer.close()

    async def sampler() -> None:
        while time.perf_counter() < deadline:
            mb = round(proc_status_kb(pid, "VmRSS") / 1024, 1)
            samples.append((time.perf_counter() - started, mb))
            await asyncio.sleep(max(0.0, min(sample_seconds, deadline - time.perf_counter())))
        samples.append(
            (time.perf_counter() - started, round(proc_status_kb(pid, "VmRSS") / 1024, 1))
        )

    await asyncio.gather(sampler(), *(worker(n) for n in range(clients)))
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "minutes_bound": round(seconds / 60, 3),
        "wall_s": round(wall, 1),
        "answers": len(latencies),
        "unique_share": 0.5,
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "answers_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "latency_ms": summary_ms(latencies),
        **memory_figures(samples, wall),
    }


def run(
    minutes: float = MINUTES, clients: int = CLIENTS, sample_seconds: float = SAMPLE_SECONDS
) -> dict[str, Any]:
    with served_app("bench-soak-") as (url, server):
        port = int(url.rsplit(":", 1)[1])
        result = asyncio.run(soak(port, server.pid, clients, minutes * 60, sample_seconds))
        slope = result["slope_after_warmup_mb_per_min"]
        result["goal_met"] = (
            result["error_count"] == 0 and slope is not None and slope <= GOAL_SLOPE_MB_PER_MIN
        )
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=float, default=MINUTES, help="run length (0.5 ok)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--sample-seconds", type=float, default=SAMPLE_SECONDS)
    parser.add_argument("--quick", action="store_true", help="3 clients for 15 s, no file")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.clients < 1 or args.sample_seconds <= 0:
        parser.error("--minutes, --clients and --sample-seconds must be positive")
    if args.quick:
        result = run(minutes=0.25, clients=3, sample_seconds=1.0)
    else:
        result = run(args.minutes, args.clients, args.sample_seconds)
    shown = {k: v for k, v in result.items() if k != "rss_mb_over_time"}
    print(json.dumps(shown, indent=2))
    if not args.quick:
        save_result(result, RESULTS / "soak.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Two replicas behind nginx vs one (issue #26): ``python -m benchmarks.topology [--quick]``.

Starts the replica topology from local processes (benchmarks/topology_stack.py: ``chroma
run``, Redis when the app reads FAQBOT_REDIS_URL, the ingest job over the CPT guide, two
``app.py`` replicas and nginx in front), then lets 50 clients speak the widget's protocol
(``POST /api/chat``, the load generator of benchmarks/widget_load.py) for 20 s, first at
replica 1 directly (replica 2 idle), then through nginx at both. Per-client limits are
lifted (every client shares one address). Prints answers/s and p95 side by side and writes
``benchmarks/results/topology.json``. The question log is each replica's SQLite unless
``--log-db-url`` names a shared database (e.g. PostgreSQL). On 2 cores both replicas share
the same CPU, so the ratio shows what the balancer and the shared services cost, not scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import GUIDE, RESULTS, load_cases, save_result
from benchmarks.topology_stack import Topology, topology
from benchmarks.widget_load import cpu_seconds, drive, load_average, warm_up

CLIENTS, SECONDS = 50, 20.0
RESULT_FILE = "topology.json"
LIFTED = {"FAQBOT_RATE_PER_MINUTE": "100000000", "FAQBOT_RATE_PER_DAY": "100000000"}


def measure(url: str, stack: Topology, questions: list[str], clients: int, seconds: float) -> Any:
    """One load run at ``url``; RSS is sampled on replica 1, CPU read for both replicas."""
    pids = [r.pid for r in stack.replicas]
    before = [cpu_seconds(pid) for pid in pids]
    load = load_average()
    result = asyncio.run(drive(url, pids[0], questions, clients, seconds, forwarded=False))
    used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
    wall = result["wall_s"] or 1.0
    result["replica_cpu_cores"] = [round(u / wall, 2) for u in used]
    result["load_average_before"] = load
    return result


def run(quick: bool = False, log_db_url: str = "") -> dict[str, Any]:
    clients, seconds = (5, 3.0) if quick else (CLIENTS, SECONDS)
    questions = [c.question for c in load_cases() if not c.history]
    root = Path(tempfile.mkdtemp(prefix="bench-topology-"))
    try:
        corpus = root / "corpus"
        corpus.mkdir()
        shutil.copy(GUIDE, corpus / GUIDE.name)
        with topology(corpus, log_db_url=log_db_url, env=LIFTED) as stack:
            for replica in stack.replicas:  # first-call warm-up out of the figures
                asyncio.run(warm_up(replica.url, questions[0]))
            one = measure(stack.replicas[0].url, stack, questions, clients, seconds)
            two = measure(stack.url, stack, questions, clients, seconds)
            services = {
                "chroma": stack.chroma.url,
                "redis": bool(stack.redis) or "FAQBOT_REDIS_URL" in stack.env,
                "question_log": "shared database" if log_db_url else "SQLite per replica",
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "clients": clients,
        "seconds": seconds,
        "services": services,
        "one_replica_direct": one,
        "two_replicas_nginx": two,
        "ratio_answers_per_s": round(two["answers_per_s"] / one["answers_per_s"], 2)
        if one["answers_per_s"]
        else None,
    }


def table(result: dict[str, Any]) -> str:
    rows = [("", "one replica", "two behind nginx")]
    one, two = result["one_replica_direct"], result["two_replicas_nginx"]
    rows.append(("answers/s", str(one["answers_per_s"]), str(two["answers_per_s"])))
    rows.append(("p50 ms", str(one["answer_ms"]["p50"]), str(two["answer_ms"]["p50"])))
    rows.append(("p95 ms", str(one["answer_ms"]["p95"]), str(two["answer_ms"]["p95"])))
    rows.append(("errors", str(one["error_count"]), str(two["error_count"])))
    return "\n".join(f"{a:<12}{b:>14}{c:>18}" for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 clients for 3 s (a smoke run)")
    parser.add_argument("--log-db-url", default="", help="a shared question log database")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, log_db_url=args.log_db_url)
    print(json.dumps(result, indent=2))
    print(table(result))
    if not args.quick:
        save_result(result, RESULTS / RESULT_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

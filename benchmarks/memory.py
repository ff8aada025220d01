"""Part 4: resident memory of the serving process, idle and under load.

The server (``benchmarks.serve``: the real host app, Gradio chat and all, over a temporary
index) runs in its own process; its RSS and peak RSS (VmHWM) are read from /proc, its CPU
time from /proc/PID/stat. "Idle" is after start-up and one answered question; "under load"
is the peak during the load benchmark (``benchmarks.load``), which drives the same server.

    python -m benchmarks.memory [--quick]
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import part_main


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.load import run as run_load

    result = run_load(quick=quick)
    return {k: v for k, v in result.items() if "rss" in k or k in ("server_start_s", "goal_mb")}


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "5 clients for 5 s", argv)


if __name__ == "__main__":
    raise SystemExit(main())

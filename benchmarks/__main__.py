"""``make bench``: every benchmark part in one run, one table, ``benchmarks/results/bench.json``.

Parts: latency (answer vs the floor, stage breakdown, profile), baseline (stock LangChain
pipeline on the same questions), backends (torch / ONNX / int8 embeddings, threads), cold
start, load + memory (the served app, 50 loopback clients), ingest scaling (x1, x10, x100,
last, with whatever time is left of the budget). Every part works on temporary indexes;
the user's .faqbot/ is never touched. A part that fails is reported and the rest still run.

    python -m benchmarks [--quick] [--parts latency,baseline,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, machine_info

PARTS = ("latency", "baseline", "backends", "cold_start", "load", "ingest_scaling")
# Run only when named in --parts: the widget part needs Chromium, and its load alone is 90 s;
# the site part ingests a 1,000-page site six times (minutes).
OPTIONAL_PARTS = ("widget", "site")
TOTAL_BUDGET_S = 510.0  # make bench must finish in 10 minutes, machine load and all


def _runner(name: str, quick: bool, started: float) -> Callable[[], dict[str, Any]]:
    if name == "latency":
        from benchmarks import latency

        return lambda: latency.run(quick=quick)
    if name == "baseline":
        from benchmarks import baseline

        return lambda: baseline.run(quick=quick)
    if name == "backends":
        from benchmarks import backends

        return lambda: backends.run(quick=quick)
    if name == "cold_start":
        from benchmarks import cold_start

        return lambda: cold_start.run(quick=quick)
    if name == "load":
        from benchmarks import load

        return lambda: load.run(quick=quick)
    if name == "ingest_scaling":
        from benchmarks import ingest_scaling

        def scaling() -> dict[str, Any]:
            left = TOTAL_BUDGET_S - (time.perf_counter() - started)
            return ingest_scaling.run(quick=quick, budget_s=max(90.0, left), sweep=quick)

        return scaling
    if name == "widget":
        from benchmarks import widget

        return lambda: widget.run(quick=quick)
    if name == "site":
        from benchmarks import site

        return lambda: site.run(quick=quick)
    raise ValueError(f"unknown part {name!r}; parts: {', '.join(PARTS + OPTIONAL_PARTS)}")


# ----------------------------------------------------------------------------- table
def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} s"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _ok(flag: Any) -> str:
    return "" if flag is None else ("met" if flag else "MISSED")


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(part, measure, value, reference, goal) for every figure the README shows."""
    out: list[tuple[str, str, str, str, str]] = []
    add = out.append
    lat = results.get("latency") or {}
    if "floor_ms" in lat:
        floor = lat["floor_ms"]
        add(("latency", "floor: embed + Chroma top-5, p50", _ms(floor["p50"]), "", ""))
        add(
            (
                "latency",
                "ask() p50, new question",
                _ms(lat["ask_cold_cache_ms"]["p50"]),
                f"{_x(lat['ratio_p50_cold_vs_floor'])} floor",
                f"<= 2x floor: {_ok(lat['goal_met'])}",
            )
        )
        add(
            (
                "latency",
                "ask() p95, new question",
                _ms(lat["ask_cold_cache_ms"]["p95"]),
                f"{_x(lat['ratio_p95_cold_vs_floor'])} floor p95",
                "",
            )
        )
        add(
            (
                "latency",
                "ask() p50, repeated question (cache)",
                _ms(lat["ask_warm_cache_ms"]["p50"]),
                f"{_x(lat['ratio_p50_warm_vs_floor'])} floor",
                "",
            )
        )
        for stage, s in lat.get("stages_ms", {}).items():
            add(("latency", f"  stage {stage}: p50 / mean", f"{s['p50']:.2f} / {s['mean']:.2f} ms",
                 "", ""))  # fmt: skip
        m = lat.get("metrics", {})
        if m:
            add(("latency", "evals in this run: hit@1 / fact recall",
                 f"{m['hit_at_1']:.3f} / {m['fact_recall']:.3f}", "", ""))  # fmt: skip
    base = results.get("baseline") or {}
    if "ours" in base:
        for key, label in (("stock_langchain", "stock LangChain"), ("ours", "this bot")):
            r = base[key]["retrieval"]
            hits = f"{r['hit_at_1']:.3f} / {r['hit_at_5']:.3f} / {r['mrr_at_5']:.3f}"
            add(("comparison", f"{label}: hit@1 / hit@5 / MRR@5", hits, "", ""))
            add(("comparison", f"{label}: latency p50 / p95",
                 f"{_ms(base[key]['latency_ms']['p50'])} / {_ms(base[key]['latency_ms']['p95'])}",
                 "", ""))  # fmt: skip
        add(("comparison", "this bot vs stock, p50", _x(base["ratio_p50_ours_vs_stock"]), "", ""))
    back = results.get("backends") or {}
    for name, b in back.get("query_embedding_ms", {}).items():
        add(("backends", f"query embedding p50, {name}", _ms(b["p50"]),
             f"speed vs torch {_x(b['speedup_vs_torch_p50'])}", ""))  # fmt: skip
    for name, e in back.get("evals", {}).items():
        if name == "torch":
            continue
        add(("backends", f"evals {name} vs torch",
             "equal" if e.get("metrics_equal_to_torch") else "DIFFERENT",
             f"{e['answers_differing_from_torch']} answers differ", ""))  # fmt: skip
    cold = results.get("cold_start") or {}
    for backend in ("auto", "torch"):
        c = cold.get(backend)
        if not c:
            continue
        label = f"{c.get('backend')} backend" if backend == "auto" else "torch backend"
        add(("cold start", f"process start -> first answer, {label}",
             _s(c["start_to_first_answer_s"]), f"python alone {_s(cold['python_floor_s'])}",
             f"<= 8 s: {_ok(c['goal_met'])}"))  # fmt: skip
        add(("cold start", f"  import bot / load chain, {label}",
             f"{_s(c['import_bot_s'])} / {_s(c['load_chain_s'])}", "", ""))  # fmt: skip
    ld = results.get("load") or {}
    if "load" in ld:
        lo = ld["load"]
        add(("memory", "server RSS idle", f"{ld['idle_rss_mb']:.0f} MB", "", ""))
        add(("memory", "server peak RSS under load", f"{ld['load_peak_rss_mb']:.0f} MB", "",
             f"<= 1 GB: {_ok(ld['goal_met'])}"))  # fmt: skip
        done = f"{lo['completed']} ok, {lo['failed']} failed"
        add(("load", f"{lo['clients']} clients, {lo['wall_s']:.0f} s: answers/s",
             f"{lo['throughput_rps']:.1f}/s", done, ""))  # fmt: skip
        add(("load", "  first answer text p50 / p95",
             f"{_ms(lo['first_answer_ms']['p50'])} / {_ms(lo['first_answer_ms']['p95'])}",
             "", ""))  # fmt: skip
        add(("load", "  complete p50 / p95",
             f"{_ms(lo['complete_ms']['p50'])} / {_ms(lo['complete_ms']['p95'])}",
             f"1 client: {_ms(ld['single_client_complete_ms']['p50'])}", ""))  # fmt: skip
    ing = results.get("ingest_scaling") or {}
    for r in ing.get("rows", []):
        if r.get("extrapolated"):
            add(("ingest", f"x{r['copies']} ({r['chunks']} chunks) EXTRAPOLATED",
                 _s(r["seconds"]), f"{r['index_bytes'] / 1e6:.1f} MB index", ""))  # fmt: skip
            continue
        add(("ingest", f"x{r['copies']}: {r['chunks']} chunks + {r['sentences']} sentences",
             _s(r["seconds"]),
             f"{r['chunks_per_s']:.1f} chunks/s, {r['index_bytes'] / 1e6:.1f} MB", ""))  # fmt: skip
        add(("ingest", f"  x{r['copies']} unchanged re-ingest",
             _ms(r["unchanged_reingest_s"] * 1000), "",
             f"<= 1 s: {_ok(r['unchanged_reingest_s'] <= 1.0)}"))  # fmt: skip
    if ing.get("linear_fit"):
        fit = ing["linear_fit"]
        add(("ingest", "linear fit: s per 1000 chunks, R²",
             f"{fit['seconds_per_1000_chunks']:.1f} s, {fit['r2']:.3f}",
             f"per-chunk time largest/x1 {_x(ing['seconds_per_chunk_ratio_largest_vs_x1'])}",
             ""))  # fmt: skip
    if isinstance(results.get("site"), dict) and "error" not in results["site"]:
        from benchmarks.site import bench_rows

        out.extend(bench_rows(results["site"]))
    for name, part in results.items():
        if isinstance(part, dict) and "error" in part:
            add((name, "FAILED", part["error"][:60], "", ""))
    return out


def format_table(table: list[tuple[str, str, str, str, str]]) -> str:
    head = ("part", "measure", "value", "reference", "goal")
    widths = [max(len(str(r[i])) for r in [head, *table]) for i in range(5)]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), line, *(fmt.format(*r).rstrip() for r in table)])


def format_markdown(table: list[tuple[str, str, str, str, str]]) -> str:
    lines = ["| part | measure | value | reference | goal |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(c.strip().replace("|", "/") for c in r) + " |" for r in table]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs (the smoke test)")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset; also {', '.join(OPTIONAL_PARTS)} (not run by default)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "bench.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = [p.strip() for p in args.parts.split(",") if p.strip()]
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine_info(), "quick": args.quick}
    timings: dict[str, float] = {}
    for name in names:
        print(f"[bench] {name}...", file=sys.stderr, flush=True)
        part_started = time.perf_counter()
        try:
            results[name] = _runner(name, args.quick, started)()
        except Exception as exc:  # one broken part must not hide the others' figures
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        timings[name] = round(time.perf_counter() - part_started, 1)
        print(f"[bench] {name} done in {timings[name]:.0f} s", file=sys.stderr, flush=True)
    results["seconds"] = {**timings, "total": round(time.perf_counter() - started, 1)}
    table = rows(results)
    results["table_markdown"] = format_markdown(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    machine = results["machine"]
    print(
        f"\n{machine['cpu_model']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load average at start {machine['load_average_at_start']}"
    )
    print(format_table(table))
    print(f"\n{results['seconds']['total']:.0f} s; results written to {args.out}")
    failed = [n for n in names if "error" in results.get(n, {})]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

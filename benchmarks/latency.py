"""Part 1: answer latency in-process, warm, against the floor measured in the same run.

The floor is what any retrieval bot must do per question: one query embedding (the model,
no cache) and one Chroma top-5 query. ``ask()`` is measured with the query-embedding cache
cleared before each question (a first-time question) and again with it warm (a repeated
FAQ). Each question runs floor, then cold ask, back to back, so load from other processes
on the machine hits both alike. The stage breakdown calls the retriever's own steps in the
order ``HybridRetriever.retrieve`` runs them; nothing in bot/ is instrumented.

    python -m benchmarks.latency [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    clear_query_cache,
    load_cases,
    ratio,
    real_embeddings,
    summary_ms,
    temp_index,
    timed_ms,
)

GOAL_RATIO = 2.0
# (owner, attribute, stage): the steps of HybridRetriever.retrieve and the answer step.
STAGE_HOOKS = (
    # MiniLM's embed_query goes through embed_queries; an embedder without it uses its own.
    ("embeddings", "embed_queries", "query_embedding"),
    ("embeddings", "embed_query", "query_embedding"),
    ("index", "read", "word_correction"),
    ("index", "correct", "word_correction"),
    ("store", "search", "dense_search"),
    ("retriever", "_bm25", "bm25"),
    ("retriever", "_sentence_ranking", "sentence_ranking"),
    ("retriever", "_fuse", "fusion"),
    ("retriever", "_score_sentences", "sentence_scoring"),
    ("retriever", "_rerank", "rerank"),
    ("answerer", "answer", "answer_building"),
)


class StageClock:
    """Times the retriever's own steps while ``ask()`` runs, by wrapping them on the
    instances (nothing in bot/ changes). Times are exclusive: a step called inside another
    (a related-word embedding inside word correction) counts for itself only."""

    def __init__(self, chain: Any) -> None:
        retriever = chain.retriever
        self.owners = {
            "embeddings": chain.embeddings,
            "index": retriever.index,
            "store": retriever.index.store,
            "retriever": retriever,
            "answerer": chain.answerer,
        }
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [stage name, seconds spent in nested steps]
        self._patched: list[tuple[Any, str]] = []

    def __enter__(self) -> StageClock:
        hooked: set[tuple[str, str]] = set()
        for owner_name, attr, stage in STAGE_HOOKS:
            owner = self.owners[owner_name]
            original = getattr(owner, attr, None)
            if original is None or (owner_name, stage) in hooked:
                continue  # one hook per stage, where an owner has two ways into it
            setattr(owner, attr, self._wrap(original, stage))
            self._patched.append((owner, attr))
            hooked.add((owner_name, stage))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attr in self._patched:
            with contextlib.suppress(AttributeError):
                delattr(owner, attr)
        self._patched.clear()

    def _wrap(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = stage
            if stage == "query_embedding" and self._stack:
                name = "related_word_embedding"  # embedded while correcting question words
            frame: list[Any] = [name, 0.0]
            self._stack.append(frame)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self._stack.pop()
                if self._stack:
                    self._stack[-1][1] += spent
                nested = float(frame[1])
                self.totals[name] = self.totals.get(name, 0.0) + (spent - nested) * 1000
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed

    def take(self) -> tuple[dict[str, float], dict[str, int]]:
        totals, calls = self.totals, self.calls
        self.totals, self.calls = {}, {}
        return totals, calls


def _area(path: str | None) -> str | None:
    """Which library or project file a profiled frame belongs to (None: inherit)."""
    if not path or path.startswith("<"):
        return None
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/bot/" in path:
        return "bot/" + Path(path).name
    if "/benchmarks/" in path:
        return "benchmarks"
    return "stdlib:" + Path(path).stem


def profile_asks(chain: Any, cases: list[Any], path: Path | None) -> dict[str, Any]:
    """pyinstrument over a cold-cache pass: where the time of ask() goes."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"skipped": "pyinstrument is not installed"}
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for case in cases:
        clear_query_cache(chain.embeddings)
        chain.ask(case.question, case.history)
    profiler.stop()
    session = profiler.last_session
    root = session.root_frame() if session else None
    total = float(root.time) if root is not None else 0.0
    by_area: dict[str, float] = {}
    by_function: dict[str, float] = {}

    def walk(frame: Any, area: str) -> None:
        if getattr(frame, "is_synthetic", False):
            return  # "[self]" and friends: counted in their parent's self time
        area = _area(frame.file_path) or area
        own = float(frame.time) - sum(
            float(c.time) for c in frame.children if not getattr(c, "is_synthetic", False)
        )
        by_area[area] = by_area.get(area, 0.0) + own
        key = f"{frame.function} ({Path(frame.file_path or '?').name}:{frame.line_no})"
        by_function[key] = by_function.get(key, 0.0) + own
        for child in frame.children:
            walk(child, area)

    if root is not None:
        walk(root, "benchmarks")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(profiler.output_text(unicode=False, color=False), encoding="utf-8")

    def top(table: dict[str, float], n: int) -> list[dict[str, Any]]:
        rows = sorted(table.items(), key=lambda kv: -kv[1])[:n]
        return [
            {"name": k, "seconds": round(v, 4), "share": round(v / total, 3) if total else 0.0}
            for k, v in rows
        ]

    return {
        "seconds": round(total, 3),
        "questions": len(cases),
        "by_area": top(by_area, 12),
        "top_functions": top(by_function, 12),
        "text_report": path.name if path else None,
    }


def _floor_query(store: Any, vector: list[float]) -> Any:
    """One plain Chroma top-5 query: no count(), no wrapping."""
    return store.chunks._collection.query(
        query_embeddings=[vector], n_results=5, include=["distances"]
    )


def run(
    embeddings: Any = None,
    quick: bool = False,
    profile_path: Path | None = RESULTS / "profile-ask.txt",
) -> dict[str, Any]:
    from bot.answer.chain import FaqChain
    from bot.errors import FaqBotError
    from bot.ingest.pipeline import ingest
    from bot.types import Answer
    from evals.metrics import Outcome, compute_metrics

    embeddings = embeddings or real_embeddings()
    cases = load_cases(limit=12 if quick else None)
    tmp = temp_index()

    def ask(case: Any) -> tuple[float, Any]:
        try:
            return timed_ms(lambda: chain.ask(case.question, case.history))
        except FaqBotError as exc:  # a refused question: an abstention, as in evals
            return 0.0, Answer(str(exc), [], True)

    try:
        ingest(tmp.settings, embeddings)
        chain = FaqChain(tmp.settings, embeddings)
        assert chain.retriever is not None
        store = chain.retriever.index.store
        for case in cases[:5]:  # warm-up: lazy imports, Chroma's first query, allocators
            chain.ask(case.question, case.history)
            _floor_query(store, embeddings.embed_documents([case.question])[0])

        floor, floor_embed, floor_search, cold, warm, other = [], [], [], [], [], []
        stages: dict[str, list[float]] = {}
        calls: dict[str, int] = {}
        answers: list[Any] = []
        clock = StageClock(chain)
        for case in cases:
            # The floor, then the same question answered with the cache cleared, then again
            # (a repeat: its vectors now come from the cache), then once more, cleared,
            # with the stage clock on.
            e_ms, vectors = timed_ms(partial(embeddings.embed_documents, [case.question]))
            s_ms, _ = timed_ms(partial(_floor_query, store, vectors[0]))
            floor_embed.append(e_ms)
            floor_search.append(s_ms)
            floor.append(e_ms + s_ms)
            clear_query_cache(embeddings)
            ms, answer = ask(case)
            cold.append(ms)
            answers.append((case, answer, ms))
            warm.append(ask(case)[0])
            clear_query_cache(embeddings)
            with clock:
                ms, _ = ask(case)
            totals, counts = clock.take()
            for stage, value in totals.items():
                stages.setdefault(stage, []).append(value)
            for stage, n in counts.items():
                calls[stage] = calls.get(stage, 0) + n
            other.append(ms - sum(totals.values()))

        profile = profile_asks(chain, cases, None if quick else profile_path)
        outcomes = [
            Outcome(
                case,
                a.text,
                a.abstained,
                [c.quote for c in a.citations],
                [p.text for p in a.passages[:5]],
                ms,
            )
            for case, a, ms in answers
        ]
        metrics = compute_metrics(outcomes, 5)
    finally:
        tmp.cleanup()

    n = len(cases)
    floor_s, cold_s, warm_s = summary_ms(floor), summary_ms(cold), summary_ms(warm)
    # A stage that did not run for some questions (no related word to look up) is 0 there.
    stage_summary = {s: summary_ms(v + [0.0] * (n - len(v))) for s, v in stages.items()}
    stage_summary["other"] = summary_ms(other)  # screening, glue, sentence similarity
    return {
        "questions": n,
        "backend": getattr(embeddings, "backend", None) or type(embeddings).__name__,
        "floor_ms": floor_s,
        "floor_embed_ms": summary_ms(floor_embed),
        "floor_search_ms": summary_ms(floor_search),
        "ask_cold_cache_ms": cold_s,
        "ask_warm_cache_ms": warm_s,
        "ratio_p50_cold_vs_floor": ratio(cold_s["p50"], floor_s["p50"]),
        "ratio_p95_cold_vs_floor": ratio(cold_s["p95"], floor_s["p95"]),
        "ratio_p50_warm_vs_floor": ratio(warm_s["p50"], floor_s["p50"]),
        "cache_speedup_p50": ratio(cold_s["p50"], warm_s["p50"]),
        "goal_ratio": GOAL_RATIO,
        "goal_met": cold_s["p50"] <= GOAL_RATIO * floor_s["p50"],
        "stages_ms": stage_summary,
        "stage_calls_per_question": {s: round(c / n, 2) for s, c in calls.items()} if n else {},
        "profile": profile,
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 questions, no profile file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(quick=args.quick)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

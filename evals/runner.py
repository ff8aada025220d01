"""Run a dataset through the app's chain, gate on thresholds, print and write the report."""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.answer.extractive import Answer
from bot.config import Profile, Settings
from bot.errors import FaqBotError
from evals.dataset import Case
from evals.metrics import Outcome, compute_metrics

THRESHOLDS = Path(__file__).parent / "thresholds" / "cpt.toml"
EVAL_INDEXES = Path(".faqbot/evals")
METRICS = tuple(compute_metrics([]))  # every metric name a report carries, in report order


class Asker(Protocol):
    def ask(self, question: object, history: object = ()) -> Answer: ...


class ThresholdsError(ValueError):
    """A thresholds file is unusable; the message names the file and what to fix."""


def read_toml(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The parsed TOML file; ``error`` naming the file when it is missing or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, dict[str, float]]:
    return check_bounds(read_toml(path, ThresholdsError, "thresholds file"), str(path))


def check_bounds(raw: dict[str, Any], where: str) -> dict[str, dict[str, float]]:
    """``{"min": {...}, "max": {...}}`` from a parsed TOML table, every key a known metric
    and every bound a number; anything else raises ThresholdsError naming ``where``."""
    if not isinstance(raw, dict):
        raise ThresholdsError(f"{where}: must be a table with [min] and [max]")
    unknown = sorted(set(raw) - {"min", "max"})
    if unknown:
        raise ThresholdsError(f"{where}: unknown table(s) {unknown}; use [min] and [max]")
    bounds: dict[str, dict[str, float]] = {"min": {}, "max": {}}
    for side in ("min", "max"):
        table = raw.get(side, {})
        if not isinstance(table, dict):
            raise ThresholdsError(f"{where}: [{side}] must be a table of metric = number")
        for name, value in table.items():
            if name not in METRICS:
                raise ThresholdsError(
                    f"{where}: [{side}] {name!r} is not a metric; known: {', '.join(METRICS)}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThresholdsError(f"{where}: [{side}] {name} must be a number, not {value!r}")
            bounds[side][name] = float(value)
    return bounds


def stage_corpus(paths: Sequence[Path], indexes: Path = EVAL_INDEXES) -> tuple[Path, Path]:
    """The corpus folder to ingest for ``--corpus``, and where its index lives. One folder
    is used as it is; files are copied into a folder of their own (a folder of pages may
    hold notes that are not pages, so naming the files is the precise way)."""
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(path)
    if len(paths) == 1 and paths[0].is_dir():
        home = indexes / paths[0].resolve().name
        return paths[0], home
    home = indexes / "-".join(sorted(p.stem for p in paths))[:80]
    staged = home / "corpus"
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    for path in paths:
        if path.is_dir():
            shutil.copytree(path, staged / path.name)
        else:
            shutil.copy2(path, staged / path.name)
    return staged, home


def corpus_settings(settings: Settings, corpus_dir: Path, home: Path) -> Settings:
    """``settings`` answering from ``corpus_dir`` with an index of its own under ``home``."""
    return settings.with_(
        corpus_dir=corpus_dir,
        index_dir=home / "index",
        data_dir=home / "data",
        chroma_url="",
        profile=Profile.load({}, corpus_dir),
    )


def evaluate(bot: Asker, cases: Sequence[Case], k: int = 5) -> tuple[list[Outcome], list[Answer]]:
    """``run_cases``, keeping each full Answer (citations, passages) for the report."""
    answers: list[Answer] = []

    class Recorder:
        def ask(self, question: object, history: object = ()) -> Answer:
            try:
                answer = bot.ask(question, history)
            except FaqBotError as exc:  # as run_cases does, and kept in step with outcomes
                answer = Answer(str(exc), [], True)
            answers.append(answer)
            return answer

    outcomes = run_cases(Recorder(), cases, k)
    return outcomes, answers


def run_cases(bot: Asker, cases: Sequence[Case], k: int = 5) -> list[Outcome]:
    outcomes = []
    for case in cases:
        started = time.perf_counter()
        try:
            answer = bot.ask(case.question, case.history)
        except FaqBotError as exc:  # a refused question counts as an abstention
            answer = Answer(str(exc), [], True)
        latency = (time.perf_counter() - started) * 1000
        outcomes.append(
            Outcome(
                case,
                answer.text,
                answer.abstained,
                [c.quote for c in answer.citations],
                [p.text for p in answer.passages[:k]],
                latency,
            )
        )
    return outcomes


def judge(metrics: dict[str, float], thresholds: dict[str, dict[str, float]]) -> dict[str, bool]:
    verdict = {name: metrics[name] >= bound for name, bound in thresholds["min"].items()}
    verdict.update({name: metrics[name] <= bound for name, bound in thresholds["max"].items()})
    return verdict


def build_report(
    dataset: str,
    outcomes: Sequence[Outcome],
    answers: Sequence[Answer] | None,
    thresholds: dict[str, dict[str, float]],
    k: int = 5,
) -> dict[str, Any]:
    metrics = compute_metrics(outcomes, k)
    verdict = judge(metrics, thresholds)
    results = []
    for i, o in enumerate(outcomes):
        answer = answers[i] if answers else None
        results.append(
            {
                "id": o.case.id,
                "question": o.case.question,
                "answerable": o.case.answerable,
                "answer": o.answer,
                "abstained": o.abstained,
                "citations": [
                    {"source": c.source, "section": c.section, "text": c.quote}
                    for c in (answer.citations if answer else [])
                ],
                "retrieved": [
                    {"source": p.source, "section": p.section, "text": p.text}
                    for p in (answer.passages[:k] if answer else [])
                ],
                "hit_rank": o.hit_rank(k),
                "facts_ok": o.facts_ok if o.case.answerable else None,
                "citation_ok": o.citation_ok if o.case.answerable else None,
                "correct": o.correct,
                "latency_ms": round(o.latency_ms, 2),
            }
        )
    return {
        "dataset": dataset,
        "cases": len(outcomes),
        "metrics": {k_: round(v, 4) for k_, v in metrics.items()},
        "thresholds": {**thresholds["min"], **thresholds["max"]},
        "passed": all(verdict.values()),
        "results": results,
    }


def format_table(report: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> str:
    lines = [
        f"{report['dataset']}: {report['cases']} cases",
        "",
        f"{'metric':<24}{'value':>9}{'threshold':>12}  result",
    ]
    verdict = judge(report["metrics"], thresholds)
    for name, value in report["metrics"].items():
        if name in thresholds["min"]:
            bound, result = f">= {thresholds['min'][name]:.2f}", "pass" if verdict[name] else "FAIL"
        elif name in thresholds["max"]:
            bound, result = f"<= {thresholds['max'][name]:.2f}", "pass" if verdict[name] else "FAIL"
        else:
            bound, result = "", ""
        lines.append(f"{name:<24}{value:>9.3f}{bound:>12}  {result}")
    return "\n".join(lines)


def format_failures(report: dict[str, Any], limit: int = 40) -> str:
    failed = [
        r
        for r in report["results"]
        if not r["correct"]
        or r["hit_rank"] not in (1, None)
        or (r["answerable"] and r["hit_rank"] is None)
    ]
    if not failed:
        return "No failing cases."
    out = [f"{len(failed)} failing or weak cases (showing up to {limit}):"]
    for r in failed[:limit]:
        why = []
        if r["answerable"]:
            if r["abstained"]:
                why.append("abstained")
            if r["facts_ok"] is False and not r["abstained"]:
                why.append("facts missing")
            if r["citation_ok"] is False and not r["abstained"]:
                why.append("citation unsupported")
            why.append(f"hit rank {r['hit_rank']}")
        else:
            why.append("answered an unanswerable question")
        out.append(f"- {r['id']} ({', '.join(why)}): {r['question']}")
        out.append(f"    answer: {r['answer'][:240]}")
        for j, p in enumerate(r["retrieved"][:3], start=1):
            out.append(f"    top{j}: [{p['section']}] {p['text'][:110]!r}")
    return "\n".join(out)


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

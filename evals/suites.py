"""``python -m evals --suites evals/suites.toml``: every suite of the manifest in one process.

The embedding model is loaded once and shared by every suite's chain. A suite answers from
its own corpus (staged and ingested as ``--corpus`` does) or, without one, from the configured
corpus and index. Its check half gates on its thresholds; its tune half only reports. Each
metric is also compared with the manifest's ``[targets]`` (issue #14): a miss is marked
BELOW TARGET in the tables and summary.json, but only the thresholds gate.
"""

from __future__ import annotations

import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.errors import FaqBotError
from evals import junit
from evals.dataset import Case, DatasetError, load_dataset
from evals.runner import (
    EVAL_INDEXES,
    METRICS,
    ThresholdsError,
    build_report,
    check_bounds,
    corpus_settings,
    evaluate,
    format_failures,
    judge,
    load_thresholds,
    read_toml,
    stage_corpus,
    write_report,
)

ROOT = Path(__file__).resolve().parent.parent  # manifest paths are relative to it
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
REQUIRED = ("name", "title", "check", "tune", "thresholds")
HALVES = ("check", "tune")
SUMMARY = (  # summary table: metric, column heading
    ("hit_at_1", "hit@1"),
    ("fact_recall", "fact"),
    ("citation_accuracy", "citation"),
    ("abstention_accuracy", "abstention"),
    ("false_abstention_rate", "false abst"),
    ("answer_words_p50", "words p50"),
)
Bounds = dict[str, dict[str, float]]


class ManifestError(Exception):
    """The manifest, or a dataset or thresholds file it names, is unusable (exit 2)."""


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    check: str  # paths as written in the manifest, relative to the project root
    tune: str
    thresholds: str
    corpus: tuple[str, ...] = ()  # empty: the configured corpus folder and its index


@dataclass(frozen=True)
class Manifest:
    path: Path
    suites: list[Suite]
    targets: Bounds


def load_manifest(path: Path) -> Manifest:
    raw = read_toml(path, ManifestError, "manifest")
    unknown = sorted(set(raw) - {"suite", "targets"})
    if unknown:
        raise ManifestError(f"{path}: unknown key(s) {unknown}; expected [targets] and [[suite]]")
    entries = raw.get("suite")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"{path}: no suites; add at least one [[suite]] table")
    try:
        targets = check_bounds(raw.get("targets", {}), f"{path} [targets]")
    except ThresholdsError as exc:
        raise ManifestError(str(exc)) from None
    suites: list[Suite] = []
    for number, entry in enumerate(entries, start=1):
        suite = _suite(entry, f"{path}: suite #{number}")
        if any(s.name == suite.name for s in suites):
            raise ManifestError(f"{path}: suite #{number}: duplicate name {suite.name!r}")
        suites.append(suite)
    return Manifest(path, suites, targets)


def _suite(entry: Any, where: str) -> Suite:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: must be a [[suite]] table")
    if isinstance(entry.get("name"), str):
        where = f"{where} ({entry['name']})"
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    extra = sorted(set(entry) - {*REQUIRED, "corpus"})
    if extra:
        raise ManifestError(
            f"{where}: unknown key(s) {extra}; allowed: {', '.join(REQUIRED)}, corpus"
        )
    for key in REQUIRED:
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ManifestError(f"{where}: {key} must be a non-empty string")
    if not NAME.fullmatch(entry["name"]):
        raise ManifestError(
            f"{where}: name must be lower-case letters, digits, _ or - (a file name)"
        )
    corpus = entry.get("corpus", [])
    if not isinstance(corpus, list) or not all(isinstance(p, str) and p.strip() for p in corpus):
        raise ManifestError(f"{where}: corpus must be a list of paths (omit it for corpus/)")
    if "corpus" in entry and not corpus:
        raise ManifestError(f"{where}: corpus is empty; name its pages or omit it for corpus/")
    values = {key: entry[key] for key in REQUIRED}
    return Suite(**values, corpus=tuple(corpus))


def select(manifest: Manifest, only: list[str]) -> list[Suite]:
    names = [s.name for s in manifest.suites]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ManifestError(
            f"{manifest.path}: --only {', '.join(unknown)}: no such suite; "
            f"known: {', '.join(names)}"
        )
    return [s for s in manifest.suites if not only or s.name in only]


@dataclass
class Prepared:
    """A suite with its datasets and thresholds loaded (checked before any model loads)."""

    suite: Suite
    cases: dict[str, list[Case]]
    thresholds: Bounds


def prepare(suite: Suite, root: Path) -> Prepared:
    cases: dict[str, list[Case]] = {}
    for half in HALVES:
        try:
            cases[half] = load_dataset(root / getattr(suite, half))
        except DatasetError as exc:
            raise ManifestError(f"{exc} (the {half} half of suite {suite.name!r})") from None
    try:
        thresholds = load_thresholds(root / suite.thresholds)
    except ThresholdsError as exc:
        raise ManifestError(f"{exc} (suite {suite.name!r})") from None
    return Prepared(suite, cases, thresholds)


# --- tables ---------------------------------------------------------------------------------
def _value(name: str, value: float) -> str:
    return f"{value:.1f}" if name.startswith(("answer_words", "latency")) else f"{value:.3f}"


def _bound(name: str, bounds: Bounds) -> str:
    if name in bounds["min"]:
        return f">= {_value(name, bounds['min'][name])}"
    if name in bounds["max"]:
        return f"<= {_value(name, bounds['max'][name])}"
    return ""


def below_target(metrics: dict[str, float], targets: Bounds) -> list[str]:
    return [name for name, ok in judge(metrics, targets).items() if not ok]


def suite_table(p: Prepared, reports: dict[str, dict[str, Any]], targets: Bounds) -> str:
    check, tune = reports["check"]["metrics"], reports["tune"]["metrics"]
    gate, missed = judge(check, p.thresholds), set(below_target(check, targets))
    lines = [
        f"{'metric':<24}{'check':>9}{'tune':>9}{'threshold':>12}{'target':>10}  status",
    ]
    for name in METRICS:
        status = [] if name not in gate else ["pass" if gate[name] else "FAIL"]
        status += ["BELOW TARGET"] if name in missed else []
        lines.append(
            f"{name:<24}{_value(name, check[name]):>9}{_value(name, tune[name]):>9}"
            f"{_bound(name, p.thresholds):>12}{_bound(name, targets):>10}  {', '.join(status)}"
        )
    return "\n".join(lines)


def summary_table(rows: list[dict[str, Any]]) -> str:
    head = f"{'suite':<14}{'cases':>6}" + "".join(f"{h:>12}" for _, h in SUMMARY)
    lines = [head + f"  {'gate':<8}targets", "-" * (len(head) + 24)]
    for row in rows:
        cells = f"{row['name']:<14}"
        if row["status"] in ("skipped", "error"):
            lines.append(cells + f"{'-':>6}" + f"{'-':>12}" * len(SUMMARY) + f"  {row['status']}")
            continue
        metrics, missed = row["check"]["metrics"], row["below_target"]
        cells += f"{row['check']['cases']:>6}"
        for name, _ in SUMMARY:
            cells += f"{_value(name, metrics[name]) + ('*' if name in missed else ''):>12}"
        gate = "pass" if row["status"] == "passed" else "FAIL"
        lines.append(cells + f"  {gate:<8}" + ("BELOW TARGET" if missed else "met"))
    lines.append("(check half; * = BELOW TARGET, issue #14's targets; the gate is the thresholds)")
    return "\n".join(lines)


# --- running --------------------------------------------------------------------------------
def run_suites(
    manifest_path: Path,
    settings: Settings,
    only: Sequence[str] = (),
    reports_dir: Path = Path("evals/reports"),
    junit_path: Path | None = None,
    quiet: bool = False,
    embeddings: Embeddings | None = None,
    root: Path = ROOT,
    indexes: Path = EVAL_INDEXES,
) -> int:
    """Exit status: 0 every check half holds its thresholds, 1 one misses, 2 unusable input."""
    started = time.perf_counter()
    try:
        manifest = load_manifest(manifest_path)
        prepared = [prepare(s, root) for s in select(manifest, list(only))]
    except ManifestError as exc:
        print(f"bad manifest: {exc}", file=sys.stderr)
        return 2
    k = settings.top_k
    rows: list[dict[str, Any]] = []
    elements: list[ET.Element] = []
    for p in prepared:
        suite, t0 = p.suite, time.perf_counter()
        row: dict[str, Any] = {"name": suite.name, "title": suite.title, "reason": None}
        print(f"\n== {suite.name}: {suite.title}")
        absent = [c for c in suite.corpus if not (root / c).exists()]
        if absent:
            row.update(status="skipped", reason=f"corpus absent: {', '.join(absent)}")
            print(f"SKIPPED: {row['reason']} (CI lays ../shared beside the checkout)")
            elements.append(junit.skipped_suite(suite.name, row["reason"]))
            rows.append(row)
            continue
        try:
            if embeddings is None:
                from bot.index.embedding import MiniLMEmbeddings

                embeddings = MiniLMEmbeddings()  # loaded once, on first use, for every suite
            bot = _chain(suite, settings, embeddings, root, indexes)
            reports: dict[str, dict[str, Any]] = {}
            for half in HALVES:
                outcomes, answers = evaluate(bot, p.cases[half], k)
                report = build_report(getattr(suite, half), outcomes, answers, p.thresholds, k)
                report.update(suite=suite.name, half=half, gating=half == "check")
                write_report(report, reports_dir / f"{suite.name}.{half}.json")
                reports[half] = report
                elements.append(
                    junit.testsuite(report, suite.name, half, half == "check", p.cases[half])
                )
            elements.append(junit.gate_suite(reports["check"], suite.name, p.thresholds))
        except FaqBotError as exc:
            row.update(status="error", reason=str(exc))
            print(f"ERROR: {exc}", file=sys.stderr)
            elements.append(junit.skipped_suite(suite.name, str(exc), tag="error"))
            rows.append(row)
            continue
        check = reports["check"]
        row.update(
            status="passed" if check["passed"] else "failed",
            below_target=below_target(check["metrics"], manifest.targets),
            seconds=round(time.perf_counter() - t0, 1),
        )
        for half in HALVES:
            r = reports[half]
            row[half] = {
                "dataset": r["dataset"],
                "cases": r["cases"],
                "metrics": r["metrics"],
                "passed": r["passed"],
                "gating": half == "check",
                "report": str(reports_dir / f"{suite.name}.{half}.json"),
            }
        corpus = ", ".join(suite.corpus) or "the configured corpus"
        print(f"check {suite.check} ({check['cases']} cases, gates), tune {suite.tune} "
              f"({reports['tune']['cases']} cases, report only), corpus {corpus}\n")  # fmt: skip
        print(suite_table(p, reports, manifest.targets))
        print(f"gate ({suite.thresholds}): {'PASSED' if check['passed'] else 'FAILED'}")
        if not quiet:
            print("\ncheck half: " + format_failures(check))
        rows.append(row)
    seconds = time.perf_counter() - started
    failed = [r["name"] for r in rows if r["status"] == "failed"]
    errors = [r["name"] for r in rows if r["status"] == "error"]
    summary = {
        "manifest": str(manifest_path),
        "targets": manifest.targets,
        "passed": not failed and not errors,
        "seconds": round(seconds, 1),
        "suites": rows,
    }
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    print("\n== summary\n" + summary_table(rows))
    if junit_path is not None:
        junit.write_junit(junit_path, elements)
        print(f"JUnit written to {junit_path}")
    print(f"reports in {reports_dir}/; {len(rows)} suite(s) in {seconds:.1f} s")
    if errors:
        print(f"\nERROR: suite(s) {', '.join(errors)} could not run", file=sys.stderr)
        return 2
    if failed:
        print(f"\nFAILED: suite(s) {', '.join(failed)} miss a threshold on the check half")
        return 1
    print("\nPASSED")
    return 0


def _chain(
    suite: Suite, settings: Settings, embeddings: Embeddings, root: Path, indexes: Path
) -> Any:
    from bot.answer.chain import FaqChain

    if suite.corpus:
        from bot.ingest.pipeline import ingest

        corpus_dir, home = stage_corpus([root / c for c in suite.corpus], indexes)
        settings = corpus_settings(settings, corpus_dir, home)
        print(ingest(settings, embeddings).summary(), file=sys.stderr)
    return FaqChain.from_settings(settings, embeddings=embeddings)

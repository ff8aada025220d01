"""JUnit XML for eval runs (``--junit FILE``), so CI shows every eval case as a test.

* One ``<testsuite>`` per dataset run, named ``<suite>.<half>`` (half: ``check`` or ``tune``;
  in ``--dataset`` mode the suite is the dataset's file stem and the half is ``check``, or
  ``tune`` with ``--report-only``), with one ``<testcase>`` per case: classname
  ``<suite>.<half>``, name the case id, time its answer's latency.
* A case that is not correct (``Outcome.correct``: an answerable one answered with every
  expected fact and a supporting citation, an unanswerable one abstained on) says what
  failed in the message (abstained / facts missing / no supporting citation / wrongly
  answered an unanswerable) and holds the question, the answer and the top passages
  (source, section, first 200 characters) in its text.
  - check half: a ``<failure>``.
  - tune half (report only): a ``<skipped>`` whose message starts "report only (tune
    half)", and the testsuite carries the property ``report_only = true``. The misses stay
    visible in CI reporters without turning the run red, as the tune half never gates.
* The gate itself is one more testsuite per check half, ``<suite>.check.thresholds``: one
  testcase per bounded metric, a ``<failure>`` when the metric misses its bound. That is the
  reason the run fails; single case failures alone do not fail it.
* A suite skipped because its corpus is absent is a testsuite with one skipped testcase; one
  that could not run (an ingest error) has one testcase with an ``<error>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.dataset import Case

PASSAGE_CHARS = 200
TOP_PASSAGES = 3


def what_failed(result: dict[str, Any]) -> list[str]:
    """Why a report result is not correct, in words; empty when it is correct."""
    if result["correct"]:
        return []
    if not result["answerable"]:
        return ["wrongly answered an unanswerable question"]
    if result["abstained"]:
        return ["abstained"]
    why = []
    if result["facts_ok"] is False:
        why.append("facts missing")
    if result["citation_ok"] is False:
        why.append("no supporting citation")
    return why or ["not correct"]


def _details(result: dict[str, Any], case: Case | None) -> str:
    lines = [f"question: {result['question']}"]
    if case is not None and case.history:
        lines.append(f"history: {len(case.history)} earlier turn(s)")
    if case is not None and case.answerable:
        lines.append(f"expected facts: {case.expected_facts}")
    lines.append(f"answer: {result['answer']}")
    lines.append(f"hit rank: {result['hit_rank']}")
    lines.append("top passages:")
    for i, p in enumerate(result["retrieved"][:TOP_PASSAGES], start=1):
        text = " ".join(p["text"].split())[:PASSAGE_CHARS]
        lines.append(f"  {i}. {p['source']} | {p['section']}: {text}")
    if not result["retrieved"]:
        lines.append("  (none)")
    return "\n".join(lines)


def _suite(name: str, properties: dict[str, str]) -> ET.Element:
    element = ET.Element("testsuite", name=name)
    props = ET.SubElement(element, "properties")
    for key, value in properties.items():
        ET.SubElement(props, "property", name=key, value=value)
    return element


def _count(element: ET.Element, seconds: float) -> ET.Element:
    cases = element.findall("testcase")
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    element.set("errors", str(sum(c.find("error") is not None for c in cases)))
    element.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    element.set("time", f"{seconds:.3f}")
    return element


def testsuite(
    report: dict[str, Any],
    suite: str,
    half: str,
    gating: bool,
    cases: Sequence[Case] = (),
) -> ET.Element:
    """The testsuite of one dataset run from its FORMAT.md report."""
    classname = f"{suite}.{half}"
    by_id = {c.id: c for c in cases}
    element = _suite(
        classname,
        {
            "dataset": str(report["dataset"]),
            "report_only": "false" if gating else "true",
            **{f"metric.{k}": str(v) for k, v in report["metrics"].items()},
        },
    )
    seconds = 0.0
    for result in report["results"]:
        latency = float(result.get("latency_ms", 0.0)) / 1000
        seconds += latency
        case_el = ET.SubElement(
            element, "testcase", classname=classname, name=result["id"], time=f"{latency:.3f}"
        )
        why = what_failed(result)
        if not why:
            continue
        message = "; ".join(why)
        if gating:
            tag = "failure"
        else:
            tag, message = "skipped", f"report only (tune half): {message}"
        failure = ET.SubElement(case_el, tag, message=message)
        if gating:
            failure.set("type", "EvalCaseFailure")
        failure.text = _details(result, by_id.get(result["id"]))
    return _count(element, seconds)


def gate_suite(
    report: dict[str, Any], suite: str, thresholds: dict[str, dict[str, float]]
) -> ET.Element:
    """One testcase per bounded metric of a check half: a failure when it misses."""
    name = f"{suite}.check.thresholds"
    element = _suite(name, {"dataset": str(report["dataset"])})
    for side, op in (("min", ">="), ("max", "<=")):
        for metric, bound in thresholds[side].items():
            value = float(report["metrics"][metric])
            ok = value >= bound if side == "min" else value <= bound
            case_el = ET.SubElement(element, "testcase", classname=name, name=metric, time="0")
            if not ok:
                failure = ET.SubElement(
                    case_el,
                    "failure",
                    message=f"{metric} = {value:.3f}, threshold {op} {bound:.2f}",
                    type="ThresholdMissed",
                )
                failure.text = f"{report['dataset']}: {metric} {value:.4f} misses {op} {bound}"
    return _count(element, 0.0)


def skipped_suite(suite: str, reason: str, tag: str = "skipped") -> ET.Element:
    """A suite that did not run: one testcase saying why, ``<skipped>`` (its corpus is
    absent) or ``<error>`` (``tag="error"``: its corpus could not be ingested, say)."""
    element = _suite(suite, {tag: reason})
    case_el = ET.SubElement(element, "testcase", classname=suite, name="corpus", time="0")
    ET.SubElement(case_el, tag, message=reason)
    return _count(element, 0.0)


def write_junit(path: Path, suites: Sequence[ET.Element], name: str = "evals") -> None:
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for element in suites:
        root.append(element)
        for key in totals:
            totals[key] += int(element.get(key, "0"))
        seconds += float(element.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

"""JUnit XML of eval runs: one testcase per case, failures that say what failed and show the
answer and the top passages, tune-half misses as report-only skips, and the gate itself."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bot.answer.extractive import Answer, Citation
from bot.types import Chunk
from evals import junit
from evals.__main__ import main
from evals.dataset import Case
from evals.runner import build_report, evaluate, load_thresholds

EVIDENCE = "runs $360-$480 total"
PASSAGE = "The full CPT credential runs $360-$480 total across the four modules. " * 5
CHUNK = Chunk("id1", "guide.txt", "Cost and funding", 0, len(PASSAGE), PASSAGE)
CITE = Citation(1, "guide.txt", "Cost and funding", PASSAGE[:60], 0, 60, PASSAGE)

# What the bot says to each question: (answer text, citations, abstained).
SCRIPT: dict[str, tuple[str, list[Citation], bool]] = {
    "good": ("It runs $360-$480 total. [1]", [CITE], False),
    "no-fact": ("It costs money. [1]", [CITE], False),
    "no-cite": ("It runs $360-$480 total.", [], False),
    "abst": ("I could not find that in the guide.", [], True),
    "na-answered": ("You need 70% to pass. [1]", [CITE], False),
    "na-ok": ("The guide does not say.", [], True),
}


class ScriptedBot:
    def ask(self, question: object, history: object = ()) -> Answer:
        text, cites, abstained = SCRIPT[str(question)]
        return Answer(text, cites, abstained, [CHUNK])


def cases() -> list[Case]:
    out = []
    for cid in SCRIPT:
        if cid.startswith("na-"):
            out.append(Case(cid, cid, False))
        else:
            out.append(Case(cid, cid, True, [], [["360"], ["480"]], [EVIDENCE]))
    return out


def report() -> dict[str, Any]:
    outcomes, answers = evaluate(ScriptedBot(), cases())
    return build_report("d.jsonl", outcomes, answers, load_thresholds())


def parse(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))


def test_check_half_has_one_testcase_per_case_and_failures_say_what_failed() -> None:
    suite = parse(junit.testsuite(report(), "cpt", "check", True, cases()))
    assert suite.get("name") == "cpt.check"
    testcases = suite.findall("testcase")
    assert [t.get("name") for t in testcases] == list(SCRIPT)
    assert {t.get("classname") for t in testcases} == {"cpt.check"}
    assert suite.get("tests") == "6" and suite.get("failures") == "4"
    messages = {t.get("name"): t.find("failure") for t in testcases}
    assert messages["good"] is None and messages["na-ok"] is None
    assert messages["no-fact"].get("message") == "facts missing"  # type: ignore[union-attr]
    assert messages["no-cite"].get("message") == "no supporting citation"  # type: ignore[union-attr]
    assert messages["abst"].get("message") == "abstained"  # type: ignore[union-attr]
    answered = messages["na-answered"]
    assert answered is not None
    assert answered.get("message") == "wrongly answered an unanswerable question"
    text = answered.text or ""
    assert "question: na-answered" in text
    assert "answer: You need 70% to pass. [1]" in text
    assert "guide.txt | Cost and funding: The full CPT credential" in text
    passage_line = next(line for line in text.splitlines() if "guide.txt" in line)
    assert len(passage_line.split(": ", 1)[1]) == junit.PASSAGE_CHARS  # first 200 chars only


def test_tune_half_misses_are_report_only_skips() -> None:
    suite = parse(junit.testsuite(report(), "cpt", "tune", False, cases()))
    assert suite.get("failures") == "0" and suite.get("skipped") == "4"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["report_only"] == "true"
    skipped = [s.get("message") or "" for s in suite.iter("skipped")]
    assert all(m.startswith("report only (tune half): ") for m in skipped)
    assert any(m.endswith("abstained") for m in skipped)


def test_gate_suite_fails_exactly_the_missed_bounds() -> None:
    r = report()
    bounds = {
        "min": {"hit_at_1": 0.5, "abstention_accuracy": 0.9},
        "max": {"answer_words_p50": 1.0},
    }
    gate = parse(junit.gate_suite(r, "cpt", bounds))
    assert gate.get("name") == "cpt.check.thresholds"
    failed = {t.get("name"): t.find("failure") for t in gate.findall("testcase")}
    assert failed["hit_at_1"] is None  # every case retrieves the evidence first
    missed = failed["abstention_accuracy"]
    assert missed is not None
    assert missed.get("message") == "abstention_accuracy = 0.500, threshold >= 0.90"
    assert failed["answer_words_p50"] is not None
    assert gate.get("failures") == "2"


def test_write_junit_totals_every_suite(tmp_path: Path) -> None:
    r = report()
    path = tmp_path / "out" / "j.xml"
    junit.write_junit(
        path,
        [
            junit.testsuite(r, "a", "check", True, cases()),
            junit.testsuite(r, "a", "tune", False, cases()),
            junit.skipped_suite("b", "corpus absent: ../x.html"),
        ],
    )
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert len(root.findall("testsuite")) == 3
    assert root.get("tests") == str(6 + 6 + 1)
    assert root.get("failures") == "4" and root.get("skipped") == str(4 + 1)


# --- --junit in --dataset mode (the chain replaced by the scripted bot) ---------------------
@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from bot.answer.chain import FaqChain

    monkeypatch.setattr(FaqChain, "from_settings", classmethod(lambda cls, *a, **k: ScriptedBot()))
    dataset = tmp_path / "mine.jsonl"
    lines = [
        {"id": c.id, "question": c.question, "answerable": c.answerable}
        | ({"expected_facts": c.expected_facts, "evidence": c.evidence} if c.answerable else {})
        for c in cases()
    ]
    dataset.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return dataset


def test_dataset_mode_writes_junit_and_gates(scripted: Path, tmp_path: Path) -> None:
    out = tmp_path / "j.xml"
    assert main(["--dataset", str(scripted), "--junit", str(out), "--quiet"]) == 1
    root = ET.parse(out).getroot()
    cases_suite, gate = root.findall("testsuite")
    assert cases_suite.get("name") == "mine.check"
    assert len(cases_suite.findall("testcase")) == len(SCRIPT)
    assert gate.get("name") == "mine.check.thresholds" and int(gate.get("failures", "0")) >= 1


def test_dataset_mode_report_only_junit_has_no_failures(scripted: Path, tmp_path: Path) -> None:
    out = tmp_path / "j.xml"
    assert main(["--dataset", str(scripted), "--junit", str(out), "--report-only"]) == 0
    root = ET.parse(out).getroot()
    assert [s.get("name") for s in root.findall("testsuite")] == ["mine.tune"]
    assert root.get("failures") == "0" and root.get("skipped") == "4"

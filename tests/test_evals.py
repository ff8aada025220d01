"""The eval runner: dataset validation, metric arithmetic, report shape, the CI gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answer.extractive import Answer, Citation
from bot.types import Chunk
from evals.dataset import Case, DatasetError, load_dataset
from evals.metrics import Outcome, compute_metrics, facts_match, hit_rank, normalize, supports
from evals.runner import build_report, judge, load_thresholds, run_cases

ROOT = Path(__file__).resolve().parent.parent
DATASETS = sorted((ROOT / "evals" / "datasets").glob("*.jsonl"))
FORMAT_METRICS = {
    "hit_at_1",
    "hit_at_5",
    "mrr_at_5",
    "fact_recall",
    "citation_accuracy",
    "abstention_accuracy",
    "false_abstention_rate",
    "answer_words_p50",
    "latency_ms_p50",
    "latency_ms_p95",
}
RESULT_KEYS = {
    "id",
    "answer",
    "abstained",
    "citations",
    "retrieved",
    "hit_rank",
    "facts_ok",
    "citation_ok",
    "latency_ms",
}


def case(cid: str = "c", answerable: bool = True, **kw: object) -> Case:
    facts = kw.pop("facts", [["360"]])
    evidence = kw.pop("evidence", ["runs $360-$480 total"])
    return Case(
        cid, "q?", answerable, [], facts if answerable else [], evidence if answerable else []
    )  # type: ignore[arg-type]


def outcome(
    c: Case,
    passages: list[str],
    answer: str = "",
    abstained: bool = False,
    cited: list[str] | None = None,
    ms: float = 1.0,
) -> Outcome:
    return Outcome(c, answer, abstained, cited or [], passages, ms)


# --- matching -------------------------------------------------------------------------
def test_normalize_folds_case_dashes_quotes_space_and_markdown() -> None:
    assert normalize("  Runs  $360–$480 “TOTAL” **bold** | x ") == 'runs $360-$480 "total" bold x'


def test_supports_matches_plain_evidence_inside_a_markdown_table_row() -> None:
    row = "| CPT-MT only | Maintenance module only | $90-120 |"
    assert supports(row, ["CPT-MT only Maintenance module only"])
    assert not supports(row, ["Safety module only"])


def test_facts_need_every_group_and_any_alternative() -> None:
    facts = [["360"], ["480", "four hundred eighty"]]
    assert facts_match("It runs $360-$480.", facts)
    assert not facts_match("It runs $360.", facts)


def test_hit_rank_is_the_first_supporting_passage_within_k() -> None:
    passages = ["nothing", "still nothing", "full CPT runs $360-$480 total."]
    assert hit_rank(passages, ["runs $360-$480 total"], 5) == 3
    assert hit_rank(passages, ["runs $360-$480 total"], 2) is None


# --- metrics on hand-made cases with known results ---------------------------------------
def test_evidence_at_rank_three_gives_mrr_one_third_and_no_hit_at_one() -> None:
    c = case()
    o = outcome(
        c,
        ["a", "b", "it runs $360-$480 total.", "d"],
        "$360 [1]",
        cited=["it runs $360-$480 total."],
    )
    m = compute_metrics([o])
    assert m["mrr_at_5"] == pytest.approx(1 / 3)
    assert m["hit_at_1"] == 0.0
    assert m["hit_at_5"] == 1.0


def test_fact_recall_citation_and_abstention_rates() -> None:
    good = outcome(
        case("good"),
        ["runs $360-$480 total"],
        "It is $360 [1]",
        cited=["runs $360-$480 total"],
        ms=10,
    )
    wrong_cite = outcome(case("wrongcite"), ["x"], "It is $360 [1]", cited=["other text"], ms=20)
    abstained = outcome(case("abst"), ["x"], "I can't find that", abstained=True, ms=30)
    refused = outcome(case("na1", answerable=False), [], "no", abstained=True, ms=40)
    answered = outcome(case("na2", answerable=False), [], "yes", ms=50)
    m = compute_metrics([good, wrong_cite, abstained, refused, answered])
    assert m["fact_recall"] == pytest.approx(2 / 3)
    assert m["citation_accuracy"] == pytest.approx(1 / 3)
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert m["abstention_accuracy"] == pytest.approx(1 / 2)
    assert m["latency_ms_p50"] == 30
    assert m["answer_words_p50"] == 3  # "It is $360": markers not counted


def test_judge_uses_min_and_max_bounds() -> None:
    thresholds = {"min": {"hit_at_1": 0.8}, "max": {"false_abstention_rate": 0.1}}
    assert judge({"hit_at_1": 0.8, "false_abstention_rate": 0.1}, thresholds) == {
        "hit_at_1": True,
        "false_abstention_rate": True,
    }
    assert judge({"hit_at_1": 0.79, "false_abstention_rate": 0.2}, thresholds) == {
        "hit_at_1": False,
        "false_abstention_rate": False,
    }


# --- dataset validation ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"question": "q", "answerable": false}', "missing field 'id'"),
        (
            '{"id": "a", "question": "q", "answerable": true, '
            '"expected_facts": [["x"]], "evidence": []}',
            "needs non-empty evidence",
        ),
        ('{"id": "a", "question": "q", "answerable": "yes"}', "must be a bool"),
        (
            '{"id": "a", "question": "q", "answerable": false, '
            '"history": [{"role": "bot", "content": "x"}]}',
            "history",
        ),
    ],
)
def test_a_broken_line_is_named_with_its_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "ok", "question": "q", "answerable": false}\n' + line + "\n")
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "x", "question": "q", "answerable": false}\n' * 2)
    with pytest.raises(DatasetError, match="duplicate id 'x'"):
        load_dataset(path)


def test_cli_exits_2_on_a_broken_dataset(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "q", "answerable": false}\n{oops\n')
    run = subprocess.run(
        [sys.executable, "-m", "evals", "--dataset", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2
    assert "bad.jsonl:2: invalid JSON" in run.stderr


# --- the shipped datasets ---------------------------------------------------------------
@pytest.mark.parametrize("dataset", DATASETS, ids=lambda p: p.name)
def test_shipped_datasets_load_and_every_evidence_occurs_in_the_corpus(dataset: Path) -> None:
    corpus = " ".join(normalize(p.read_text()) for p in (ROOT / "corpus").rglob("*.*"))
    cases = load_dataset(dataset)
    assert cases
    for c in cases:
        for evidence in c.evidence:
            assert normalize(evidence) in corpus, f"{c.id}: evidence not in corpus: {evidence!r}"


def test_the_gate_set_covers_the_kinds_of_user_the_issue_names() -> None:
    cases = load_dataset(ROOT / "evals" / "datasets" / "cpt_faq.jsonl")
    assert len(cases) >= 80
    assert sum(not c.answerable for c in cases) >= 15
    assert sum(bool(c.history) for c in cases) >= 8


# --- report shape -------------------------------------------------------------------------
class FixedBot:
    def ask(self, question: object, history: object = ()) -> Answer:
        chunk = Chunk("id1", "guide.txt", "Cost and funding", 0, 30, "it runs $360-$480 total.")
        cite = Citation(1, "guide.txt", "Cost and funding", chunk.text, 0, 30, chunk.text)
        return Answer("It runs $360-$480 total. [1]", [cite], False, [chunk])


def test_report_has_every_format_key_and_passes_a_reachable_gate() -> None:
    cases = [case("a"), case("b")]
    bot = FixedBot()
    answers = [bot.ask(c.question) for c in cases]
    outcomes = run_cases(bot, cases)
    report = build_report("d.jsonl", outcomes, answers, load_thresholds())
    json.dumps(report)  # serialisable
    assert set(report) >= {"dataset", "cases", "metrics", "thresholds", "passed", "results"}
    assert set(report["metrics"]) >= FORMAT_METRICS
    assert set(report["results"][0]) >= RESULT_KEYS
    assert set(report["results"][0]["citations"][0]) >= {"source", "section", "text"}
    assert set(report["results"][0]["retrieved"][0]) >= {"source", "section", "text"}
    assert report["metrics"]["hit_at_1"] == 1.0


def test_thresholds_file_bounds_every_gated_metric() -> None:
    thresholds = load_thresholds()
    assert set(thresholds["min"]) == {
        "hit_at_1",
        "mrr_at_5",
        "fact_recall",
        "citation_accuracy",
        "abstention_accuracy",
    }
    assert set(thresholds["max"]) == {"false_abstention_rate"}

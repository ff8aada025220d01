"""``python -m evals --suites``: the manifest, skipping absent corpora, the tables and
summary (BELOW TARGET), the reports and the exit codes. Chains use the hashing fake."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.config import Settings
from evals.suites import ManifestError, Prepared, Suite, load_manifest, run_suites, summary_table
from evals.suites import suite_table as table
from tests.conftest import GUIDE, ROOT, HashingEmbeddings

PASSING = "[min]\nhit_at_1 = 0.0\n[max]\nfalse_abstention_rate = 1.0\n"
FAILING = "[min]\nabstention_accuracy = 1.01\n"  # no run can reach it
CHECK = [
    {
        "id": "cost",
        "question": "How much does the full CPT credential cost?",
        "answerable": True,
        "expected_facts": [["360"]],
        "evidence": ["$360"],
    },
    {"id": "na-dorms", "question": "Do you have dorms for students?", "answerable": False},
]


def write_manifest(tmp_path: Path, body: str, targets: str = "") -> Path:
    path = tmp_path / "suites.toml"
    path.write_text(targets + body)
    return path


def suite_toml(name: str = "s", corpus: str = '["corpus"]', thresholds: str = "t.toml") -> str:
    return (
        f'[[suite]]\nname = "{name}"\ntitle = "A suite"\ncorpus = {corpus}\n'
        f'check = "check.jsonl"\ntune = "tune.jsonl"\nthresholds = "{thresholds}"\n'
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root with a one-page corpus, two small datasets and a passing gate."""
    (tmp_path / "corpus").mkdir()
    shutil.copy(GUIDE, tmp_path / "corpus" / GUIDE.name)
    for name in ("check.jsonl", "tune.jsonl"):
        (tmp_path / name).write_text("".join(json.dumps(c) + "\n" for c in CHECK))
    (tmp_path / "t.toml").write_text(PASSING)
    (tmp_path / "fail.toml").write_text(FAILING)
    return tmp_path


def run(project: Path, manifest: Path, *only: str, **kw: object) -> int:
    settings = Settings(min_evidence=0.2, llm="")  # fake vectors: a lower evidence bar
    return run_suites(
        manifest,
        settings,
        list(only),
        reports_dir=project / "reports",
        junit_path=project / "j.xml",
        quiet=True,
        embeddings=kw.get("embeddings", HashingEmbeddings()),  # type: ignore[arg-type]
        root=project,
        indexes=project / "indexes",
    )


# --- the shipped manifest ---------------------------------------------------------------
def test_shipped_manifest_names_five_suites_with_issue_14_targets() -> None:
    manifest = load_manifest(ROOT / "evals" / "suites.toml")
    assert [s.name for s in manifest.suites] == [
        "cpt",
        "lbcc_ill",
        "cornell_cam",
        "cmu_15440",
        "cedar_ridge",
    ]
    cpt = manifest.suites[0]
    assert cpt.corpus == () and cpt.thresholds == "evals/thresholds/cpt.toml"
    assert manifest.targets == {
        "min": {
            "hit_at_1": 0.85,
            "fact_recall": 0.80,
            "citation_accuracy": 0.80,
            "abstention_accuracy": 0.75,
        },
        "max": {"false_abstention_rate": 0.08, "answer_words_p50": 60},
    }
    for suite in manifest.suites:
        assert (ROOT / suite.thresholds).is_file(), suite.thresholds
        assert (ROOT / suite.check).is_file() and (ROOT / suite.tune).is_file(), suite.name


# --- manifest errors: exit 2, the message names the file and what to fix ---------------------
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[suite]\n", "not valid TOML"),
        ("", "no suites; add at least one [[suite]]"),
        ('[[suite]]\nname = "a"\ntitle = "t"\n', "suite #1 (a): missing check, tune, thresholds"),
        (suite_toml().replace("tune =", "tuning ="), "missing tune"),
        (suite_toml() + 'colour = "red"\n', "unknown key(s) ['colour']"),
        (suite_toml(name="Bad Name"), "name must be lower-case"),
        (suite_toml() + suite_toml(), "suite #2: duplicate name 's'"),
        (suite_toml(corpus='"corpus"'), "corpus must be a list of paths"),
        (suite_toml(corpus="[]"), "corpus is empty"),
        ("[targets.min]\nhit_at_one = 0.8\n" + suite_toml(), "'hit_at_one' is not a metric"),
        ("[targets.max]\nanswer_words_p50 = 'x'\n" + suite_toml(), "must be a number"),
        ("[[suites]]\n", "unknown key(s) ['suites']"),
    ],
)
def test_a_broken_manifest_is_named_with_what_to_fix(
    project: Path, body: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(project, body)
    with pytest.raises(ManifestError, match=None) as err:
        load_manifest(manifest)
    assert str(manifest) in str(err.value) and message in str(err.value)
    assert run(project, manifest) == 2
    assert message in capsys.readouterr().err


def test_missing_manifest_unknown_only_and_broken_files_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, project / "nope.toml") == 2
    assert "nope.toml: manifest not found" in capsys.readouterr().err
    manifest = write_manifest(project, suite_toml())
    assert run(project, manifest, "other") == 2
    assert "--only other: no such suite; known: s" in capsys.readouterr().err
    (project / "tune.jsonl").write_text('{"id": "x", "question": "q"}\n')
    assert run(project, manifest) == 2
    err = capsys.readouterr().err
    assert "tune.jsonl:1: missing field 'answerable'" in err and "tune half of suite 's'" in err
    (project / "tune.jsonl").write_text((project / "check.jsonl").read_text())
    (project / "t.toml").write_text("[min]\nhit_at_1 = 'high'\n")
    assert run(project, manifest) == 2
    assert "t.toml: [min] hit_at_1 must be a number" in capsys.readouterr().err


# --- running -------------------------------------------------------------------------------
def test_a_suite_whose_corpus_is_absent_is_skipped_and_loads_no_model(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.index.embedding

    def no_model() -> None:
        raise AssertionError("the model must not load when every suite is skipped")

    monkeypatch.setattr(bot.index.embedding, "MiniLMEmbeddings", no_model)
    manifest = write_manifest(project, suite_toml(corpus='["../absent/page.html"]'))
    assert run(project, manifest, embeddings=None) == 0
    out = capsys.readouterr().out
    assert "SKIPPED: corpus absent: ../absent/page.html" in out
    summary = json.loads((project / "reports" / "summary.json").read_text())
    assert summary["suites"][0]["status"] == "skipped" and summary["passed"]
    skipped = ET.parse(project / "j.xml").getroot().find("testsuite/testcase/skipped")
    assert skipped is not None and "absent" in (skipped.get("message") or "")


def test_suites_run_in_one_process_and_write_every_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = "[targets.min]\nabstention_accuracy = 1.01\n"  # always BELOW TARGET
    body = suite_toml("one") + suite_toml("two") + suite_toml("gone", corpus='["nowhere"]')
    manifest = write_manifest(project, body, targets)
    embeddings = HashingEmbeddings()
    assert run(project, manifest, embeddings=embeddings) == 0  # targets never gate
    out = capsys.readouterr().out
    for name in ("one", "two"):
        for half in ("check", "tune"):
            report = json.loads((project / "reports" / f"{name}.{half}.json").read_text())
            assert {"dataset", "cases", "metrics", "thresholds", "passed", "results"} <= set(report)
            assert report["suite"] == name and report["half"] == half
            assert report["gating"] is (half == "check")
    assert "BELOW TARGET" in out and "SKIPPED" in out
    summary = json.loads((project / "reports" / "summary.json").read_text())
    assert [s["status"] for s in summary["suites"]] == ["passed", "passed", "skipped"]
    assert summary["suites"][0]["below_target"] == ["abstention_accuracy"]
    assert summary["suites"][0]["check"]["cases"] == len(CHECK)
    root = ET.parse(project / "j.xml").getroot()
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names[:3] == ["one.check", "one.tune", "one.check.thresholds"]
    assert len(root.findall("testsuite")[0].findall("testcase")) == len(CHECK)


def test_a_check_half_below_its_threshold_exits_1_and_the_tune_half_never_does(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(project, suite_toml("ok") + suite_toml("bad", thresholds="fail.toml"))
    assert run(project, manifest) == 1
    out = capsys.readouterr().out
    assert "FAILED: suite(s) bad miss a threshold" in out
    summary = json.loads((project / "reports" / "summary.json").read_text())
    assert [s["status"] for s in summary["suites"]] == ["passed", "failed"]
    assert summary["suites"][1]["tune"]["passed"] is False  # reported, not gating
    assert run(project, manifest, "ok") == 0  # --only leaves the failing suite out


# --- tables --------------------------------------------------------------------------------
def metrics(**values: float) -> dict[str, float]:
    from evals.runner import METRICS

    return {name: values.get(name, 0.9) for name in METRICS}


def test_tables_mark_metrics_below_target_and_threshold_failures() -> None:
    check = metrics(fact_recall=0.5, answer_words_p50=75.0, false_abstention_rate=0.02)
    reports = {"check": {"metrics": check}, "tune": {"metrics": metrics()}}
    suite = Suite("s", "t", "c.jsonl", "t.jsonl", "t.toml")
    prepared = Prepared(suite, {}, {"min": {"fact_recall": 0.6}, "max": {}})
    targets = {"min": {"fact_recall": 0.8, "hit_at_1": 0.85}, "max": {"answer_words_p50": 60.0}}
    lines = {line.split()[0]: line for line in table(prepared, reports, targets).splitlines()}
    assert lines["fact_recall"].endswith("FAIL, BELOW TARGET")
    assert (
        lines["answer_words_p50"].endswith("BELOW TARGET")
        and "<= 60.0" in lines["answer_words_p50"]
    )
    assert lines["hit_at_1"].rstrip().endswith(">= 0.850")  # meets its target: no mark
    row = {
        "name": "s",
        "status": "failed",
        "below_target": ["fact_recall", "answer_words_p50"],
        "check": {"cases": 10, "metrics": check},
    }
    summary = summary_table([row, {"name": "gone", "status": "skipped"}])
    assert "0.500*" in summary and "75.0*" in summary and "0.900*" not in summary
    assert "FAIL" in summary and "BELOW TARGET" in summary and "skipped" in summary

"""`python -m bot ask` with the real model, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GUIDE, ROOT


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    (root / "corpus").mkdir()
    (root / "corpus" / GUIDE.name).write_text(GUIDE.read_text())
    # the demo's site profile, read from beside the corpus as `make run` reads it
    profile = GUIDE.with_name("faqbot.toml")
    (root / "corpus" / profile.name).write_text(profile.read_text())
    env = {
        **os.environ,
        "FAQBOT_CORPUS_DIR": str(root / "corpus"),
        "FAQBOT_INDEX_DIR": str(root / "index"),
    }
    subprocess.run(
        [sys.executable, "ingest.py"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env


def ask(env: dict[str, str], question: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", question],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
def test_cost_question_is_answered_with_a_citation_quoting_the_range(
    cli_env: dict[str, str],
) -> None:
    run = ask(cli_env, "How much does the full CPT cost?")
    assert run.returncode == 0, run.stderr
    answer, _, sources = run.stdout.partition("Sources:")
    assert "$360-$480" in answer and "[1]" in answer
    assert (
        '"Full CPT (all four modules) through a typical training provider runs $360-$480' in sources
    )


@pytest.mark.integration
def test_passing_score_question_abstains(cli_env: dict[str, str]) -> None:
    run = ask(cli_env, "What is the passing score?")
    assert run.returncode == 0, run.stderr
    assert "can't find that in the CPT credential guide" in run.stdout
    assert "Sources:" not in run.stdout


@pytest.mark.integration
def test_a_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "FAQBOT_INDEX_DIR": str(tmp_path / "none")}
    run = ask(env, "What is CPT?")
    assert run.returncode == 1
    assert "Run `make ingest`" in run.stderr

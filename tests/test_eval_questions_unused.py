"""No eval question is copied into a test: the suites measure what the tests do not fit."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHORTEST = 16  # "what is ill?" may occur by chance; a copied question is longer


def eval_questions() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "evals" / "datasets").rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                found.add(case["question"].strip().lower())
                found |= {turn["content"].strip().lower() for turn in case.get("history", [])}
    return {q for q in found if len(q) >= SHORTEST}


def test_no_test_quotes_an_eval_question() -> None:
    questions = eval_questions()
    assert len(questions) > 400  # every suite was read
    copied = [
        (path.name, question)
        for path in (ROOT / "tests").rglob("*.py")
        for question in questions
        if question in path.read_text(encoding="utf-8").lower()
    ]
    assert copied == []

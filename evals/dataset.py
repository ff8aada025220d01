"""Load and validate eval datasets in the FORMAT.md JSON Lines format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DatasetError(Exception):
    """A dataset line is unusable; the message names the file, line and problem."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    answerable: bool
    history: list[dict[str, str]] = field(default_factory=list)
    expected_facts: list[list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def load_dataset(path: Path | str) -> list[Case]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(path, 0, "file not found") from None
    except UnicodeDecodeError:
        raise DatasetError(path, 0, "not UTF-8 text") from None
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, number, f"invalid JSON ({exc.msg})") from None
        case = _case(raw, lambda problem, n=number: DatasetError(path, n, problem))
        if case.id in seen:
            raise DatasetError(
                path, number, f"duplicate id {case.id!r} (first on line {seen[case.id]})"
            )
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise DatasetError(path, 0, "no cases")
    return cases


def _case(raw: Any, error: Any) -> Case:
    if not isinstance(raw, dict):
        raise error("each line must be a JSON object")
    for name, kind in (("id", str), ("question", str), ("answerable", bool)):
        if name not in raw:
            raise error(f"missing field {name!r}")
        if not isinstance(raw[name], kind):
            raise error(f"field {name!r} must be a {kind.__name__}")
    if not raw["id"].strip():
        raise error("empty id")
    history = raw.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(t, dict)
        and t.get("role") in ("user", "assistant")
        and isinstance(t.get("content"), str)
        for t in history
    ):
        raise error("history must be a list of {role: user|assistant, content: str}")
    facts = raw.get("expected_facts") or []
    evidence = raw.get("evidence") or []
    if raw["answerable"]:
        if not evidence or not all(isinstance(e, str) and e.strip() for e in evidence):
            raise error("answerable case needs non-empty evidence strings")
        if not isinstance(facts, list) or not all(
            isinstance(g, list) and g and all(isinstance(a, str) and a.strip() for a in g)
            for g in facts
        ):
            raise error("expected_facts must be a list of non-empty lists of strings")
    return Case(raw["id"], raw["question"], raw["answerable"], history, facts, evidence)

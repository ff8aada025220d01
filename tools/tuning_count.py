"""Count what is tuned by hand in the answer path: regexes, numbers and word lists.

``python -m tools.tuning_count [--json FILE] [MODULE ...]`` reads the modules' source (no
import) and counts, per module:

- regexes: ``re.compile``/``re.search``/... calls whose pattern is a literal;
- numbers: numeric literals other than 0, 1 and -1 (thresholds, weights, sizes);
- word lists: literal collections of three or more strings, and ``"..." .split()`` lists.

The README reports these figures before and after a change to the answer step.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

# Question analysis, retrieval scoring and answer composition: every stage a question
# passes through between the chat and the quoted answer.
ANSWER_PATH = (
    "bot/answer/question.py",
    "bot/index/text.py",
    "bot/answer/kinds.py",
    "bot/answer/retrieval.py",
    "bot/index/corpus_index.py",
    "bot/index/names.py",
    "bot/index/calibration.py",
    "bot/answer/extractive.py",
    "bot/answer/llm.py",
    "bot/compose.py",
    "bot/index/sentences.py",
    "bot/answer/chain.py",
    "bot/answer/reader.py",
)
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall"}


def count(source: str) -> dict[str, int]:
    tree = ast.parse(source)
    regexes = numbers = word_lists = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                isinstance(owner, ast.Name)
                and owner.id == "re"
                and node.func.attr in RE_FUNCTIONS
                and node.args
                and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            ):
                regexes += 1
            if (
                node.func.attr == "split"
                and isinstance(owner, ast.Constant)
                and isinstance(owner.value, str)
                and len(owner.value.split()) >= 3
            ):
                word_lists += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            if not isinstance(node.value, bool) and node.value not in (0, 1, -1):
                numbers += 1
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            strings = [
                e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
            if len(strings) >= 3 and len(strings) == len(node.elts):
                word_lists += 1
        elif isinstance(node, ast.Dict):
            keys = [
                k for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
            values = [
                v for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            ]
            if len(keys) >= 3 and len(values) == len(node.values):
                word_lists += 1
    return {"regexes": regexes, "numbers": numbers, "word_lists": word_lists}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.tuning_count", description=__doc__)
    parser.add_argument("modules", nargs="*", default=list(ANSWER_PATH))
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args(argv)
    per_module: dict[str, dict[str, int]] = {}
    for name in args.modules:
        path = Path(name)
        if path.exists():
            per_module[name] = count(path.read_text(encoding="utf-8"))
    total = {
        key: sum(c[key] for c in per_module.values())
        for key in ("regexes", "numbers", "word_lists")
    }
    width = max((len(n) for n in per_module), default=10)
    print(f"{'module':<{width}}  regexes  numbers  word lists")
    for name, c in [*per_module.items(), ("total", total)]:
        print(f"{name:<{width}}  {c['regexes']:>7}  {c['numbers']:>7}  {c['word_lists']:>10}")
    if args.json:
        args.json.write_text(json.dumps({"modules": per_module, "total": total}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU cost of one question, ordinary vs long: ``python -m benchmarks.question_cost [--quick]``.

A question may be up to 2,000 characters; one that costs a hundred times an ordinary one
lets a few users starve everyone else. Over a temporary index with the real model, each
question is asked once, new (no cached query vector, words never seen before), and the
CPU time of ``chain.ask`` (``time.process_time``: every thread of the process, the model's
included) is taken:

* ordinary: the gate set's single-turn questions;
* long, distinct made-up words: 2,000 characters of random letters in words;
* long, distinct English words: 2,000 characters of random words of the model's vocabulary;
* long, repeated words: a few made-up words repeated to 2,000 characters.

The kinds are interleaved through the run. The goal: the p50 of each long kind within
GOAL_RATIO times the ordinary p50.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmarks.common import (
    clear_query_cache,
    load_cases,
    part_main,
    percentile,
    ratio,
    real_embeddings,
    temp_index,
)

GOAL_RATIO = 5.0
LONG_CHARS = 2000
SEED = 12


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))


def long_question(next_word: Callable[[], str], chars: int = LONG_CHARS) -> str:
    """Words from ``next_word`` until the question is ``chars`` long, ending in '?'."""
    words: list[str] = []
    length = 0
    while length < chars - 1:
        words.append(next_word())
        length += len(words[-1]) + 1
    return (" ".join(words))[: chars - 1] + "?"


def distinct(rng: random.Random, pool: list[str] | None = None) -> Callable[[], str]:
    """Words never used before in this run: made up, or drawn from ``pool``."""
    seen: set[str] = set()

    def word() -> str:
        if pool and len(seen) >= len(set(pool)):
            raise ValueError("every word of the pool is used: a longer pool, or shorter questions")
        while True:
            found = rng.choice(pool) if pool else made_up_word(rng)
            if found not in seen:
                seen.add(found)
                return found

    return word


def cpu_ms(chain: Any, question: str) -> tuple[float, float]:
    """(CPU ms, wall ms) of one ask, with no cached query vectors."""
    clear_query_cache(chain.embeddings)
    cpu, wall = time.process_time(), time.perf_counter()
    chain.ask(question)
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def interleaved(sets: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(kind, question) with each kind spread evenly over the run, so that a machine busier
    at one time than another weighs on every kind alike."""
    spread = [
        ((i + 0.5) / len(questions), name, q)
        for name, questions in sets.items()
        for i, q in enumerate(questions)
    ]
    return [(name, q) for _, name, q in sorted(spread, key=lambda x: x[0])]


def figures(questions: list[str], taken: list[tuple[float, float]]) -> dict[str, Any]:
    cpu = [c for c, _ in taken]
    return {
        "n": len(questions),
        "chars_p50": percentile([float(len(q)) for q in questions], 0.5),
        "cpu_ms_p50": round(percentile(cpu, 0.5), 1),
        "cpu_ms_p95": round(percentile(cpu, 0.95), 1),
        "cpu_ms_max": round(max(cpu), 1),
        "wall_ms_p50": round(percentile([w for _, w in taken], 0.5), 1),
    }


def question_sets(chain: Any, quick: bool) -> dict[str, list[str]]:
    rng = random.Random(SEED)
    ordinary = [c.question for c in load_cases() if not c.history][: 8 if quick else 60]
    n = 3 if quick else 15
    index = chain.retriever.index
    english = sorted(w for w in index.known_words if len(w) > 2 and w not in index.vocabulary)
    made_up, real = distinct(rng), distinct(rng, english)
    repeated = [long_question(partial(rng.choice, [made_up() for _ in range(4)])) for _ in range(n)]
    return {
        "ordinary": ordinary,
        "long_made_up_words": [long_question(made_up) for _ in range(n)],
        "long_english_words": [long_question(real) for _ in range(n)] if english else [],
        "long_repeated_words": repeated,
    }


def run(quick: bool = False) -> dict[str, Any]:
    from bot.answer.chain import FaqChain
    from bot.ingest.pipeline import ingest

    tmp = temp_index(prefix="bench-cost-")
    try:
        embeddings = real_embeddings()
        ingest(tmp.settings, embeddings)
        chain = FaqChain(tmp.settings, embeddings)
        for warm in ("How much does the full CPT cost?", "wat is the saftey modul about?"):
            chain.ask(warm)
        sets = {name: qs for name, qs in question_sets(chain, quick).items() if qs}
        taken: dict[str, list[tuple[float, float]]] = {name: [] for name in sets}
        for name, question in interleaved(sets):
            taken[name].append(cpu_ms(chain, question))
        result: dict[str, Any] = {"goal_ratio": GOAL_RATIO}
        for name, questions in sets.items():
            result[name] = figures(questions, taken[name])
        base = result["ordinary"]["cpu_ms_p50"]
        ratios = {
            name: ratio(result[name]["cpu_ms_p50"], base)
            for name in sets
            if name != "ordinary" and name in result
        }
        result["ratio_p50_vs_ordinary"] = ratios
        result["goal_met"] = all(r is not None and r <= GOAL_RATIO for r in ratios.values())
        return result
    finally:
        tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "8 ordinary and 3 of each long kind", argv, "question-cost.json")


if __name__ == "__main__":
    raise SystemExit(main())

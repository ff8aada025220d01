"""Part 2: cold start, from process start to the first answer, in fresh processes.

Each run is a new Python process that prints the wall clock at each milestone: interpreter
up, ``import bot`` done, ``bot.answer.chain`` imported, the chain loaded (model, index, BM25,
related-word table), the first answer. The parent notes the clock just before it starts
the process, so "process start" includes the interpreter itself. A bare ``python -c pass``
is the floor. The index is a temporary one, built before the runs.

    python -m benchmarks.cold_start [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import ROOT, part_main, real_embeddings, temp_index

GOAL_SECONDS = 8.0
HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "onnxruntime",
    "chromadb",
    "gradio",
    "langchain_chroma",
    "rank_bm25",
    "numpy",
)
CHILD = r"""
import json, sys, time
def mark(name, **extra):
    print(json.dumps({"mark": name, "t": time.time(), **extra}), flush=True)
mark("python")
import bot
mark("import_bot", heavy=[m for m in HEAVY if m in sys.modules])
from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.index.embedding import MiniLMEmbeddings
mark("import_chain")
settings = Settings(corpus_dir=CORPUS, index_dir=INDEX, data_dir=DATA)
embeddings = MiniLMEmbeddings(backend=BACKEND)
chain = FaqChain.from_settings(settings, embeddings=embeddings)
mark("loaded", backend=embeddings.backend)
answer = chain.ask("How much does the full CPT cost?")
mark("answered", abstained=answer.abstained)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    return env


def one_run(settings: Any, backend: str, timeout: float = 180.0) -> dict[str, Any]:
    code = (
        f"HEAVY = {list(HEAVY)!r}\nCORPUS = {str(settings.corpus_dir)!r}\n"
        f"INDEX = {str(settings.index_dir)!r}\nDATA = {str(settings.data_dir)!r}\n"
        f"BACKEND = {backend!r}\n" + CHILD
    )
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(),
        check=False,
    )
    end = time.time()
    marks = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            marks[item.pop("mark")] = item
    if proc.returncode != 0 or "answered" not in marks:
        raise RuntimeError(f"cold-start child failed ({proc.returncode}): {proc.stderr[-800:]}")
    t = {name: m["t"] - start for name, m in marks.items()}
    return {
        "interpreter_s": round(t["python"], 3),
        "import_bot_s": round(t["import_bot"] - t["python"], 3),
        "import_chain_s": round(t["import_chain"] - t["import_bot"], 3),
        "load_chain_s": round(t["loaded"] - t["import_chain"], 3),
        "first_answer_s": round(t["answered"] - t["loaded"], 3),
        "start_to_first_answer_s": round(t["answered"], 3),
        "process_exit_s": round(end - start, 3),
        "heavy_after_import_bot": marks["import_bot"].get("heavy", []),
        "backend": marks["loaded"].get("backend"),
    }


def bare_python() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.time() - start


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, int | float):
            out[key] = round(statistics.median(r[key] for r in runs), 3)
        else:
            out[key] = value
    return out


def run(quick: bool = False, backends: tuple[str, ...] | None = None) -> dict[str, Any]:
    from bot.ingest.pipeline import ingest

    backends = backends or (("auto",) if quick else ("auto", "torch"))
    tmp = temp_index(prefix="bench-cold-")
    try:
        ingest(tmp.settings, real_embeddings())
        floor = statistics.median(bare_python() for _ in range(3))
        result: dict[str, Any] = {"python_floor_s": round(floor, 3), "goal_s": GOAL_SECONDS}
        for backend in backends:
            # The torch runs are the "before" of the ONNX change: two are enough.
            repeats = 1 if quick else (3 if backend != "torch" else 2)
            runs = [one_run(tmp.settings, backend) for _ in range(repeats)]
            summary = _median(runs)
            summary["runs"] = [r["start_to_first_answer_s"] for r in runs]
            summary["goal_met"] = summary["start_to_first_answer_s"] <= GOAL_SECONDS
            result[backend] = summary
    finally:
        tmp.cleanup()
    return result


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "one run, default backend only", argv)


if __name__ == "__main__":
    raise SystemExit(main())

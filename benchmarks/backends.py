"""The embedding-backend experiment: torch vs ONNX vs ONNX int8, and thread counts.

For each variant: single-question embedding latency (the eval questions, no cache; the
variants take turns question by question so machine load hits all alike), agreement of
its vectors with torch's, and the full eval (cpt_faq.jsonl) on an index ingested with that
same variant, with the number of answers that differ from torch's.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, whose only release
requires transformers<4.58 while sentence-transformers 6 needs transformers>=5, so it cannot
be installed next to it. The ONNX variants here are the same graph exported by
``bot.index.embedding.export_onnx`` (torch.onnx) and run by ONNX Runtime; int8 is ONNX Runtime's
dynamic quantization of that export (what ``export_dynamic_quantized_onnx_model`` does).

    python -m benchmarks.backends [--quick]
"""

from __future__ import annotations

import importlib.util
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.common import load_cases, part_main, ratio, summary_ms, temp_index, timed_ms

ST_ONNX_NOTE = (
    "sentence-transformers backend='onnx' needs optimum-onnx; its only release (0.1.0) pins "
    "transformers<4.58, sentence-transformers 6 needs transformers>=5: not installable here"
)


def _onnx_embeddings(path: Path | None, threads: int) -> Any:
    from bot.index.embedding import MiniLMEmbeddings, OnnxEncoder, model_dir, onnx_model_path

    embeddings = MiniLMEmbeddings(backend="onnx")
    embeddings._encoder()  # exports once if needed
    if path is not None or threads:
        embeddings._onnx = OnnxEncoder(path or onnx_model_path(), model_dir(), threads=threads)
    return embeddings


def quantize_int8(directory: Path) -> Path | None:
    """ONNX Runtime dynamic int8 quantization of the fp32 export; None without ``onnx``."""
    if importlib.util.find_spec("onnx") is None:
        return None
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bot.index.embedding import onnx_model_path

    target = directory / "model-int8.onnx"
    quantize_dynamic(str(onnx_model_path()), str(target), weight_type=QuantType.QInt8)
    return target


def eval_with(embeddings: Any, cases: list[Any]) -> tuple[dict[str, float], list[str]]:
    from bot.answer.chain import FaqChain
    from bot.ingest.pipeline import ingest
    from evals.metrics import compute_metrics
    from evals.runner import run_cases

    tmp = temp_index(prefix="bench-backend-")
    try:
        ingest(tmp.settings, embeddings)
        chain = FaqChain(tmp.settings, embeddings)
        outcomes = run_cases(chain, cases, 5)
    finally:
        tmp.cleanup()
    metrics = compute_metrics(outcomes, 5)
    keep = ("hit_at_1", "hit_at_5", "mrr_at_5", "fact_recall", "citation_accuracy",
            "abstention_accuracy", "false_abstention_rate")  # fmt: skip
    return {k: round(metrics[k], 4) for k in keep}, [o.answer for o in outcomes]


def run(quick: bool = False) -> dict[str, Any]:
    import numpy as np
    import torch

    from bot.index.embedding import MiniLMEmbeddings

    cases = load_cases(limit=12 if quick else None)
    questions = [c.question for c in cases]
    workdir = Path(tempfile.mkdtemp(prefix="bench-int8-"))
    int8 = quantize_int8(workdir)
    torch_emb = MiniLMEmbeddings(backend="torch")
    variants: dict[str, Any] = {
        "torch (2 threads)": (torch_emb, 2),
        "torch (1 thread)": (torch_emb, 1),
        "onnx fp32 (2 threads)": (_onnx_embeddings(None, 2), 0),
        "onnx fp32 (1 thread)": (_onnx_embeddings(None, 1), 0),
    }
    if int8 is not None:
        variants["onnx int8 (2 threads)"] = (_onnx_embeddings(int8, 2), 0)
    default_threads = torch.get_num_threads()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for emb, threads in variants.values():  # warm-up
        if threads:
            torch.set_num_threads(threads)
        emb.embed_documents(questions[:3])
    for q in questions:
        for name, (emb, threads) in variants.items():
            if threads:
                torch.set_num_threads(threads)
            times[name].append(timed_ms(partial(emb.embed_documents, [q]))[0])
    torch.set_num_threads(default_threads)

    reference = np.asarray(torch_emb.embed_documents(questions))
    out: dict[str, Any] = {"st_onnx_backend": ST_ONNX_NOTE, "query_embedding_ms": {}}
    base = summary_ms(times["torch (2 threads)"])["p50"]
    for name, values in times.items():
        emb = variants[name][0]
        vectors = np.asarray(emb.embed_documents(questions))
        cos = (vectors * reference).sum(axis=1)
        out["query_embedding_ms"][name] = {
            **summary_ms(values),
            "speedup_vs_torch_p50": ratio(base, summary_ms(values)["p50"]),
            "max_abs_diff_vs_torch": float(np.abs(vectors - reference).max()),
            "min_cosine_vs_torch": round(float(cos.min()), 6),
        }

    evals: dict[str, Any] = {}
    torch_metrics, torch_answers = eval_with(torch_emb, cases)
    evals["torch"] = {"metrics": torch_metrics, "answers_differing_from_torch": 0}
    fp32 = variants["onnx fp32 (2 threads)"][0]
    eval_variants = [("onnx fp32", fp32)]
    if int8 is not None:
        eval_variants.append(("onnx int8", variants["onnx int8 (2 threads)"][0]))
    for name, emb in eval_variants:
        emb.cache_clear()
        metrics, answers = eval_with(emb, cases)
        differ = sum(a != b for a, b in zip(answers, torch_answers, strict=True))
        evals[name] = {
            "metrics": metrics,
            "answers_differing_from_torch": differ,
            "metrics_equal_to_torch": metrics == torch_metrics,
        }
    out["evals"] = evals
    out["questions"] = len(cases)
    out["int8"] = "measured" if int8 is not None else "skipped: the onnx package is missing"
    return out


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "12 questions", argv)


if __name__ == "__main__":
    raise SystemExit(main())

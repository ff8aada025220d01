"""Part 3: ingest time and index size for the corpus x1, x10, x100, and unchanged re-ingest.

x1 is the guide (16.5 kB of text). A larger size is a fictional college's web pages from
``benchmarks.site_gen`` holding about that many guides of distinct page text (x10: 93 pages,
x100: 928 pages, 1.6 MB), so every chunk and sentence is new text that must be embedded:
copies of the guide would now be ingested as one document. Rates are per text embedded and
per MB of text indexed (``text_bytes``: the pages' own text, menus and footers left out).
Each size is ingested into an empty temporary index, then ingested again unchanged (which
must only hash the files and read the manifest). If the x10 rate says the largest size would
not fit the time budget, the largest size actually measured is smaller and labelled so, with
the x100 figure extrapolated and labelled as such.

    python -m benchmarks.ingest_scaling [--quick] [--sizes 1,10,100] [--budget 300]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks.common import dir_bytes, real_embeddings, temp_index, text_bytes

SIZES = (1, 10, 100)
UNCHANGED_GOAL_S = 1.0
BATCH_SIZES = (1, 16, 64, 128)
ESTIMATE_MARGIN = 1.25


def ingest_once(copies: int, embeddings: Any) -> dict[str, Any]:
    from bot.ingest.pipeline import ingest

    tmp = temp_index(copies=copies, prefix=f"bench-x{copies}-")
    try:
        indexed_bytes, documents = text_bytes(tmp.settings)
        started = time.perf_counter()
        result = ingest(tmp.settings, embeddings)
        seconds = time.perf_counter() - started
        size = dir_bytes(tmp.settings.index_dir)
        unchanged = []
        for _ in range(3):
            started = time.perf_counter()
            again = ingest(tmp.settings, embeddings)
            unchanged.append(time.perf_counter() - started)
            assert not again.changed, "an unchanged corpus was ingested again"
        corpus_bytes = dir_bytes(tmp.settings.corpus_dir)
    finally:
        tmp.cleanup()
    texts = result.texts
    return {
        "copies": copies,
        "files": result.files,
        "documents": documents,
        "corpus_bytes": corpus_bytes,
        "text_bytes": indexed_bytes,
        "chunks": result.chunks,
        "sentences": result.sentences,
        "texts": texts,
        "embedded_texts": result.embedded,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(result.chunks / seconds, 1),
        "texts_per_s": round(texts / seconds, 1),
        "seconds_per_mb": round(seconds / max(indexed_bytes / 1e6, 1e-9), 1),
        "index_bytes": size,
        "index_bytes_per_chunk": round(size / max(result.chunks, 1)),
        "unchanged_reingest_s": round(min(unchanged), 4),
        "unchanged_reingest_max_s": round(max(unchanged), 4),
    }


def linear_fit(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least squares y = a + b x and R² (x: chunks, y: seconds)."""
    n = len(points)
    if n < 2:
        return {}
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx if sxx else 0.0
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for _, y in points)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return {
        "seconds_per_1000_chunks": round(slope * 1000, 2),
        "intercept_s": round(intercept, 2),
        "r2": round(1 - ss_res / ss_tot, 4) if ss_tot else 1.0,
    }


def batch_sweep(embeddings: Any, texts: list[str]) -> dict[str, float]:
    """Texts/s of embed_documents at several batch sizes, on the same texts."""
    out = {}
    original = getattr(embeddings, "batch_size", None)
    if original is None:
        return {}
    try:
        embeddings.embed_documents(texts[:8])  # warm-up
        for size in BATCH_SIZES:
            embeddings.batch_size = size
            started = time.perf_counter()
            embeddings.embed_documents(texts)
            out[str(size)] = round(len(texts) / (time.perf_counter() - started), 1)
    finally:
        embeddings.batch_size = original
    return out


def sample_texts() -> list[str]:
    from benchmarks.common import GUIDE
    from bot.ingest.chunking import chunk_document
    from bot.ingest.pipeline import stored_sentences

    chunks = chunk_document(GUIDE.read_text(encoding="utf-8"), GUIDE.name, 1000)
    return [c.embed_text for c in chunks] + [s.embed_text for s in stored_sentences(chunks)]


def run(
    embeddings: Any = None,
    quick: bool = False,
    sizes: tuple[int, ...] | None = None,
    budget_s: float = 0.0,
    sweep: bool = False,
) -> dict[str, Any]:
    """``budget_s``: seconds this part may take in all (0: no limit); a size whose linear
    estimate (with a margin, as other processes may slow this one) would overrun it is
    replaced by the largest that fits, and extrapolated."""
    embeddings = embeddings or real_embeddings()
    sizes = sizes or ((1, 2) if quick else SIZES)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    started = time.perf_counter()
    for copies in sorted(sizes):
        planned = copies
        left = budget_s - (time.perf_counter() - started)
        if rows and budget_s:
            last = rows[-1]
            estimate = last["seconds"] * copies / last["copies"] * ESTIMATE_MARGIN
            if estimate > left:
                fits = left / ESTIMATE_MARGIN / last["seconds"] * last["copies"]
                copies = max(last["copies"] + 1, int(fits))
                notes.append(
                    f"x{planned} would take about {estimate:.0f} s here (linear from "
                    f"x{last['copies']}, +{ESTIMATE_MARGIN - 1:.0%} margin), over the "
                    f"{left:.0f} s left of the budget: measured x{copies} instead; the "
                    f"x{planned} row is extrapolated from it"
                )
        row = ingest_once(copies, embeddings)
        rows.append(row)
        if copies != planned:
            rows.append(extrapolate(row, planned))
    measured = [r for r in rows if not r.get("extrapolated")]
    fit = linear_fit([(r["chunks"], r["seconds"]) for r in measured])
    first = measured[0]
    per_chunk = [r["seconds"] / r["chunks"] for r in measured]
    return {
        "rows": rows,
        "linear_fit": fit,
        "seconds_per_chunk_ratio_largest_vs_x1": round(per_chunk[-1] / per_chunk[0], 2),
        "index_bytes_per_chunk_ratio_largest_vs_x1": round(
            measured[-1]["index_bytes_per_chunk"] / first["index_bytes_per_chunk"], 2
        ),
        "unchanged_goal_s": UNCHANGED_GOAL_S,
        "unchanged_goal_met": all(r["unchanged_reingest_s"] <= UNCHANGED_GOAL_S for r in measured),
        "embed_batch_texts_per_s": (
            batch_sweep(embeddings, sample_texts()[: 40 if quick else 400]) if sweep else None
        ),
        "notes": notes,
    }


def extrapolate(row: dict[str, Any], copies: int) -> dict[str, Any]:
    scale = copies / row["copies"]
    return {
        "copies": copies,
        "extrapolated": True,
        "chunks": round(row["chunks"] * scale),
        "sentences": round(row["sentences"] * scale),
        "text_bytes": round(row["text_bytes"] * scale),
        "seconds": round(row["seconds"] * scale, 1),
        "chunks_per_s": row["chunks_per_s"],
        "index_bytes": round(row["index_bytes"] * scale),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="x1 and x2 only")
    parser.add_argument("--sizes", default="", help="comma-separated copies, e.g. 1,10,100")
    parser.add_argument("--budget", type=float, default=0.0, help="seconds in all (0: any)")
    parser.add_argument("--sweep", action="store_true", help="also texts/s by batch size")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip()) or None
    result = run(quick=args.quick, sizes=sizes, budget_s=args.budget, sweep=args.sweep)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

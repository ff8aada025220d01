"""A whole college site: ``python -m bot.ingest`` on 1,000 generated pages, timed.

The site (``benchmarks.site_gen``: 1,000 pages, 5 PDFs, ~3.4 MB of visible text) is served on
loopback (``benchmarks.site_server``) and ingested by its sitemap, then the same pages are
ingested as a corpus folder. Each way three runs, each a separate ``python -m bot.ingest``
process over a fresh temporary index (so its peak RSS is the ingest's own, from
``os.wait4``): the first ingest, a re-ingest with nothing changed, and one after ten pages
changed (new text, new ``lastmod``, so a new ETag). Chunks and sentences come from the index
manifest. Budgets (issue #25): first ≤ 300 s, unchanged ≤ 30 s, ten changed ≤ 20 s, RSS ≤
1.5 GB. ``--old PATH`` runs the ingest from another checkout (``/work/old``: the code before
the issue) and writes ``site-old.json``; a later run shows those figures beside its own.

    python -m benchmarks.site [--quick] [--pages N] [--modes sitemap,corpus] [--first-only]
                              [--old PATH] [--timeout S] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, ROOT, save_result
from benchmarks.site_gen import SiteInfo, change_pages, generate_site
from benchmarks.site_server import serve_site

BUDGETS = {"first": 300.0, "unchanged": 30.0, "changed": 20.0}
RSS_BUDGET_MB = 1536.0
STEPS = ("first", "unchanged", "changed")
MODES = ("sitemap", "corpus")
CHANGED_PAGES = 10
OLD_RESULTS = RESULTS / "site-old.json"


def _env(root: Path, corpus: Path, pages: int, timeout: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env.pop("PYTHONPATH", None)  # the checkout in cwd decides which bot/ runs
    return {
        **env,
        "FAQBOT_CORPUS_DIR": str(corpus),
        "FAQBOT_INDEX_DIR": str(root / "index"),
        "FAQBOT_DATA_DIR": str(root / "data"),
        "FAQBOT_FETCH_ALLOW_PRIVATE": "1",
        "FAQBOT_FETCH_MAX_PAGES": str(2 * pages + 100),
        "FAQBOT_FETCH_BUDGET": str(max(600.0, timeout)),
    }


def _progress_seen(stderr: str) -> str:
    """The last progress line an ingest printed (tqdm redraws with carriage returns)."""
    lines = [x.strip() for x in re.split(r"[\r\n]", stderr) if x.strip()]
    return lines[-1][:200] if lines else ""


def ingest_process(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float, logs: Path
) -> dict[str, Any]:
    """Run ``python -m bot.ingest ARGS`` and measure it: seconds, peak RSS (its own, from
    the kernel's accounting of that child), exit code, the summary it printed."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.ingest", *args], cwd=cwd, env=env, stdout=out, stderr=err
        )
        deadline = started + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline and not timed_out:
                timed_out = True
                proc.kill()
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    row: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        "exit_code": proc.returncode,
        "summary": stdout.strip()[-2000:],
    }
    if timed_out:
        row["timed_out"] = f"> {timeout / 60:.0f} min"
        row["progress_at_timeout"] = _progress_seen(stderr)
    elif proc.returncode != 0:
        row["stderr"] = stderr.strip()[-2000:]
    return row


def _manifest(index_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"chunks": data.get("chunks"), "sentences": data.get("sentences"),
            "documents": len(data.get("files", {}))}  # fmt: skip


# What an ingest of the code in cwd would index, without embedding anything: fetch the
# sitemap, load and chunk the pages (the functions of the code before issue #25).
COUNT_SCRIPT = """
import json, sys
from bot.config import Settings
from bot.ingest.corpus import web_documents
from bot.ingest.pipeline import _fetch, chunk_corpus, stored_sentences
settings = Settings.from_env()
pages, _ = _fetch([], [sys.argv[1]], settings, None)
docs, _ = web_documents(pages, settings.max_file_bytes)
chunks = chunk_corpus(docs, settings.chunk_chars)
pieces = stored_sentences(chunks)
texts = {c.embed_text for c in chunks} | {s.embed_text for s in pieces}
print(json.dumps({"documents": len(docs), "chunks": len(chunks),
                  "sentences": sum(s.piece == 0 for s in pieces), "texts": len(texts)}))
"""


def count_only(pages: int, code: Path) -> dict[str, Any]:
    """Documents, chunks, sentences and distinct texts the code in ``code`` would index
    from the site's sitemap (no embedding: minutes less than an ingest)."""
    root = Path(tempfile.mkdtemp(prefix="bench-site-count-"))
    try:
        info = generate_site(root / "site", pages=pages)
        (root / "empty-corpus").mkdir()
        env = _env(root, root / "empty-corpus", pages, 600.0)
        with serve_site(root / "site") as site:
            done = subprocess.run(
                [sys.executable, "-c", COUNT_SCRIPT, f"{site.base}/sitemap.xml"],
                cwd=code, env=env, capture_output=True, text=True, timeout=1800, check=True,
            )  # fmt: skip
        return {"pages": info.pages, **json.loads(done.stdout.strip().splitlines()[-1])}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_mode(
    mode: str, pages: int, code: Path, timeout: float, first_only: bool, keep: Path | None = None
) -> dict[str, Any]:
    """The three ingests of one way in (``sitemap`` or ``corpus``) with the code in ``code``."""
    root = Path(tempfile.mkdtemp(prefix=f"bench-site-{mode}-"))
    try:
        site_dir = root / ("corpus" if mode == "corpus" else "site")
        info: SiteInfo = generate_site(site_dir, pages=pages, corpus=mode == "corpus")
        corpus = site_dir if mode == "corpus" else root / "empty-corpus"
        corpus.mkdir(exist_ok=True)
        env = _env(root, corpus, pages, timeout)
        out: dict[str, Any] = {"pages": info.pages, "pdfs": info.pdfs,
                               "visible_mb": round(info.visible_bytes / 1e6, 2),
                               "html_mb": round(info.html_bytes / 1e6, 2)}  # fmt: skip
        serving = serve_site(site_dir) if mode == "sitemap" else nullcontext(None)
        with serving as site:
            args = ["--sitemap", f"{site.base}/sitemap.xml"] if site else []
            for step in STEPS[:1] if first_only else STEPS:
                if step == "changed":
                    out["changed_paths"] = change_pages(info, CHANGED_PAGES)
                if site:
                    site.statuses.clear()
                print(f"[site] {mode}: {step} ingest...", file=sys.stderr, flush=True)
                row = ingest_process(args, env, code, timeout, root / "logs" / step)
                row.update(_manifest(root / "index"))
                if site:
                    row["http"] = {str(k): v for k, v in sorted(site.statuses.items())}
                row["budget_s"] = BUDGETS[step]
                row["met"] = (row["exit_code"] == 0 and row["seconds"] <= BUDGETS[step]
                              and row["peak_rss_mb"] <= RSS_BUDGET_MB)  # fmt: skip
                out[step] = row
                print(f"[site] {mode}: {step} {row['seconds']:.1f} s, "
                      f"{row['peak_rss_mb']:.0f} MB, {row.get('chunks')} chunks",
                      file=sys.stderr, flush=True)  # fmt: skip
                if row["exit_code"] != 0:
                    break  # the later steps would measure nothing
        if keep is not None:
            shutil.copytree(root / "logs", keep / mode, dirs_exist_ok=True)
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(
    quick: bool = False,
    pages: int | None = None,
    old: Path | None = None,
    modes: tuple[str, ...] = MODES,
    first_only: bool = False,
    timeout: float = 2400.0,
) -> dict[str, Any]:
    """Every mode's three ingests; ``old``: the checkout whose ``bot/`` runs instead."""
    pages = pages or (100 if quick else 1000)
    code = (old or ROOT).resolve()
    result: dict[str, Any] = {"code": str(code), "pages": pages,
                              "budgets": {**BUDGETS, "rss_mb": RSS_BUDGET_MB}}  # fmt: skip
    for mode in modes:
        result[mode] = run_mode(mode, pages, code, timeout, first_only)
    if old is None and OLD_RESULTS.exists():
        before = json.loads(OLD_RESULTS.read_text(encoding="utf-8"))
        before = before.get("result", before)
        if before.get("pages") == pages:  # the old figures only beside the same site
            result["old"] = before
    return result


def _cell(row: dict[str, Any] | None, key: str) -> str:
    if not row or key not in row:
        return "-"
    if key == "seconds" and row.get("timed_out"):
        return row["timed_out"]
    value = row[key]
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}" if value else "-"


def table(result: dict[str, Any]) -> str:
    """One line per mode and step: seconds, RSS, chunks, the old figures, the budget."""
    old = result.get("old") or {}
    head = ("mode", "step", "seconds", "budget", "met", "peak RSS MB", "chunks", "sentences",
            "HTTP", "old seconds", "old chunks")  # fmt: skip
    lines = [head]
    for mode in MODES:
        for step in STEPS:
            row = (result.get(mode) or {}).get(step)
            if not row:
                continue
            before = (old.get(mode) or {}).get(step)
            http = " ".join(f"{k}×{v}" for k, v in (row.get("http") or {}).items())
            lines.append((mode, step, _cell(row, "seconds"), f"{BUDGETS[step]:.0f}",
                          "met" if row.get("met") else "MISSED", _cell(row, "peak_rss_mb"),
                          _cell(row, "chunks"), _cell(row, "sentences"), http or "-",
                          _cell(before, "seconds"), _cell(before, "chunks")))  # fmt: skip
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in lines)  # fmt: skip


def bench_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(part, measure, value, reference, goal) rows for ``python -m benchmarks``' table."""
    old = result.get("old") or {}
    out = []
    for mode in MODES:
        for step in STEPS:
            row = (result.get(mode) or {}).get(step)
            if not row:
                continue
            before = (old.get(mode) or {}).get(step)
            was = f"old: {_cell(before, 'seconds')} s, {_cell(before, 'chunks')} chunks"
            out.append((
                "site", f"{mode} {step}: {_cell(row, 'chunks')} chunks",
                f"{_cell(row, 'seconds')} s, {_cell(row, 'peak_rss_mb')} MB",
                was if before else "",
                f"<= {BUDGETS[step]:.0f} s, {RSS_BUDGET_MB:.0f} MB: "
                + ("met" if row.get("met") else "MISSED"),
            ))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 pages")
    parser.add_argument("--pages", type=int, default=None)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--first-only", action="store_true", help="only the first ingest")
    parser.add_argument("--old", type=Path, default=None, help="run the bot/ of this checkout")
    parser.add_argument("--timeout", type=float, default=2400.0, help="seconds per ingest")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--count-only", action="store_true",
        help="only count what the sitemap ingest would index (chunks, sentences), no embedding",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.count_only:
        counts = count_only(args.pages or (100 if args.quick else 1000), args.old or ROOT)
        print(json.dumps(counts))
        return 0
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    result = run(args.quick, args.pages, args.old, modes, args.first_only, args.timeout)
    print(table(result))
    out = args.out or (None if args.quick else OLD_RESULTS if args.old else RESULTS / "site.json")
    if out is not None:
        save_result(result, out)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

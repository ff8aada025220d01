"""Shared helpers: machine info, percentiles, temporary indexes, scaled corpora, RSS."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "corpus" / "cpt-credential-guide.txt"
DATASET = ROOT / "evals" / "datasets" / "cpt_faq.jsonl"
RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = os.environ.get("FAQBOT_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium phones home, which a closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
LIBRARIES = (
    "torch",
    "onnxruntime",
    "onnx",
    "chromadb",
    "sentence-transformers",
    "transformers",
    "tokenizers",
    "gradio",
    "langchain-core",
    "langchain-chroma",
    "langchain-text-splitters",
    "rank-bm25",
    "numpy",
)


# ----------------------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    mem_kb = meminfo_kb("MemTotal")
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": versions,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def meminfo_kb(field: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_status_kb(pid: int | str, field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of a process, in kB, from /proc; 0 if unknown."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


# ----------------------------------------------------------------------------- stats
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


def summary_ms(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50": round(percentile(values_ms, 0.5), 3),
        "p95": round(percentile(values_ms, 0.95), 3),
        "mean": round(statistics.fmean(values_ms), 3) if values_ms else 0.0,
    }


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def timed_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


# ----------------------------------------------------------------------------- corpora
# Page text a generated site page keeps once its menus and footers are out (measured on
# 93-928 pages of ``site_gen``: 1.78-1.82 kB; a 19-page site has 1.3 kB a page), so x10 and
# x100 hold about 10 and 100 guides of distinct text.
SITE_PAGE_TEXT_BYTES = 1780


def site_pages_for(copies: int, guide: Path = GUIDE) -> int:
    """Pages of the generated site holding about ``copies`` guides' worth of page text."""
    return max(5, round(copies * guide.stat().st_size / SITE_PAGE_TEXT_BYTES))


def write_corpus(directory: Path, copies: int, guide: Path = GUIDE) -> Path:
    """x1 is the guide; a larger size is a fictional college's pages (``site_gen``) with
    about ``copies`` times its text, all distinct: copies of one text would be ingested as
    one document (``bot.ingest.boilerplate``), so they would measure nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    if copies <= 1:
        shutil.copy(guide, directory / guide.name)
        return directory
    from benchmarks.site_gen import generate_site

    generate_site(directory, site_pages_for(copies, guide), seed=7, corpus=True)
    return directory


def text_bytes(settings: Settings) -> tuple[int, int]:
    """(UTF-8 bytes of text, documents) an ingest indexes from the corpus folder: what the
    loaders read, less the site's boilerplate and duplicate pages."""
    from bot.ingest.boilerplate import site_documents
    from bot.ingest.corpus import corpus_documents, scan_corpus

    limit = settings.max_file_bytes
    documents, _ = corpus_documents(scan_corpus(settings.corpus_dir, limit), limit)
    kept = site_documents(documents).documents
    return sum(len(d.text.encode()) for d in kept), len(kept)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


@dataclass
class TempIndex:
    """A throwaway corpus + index: benchmarks never touch the user's .faqbot/."""

    root: Path
    settings: Settings

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def temp_index(copies: int = 1, prefix: str = "bench-", **changes: Any) -> TempIndex:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    corpus = write_corpus(root / "corpus", copies)
    settings = Settings(
        corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data", **changes
    )
    return TempIndex(root, settings)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_cases(dataset: Path = DATASET, limit: int | None = None) -> list[Any]:
    from evals.dataset import load_dataset

    cases = load_dataset(dataset)
    return cases[:limit] if limit else cases


def real_embeddings(backend: str = "auto") -> Any:
    from bot.index.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings(backend=backend)


def clear_query_cache(embeddings: Any) -> None:
    clear = getattr(embeddings, "cache_clear", None)
    if clear is not None:
        clear()
    elif hasattr(embeddings, "_cache"):
        embeddings._cache.clear()


def part_main(
    run: Any,
    doc: str | None,
    quick_help: str,
    argv: list[str] | None = None,
    result_file: str | None = None,
) -> int:
    """The command line every part shares: ``python -m benchmarks.PART [--quick]``.
    A full run of a part run on its own is kept in ``benchmarks/results/RESULT_FILE``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    print(json.dumps(result, indent=2))
    if result_file and not args.quick:
        save_result(result, RESULTS / result_file)
    return 0


def save_result(result: dict[str, Any], path: Path) -> None:
    """A part's figures with the machine they were taken on, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine_info(), "result": result}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


@contextmanager
def served_app(prefix: str, **env_changes: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``app.py`` as served, on a free loopback port over a fresh index of the guide, with
    the per-client limits lifted (every benchmark client shares one address). Yields its
    URL and process; stops it and removes the index afterwards. ``env_changes`` (FAQBOT_*
    variables) go over these defaults, e.g. to put the app's normal limits back."""
    from bot.ingest.pipeline import ingest

    tmp = temp_index(prefix=prefix)
    port = free_port()
    env = {
        **os.environ,
        "FAQBOT_CORPUS_DIR": str(tmp.settings.corpus_dir),
        "FAQBOT_INDEX_DIR": str(tmp.settings.index_dir),
        "FAQBOT_DATA_DIR": str(tmp.settings.data_dir),
        "FAQBOT_HOST": "127.0.0.1",
        "FAQBOT_PORT": str(port),
        "FAQBOT_RATE_PER_MINUTE": "100000000",
        "FAQBOT_RATE_PER_DAY": "100000000",
        **env_changes,
    }
    server = None
    try:
        ingest(tmp.settings, real_embeddings())
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, server)
        yield url, server
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
        tmp.cleanup()


def wait_for_health(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("app.py exited before serving")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("app.py did not answer /healthz in 120 s")

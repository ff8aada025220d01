"""The embedding model in ONNX Runtime, for ``bot.index.embedding``: the model's own
tokenizer, BERT, mean pooling and unit length, batches cut by length and run on every core."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BATCH_SIZE = 64
TOKEN_BUDGET = 512  # padded tokens per ONNX batch


def max_seq_length(path: Path) -> int:
    try:
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or 256)
    except (OSError, ValueError):
        return 256


def pool(hidden: Any, mask: Any) -> Any:
    """Mean over the real tokens, then unit length: the model's Pooling + Normalize."""
    import numpy as np

    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    vectors = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)


def _session(onnx_path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: one per core
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No busy-waiting between runs: the same latency here, and half the CPU time per
    # question, which Chroma and the web server on a 2-core machine need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """all-MiniLM-L6-v2 in ONNX Runtime: tokenizer.json → BERT → mean pooling → unit length.

    One question is one batch, run on every core. Many texts (ingest) are many batches, run
    side by side, one core each, on a second session made for them: a batch of short
    texts is too small to split across cores well, and the cores' hand-offs cost ~15% of
    the CPU time (measured in CPU seconds per token, same vectors)."""

    def __init__(self, onnx_path: Path, path: Path, threads: int = 0) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # The file pads and truncates to 128; sentence-transformers uses the model's 256.
        self.tokenizer.enable_truncation(max_seq_length(path))
        self.tokenizer.no_padding()  # encode() pads each batch itself
        self.onnx_path = onnx_path
        self.session = _session(onnx_path, threads)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.workers = threads or os.cpu_count() or 1
        self._bulk: Any = None  # the one-core-per-run session, made on first need
        self._bulk_lock = threading.Lock()

    def _bulk_session(self) -> Any:
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = _session(self.onnx_path, 1)
            return self._bulk

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> Any:
        import numpy as np

        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])
        # Longest first, and batches cut at TOKEN_BUDGET padded tokens: on a small CPU a
        # batch of long chunks is slower per text than a few at a time (measured in
        # benchmarks/ingest_scaling.py), while short texts still go many to a batch.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches: list[list[int]] = []
        start = 0
        while start < len(order):
            longest = len(encodings[order[start]].ids)
            size = max(1, min(batch_size, TOKEN_BUDGET // max(longest, 1)))
            batches.append(order[start : start + size])
            start += size
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)

        def run(session: Any, rows: list[int]) -> Any:
            longest = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), longest), dtype=np.int64)
            mask = np.zeros((len(rows), longest), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            return pool(session.run(None, feed)[0], mask)

        if len(batches) == 1 or self.workers == 1:
            results = [run(self.session, rows) for rows in batches]
        else:
            bulk = self._bulk_session()  # ONNX Runtime runs one session from many threads
            with ThreadPoolExecutor(self.workers, thread_name_prefix="faqbot-embed") as threads:
                results = list(threads.map(lambda rows: run(bulk, rows), batches))
        out = np.zeros((len(texts), results[0].shape[1]), dtype=np.float32)
        for rows, vectors in zip(batches, results, strict=True):
            out[rows] = vectors
        return out

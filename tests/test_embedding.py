"""The packaged MiniLM model, loaded offline."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bot.embedding import MiniLMEmbeddings


@pytest.fixture(scope="module")
def model() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


@pytest.mark.integration
def test_vectors_are_384_dim_unit_length_and_offline(model: MiniLMEmbeddings) -> None:
    vectors = np.asarray(model.embed_documents(["CPT costs $360-$480.", "Safety module"]))
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.mark.integration
def test_similar_texts_are_closer_than_unrelated_ones(model: MiniLMEmbeddings) -> None:
    q = np.asarray(model.embed_query("How much does the credential cost?"))
    cost = np.asarray(model.embed_query("The full credential runs $360-$480 total."))
    other = np.asarray(model.embed_query("Lockout/tagout is a safety procedure."))
    assert q @ cost > q @ other


@pytest.mark.integration
def test_repeated_queries_come_from_the_cache(
    model: MiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = model.embed_query("cache me")

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("re-encoded a cached query")

    monkeypatch.setattr(model, "embed_documents", boom)
    assert model.embed_query("cache me") == first


@pytest.mark.integration
def test_a_questions_texts_are_embedded_in_one_call_that_only_encodes_new_ones(
    model: MiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = model.embed_query("already asked")
    alone = model.embed_query("new one")
    model.cache_clear()
    model.embed_query("already asked")
    calls: list[list[str]] = []
    encode = model.embed_documents

    def spy(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return encode(texts)

    monkeypatch.setattr(model, "embed_documents", spy)
    vectors = model.embed_queries(["new one", "already asked", "new two", "new one"])
    assert calls == [["new one", "new two"]]  # one call, repeats and cached texts skipped
    assert vectors[1] == cached and vectors[0] == vectors[3]
    assert np.allclose(vectors[0], alone, atol=1e-5)  # batched vectors match one by one


@pytest.mark.integration
def test_known_words_come_from_the_model_vocabulary(model: MiniLMEmbeddings) -> None:
    words = model.known_words()
    assert {"score", "exam", "safety"} <= words and "saftey" not in words

"""The packaged MiniLM model, loaded offline."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bot.index.embedding import MiniLMEmbeddings


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


def test_the_query_vector_cache_keeps_at_most_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    model = MiniLMEmbeddings(cache_size=5)
    encoded: list[str] = []

    def fake(texts: list[str]) -> list[list[float]]:
        encoded.extend(texts)
        return [[float(len(t))] for t in texts]

    monkeypatch.setattr(model, "embed_documents", fake)
    for n in range(50):
        assert model.embed_query(f"question {n}") == [float(len(f"question {n}"))]
        assert model.cache_info() == (min(n + 1, 5), 5)
    model.embed_query("question 49")  # the newest are kept
    assert len(encoded) == 50


@pytest.mark.integration
def test_a_long_query_is_read_as_its_start_and_its_end(model: MiniLMEmbeddings) -> None:
    from bot.index.embedding import QUERY_MAX_TOKENS

    long = "I was laid off. " + "My plant runs Siemens kits in Ohio and Texas. " * 40 + "Who pays?"
    read = model.query_text(long)
    assert read.startswith("I was laid off.") and read.endswith("Texas. Who pays?")
    pieces = model._splitter().encode(read).ids
    assert QUERY_MAX_TOKENS - 2 <= len(pieces) <= QUERY_MAX_TOKENS + 2  # re-split at the seam
    assert model.query_text("What is CPT?") == "What is CPT?"
    short = "How much is the Safety module? " * 3  # more characters than pieces allowed
    assert model.query_text(short) == short
    vector = np.asarray(model.embed_query(long))
    assert np.allclose(vector, model.embed_documents([read])[0], atol=1e-5)

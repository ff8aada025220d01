"""The same store tests against embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.errors import IndexMissingError, StoreUnavailableError
from bot.index.store import GenerationStore, ServerLocation, open_location
from bot.ingest.pipeline import ingest
from tests.conftest import HashingEmbeddings, free_port


def test_ingest_reopen_search_and_swap(
    store_settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    location = open_location(store_settings)
    with pytest.raises(IndexMissingError, match="make ingest"):
        GenerationStore.open_live(location, fake_embeddings)
    first = ingest(store_settings, fake_embeddings)
    store, manifest = GenerationStore.open_live(open_location(store_settings), fake_embeddings)
    assert manifest.generation == first.generation
    assert store.count() == first.chunks
    vector = fake_embeddings.embed_query("How much does the full CPT cost?")
    top = store.search(vector, 5)
    assert len(top) == 5 and all(-1.0 <= s <= 1.0 for _, s in top)
    sentences, matrix = store.all_sentences()
    assert matrix.shape == (len(sentences), fake_embeddings.dims)
    # clauses and list items come back tied to their whole sentence
    whole = {(s.chunk_id, s.span) for s in sentences if s.piece == 0}
    pieces = [s for s in sentences if s.piece]
    assert len(whole) == first.sentences and pieces
    assert all((s.chunk_id, s.span) in whole for s in pieces)
    second = ingest(store_settings, fake_embeddings, force=True)
    assert open_location(store_settings).read_manifest().generation == second.generation
    assert ingest(store_settings, fake_embeddings, force=True).changed
    assert not ingest(store_settings, fake_embeddings).changed


def test_a_serving_chain_picks_up_a_new_generation(
    store_settings: Settings,
    fake_embeddings: HashingEmbeddings,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(store_settings, fake_embeddings)
    chain = FaqChain(store_settings, fake_embeddings)
    assert "Lot C" not in chain.ask("Where do I park for the exam in Lot C?").text
    (corpus_dir / "parking.md").write_text("# Parking for the exam\nPark in Lot C for the exam.\n")
    ingest(store_settings, fake_embeddings)
    monkeypatch.setattr("bot.answer.chain.RELOAD_CHECK_SECONDS", 0.0)
    answer = chain.ask("Where do I park for the exam in Lot C?")
    assert "Lot C" in answer.text
    assert answer.citations[0].source == "parking.md"


def test_chromas_default_embedding_function_never_runs(
    store_settings: Settings, fake_embeddings: HashingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.utils import embedding_functions

    def refuse(self: object, input: object) -> None:  # Chroma checks this exact signature
        raise AssertionError("Chroma's default embedding function was called")

    # Chroma may build these objects as defaults; what must never happen is a call (which
    # would download and run its own model).
    for name in ("DefaultEmbeddingFunction", "ONNXMiniLM_L6_V2"):
        cls = getattr(embedding_functions, name, None)
        if cls is not None:
            monkeypatch.setattr(cls, "__call__", refuse)
    ingest(store_settings, fake_embeddings)
    answer = FaqChain(store_settings, fake_embeddings).ask("How much does the full CPT cost?")
    assert "360" in answer.text


def test_an_unreachable_server_is_a_clear_error() -> None:
    location = ServerLocation(f"http://127.0.0.1:{free_port()}", "x")
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        location.read_manifest()


def test_a_half_built_generation_left_by_a_killed_ingest_is_dropped_at_the_next_ingest(
    store_settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    ingest(store_settings, fake_embeddings)
    previous = ingest(store_settings, fake_embeddings, force=True).generation
    live = ingest(store_settings, fake_embeddings, force=True).generation
    location = open_location(store_settings)
    # What a kill -9 mid-ingest leaves: a newer generation, written to but never swapped in.
    stray = f"g{int(live[1:], 16) + 1:x}"
    some = GenerationStore.open_live(location, fake_embeddings)[0].all_chunks()[:3]
    half = GenerationStore(location, stray, fake_embeddings)
    half.add_chunks(some, [fake_embeddings.embed_query(c.text) for c in some])
    folder = store_settings.index_dir / "generations" / stray
    assert store_settings.chroma_url or folder.is_dir()
    assert not ingest(store_settings, fake_embeddings).changed  # unchanged, yet it cleans up
    assert not folder.exists()
    # The previous generation stays: a server that has not reloaded yet may still read it.
    assert set(open_location(store_settings).generations()) == {previous, live}
    answer = FaqChain(store_settings, fake_embeddings).ask("How much does the full CPT cost?")
    assert "360" in answer.text

"""Delta generations: a re-ingest that changed a few files writes only their rows, over a
full base, and reads exactly as a full rebuild would (embedded Chroma and `chroma run`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.index.store import GenerationStore, open_location
from bot.ingest.pipeline import ingest
from tests.conftest import HashingEmbeddings

TOPICS = {
    "parking.md": "# Parking for the exam\nPark in Lot C for the exam. Lot C opens at 7 am.\n",
    "library.md": "# Library hours\nThe library opens at 8 am and closes at 10 pm.\n",
    "housing.md": "# Student housing\nDorm rooms are assigned in July by lottery.\n",
    "meals.md": "# Meal plans\nThe dining hall serves breakfast from 6 am to 9 am.\n",
}
PARKING = "Where do I park for the exam?"


@pytest.fixture
def topics(corpus_dir: Path) -> Path:
    for name, text in TOPICS.items():
        (corpus_dir / name).write_text(text, encoding="utf-8")
    return corpus_dir


def own_sources(settings: Settings, generation: str, embeddings: HashingEmbeddings) -> set[str]:
    """The sources whose rows ``generation`` itself holds (not what it reads of its base)."""
    alone = GenerationStore(open_location(settings), generation, embeddings)
    return {c.source for c in alone.all_chunks()}


def test_one_changed_file_makes_a_delta_of_its_rows_and_answers_from_the_new_text(
    store_settings: Settings,
    fake_embeddings: HashingEmbeddings,
    topics: Path,
) -> None:
    full = ingest(store_settings, fake_embeddings)
    assert "Lot C" in FaqChain(store_settings, fake_embeddings).ask(PARKING).text
    (topics / "parking.md").write_text(
        "# Parking for the exam\nPark in Lot F for the exam. Lot F opens at 7 am.\n"
    )
    fake_embeddings.calls = 0
    delta = ingest(store_settings, fake_embeddings)
    store, manifest = GenerationStore.open_live(open_location(store_settings), fake_embeddings)
    assert manifest.extra["base"] == full.generation
    assert manifest.extra["hidden"] == ["parking.md"]
    assert own_sources(store_settings, delta.generation, fake_embeddings) == {"parking.md"}
    assert 0 < fake_embeddings.calls <= 10  # the changed file's few texts, not the corpus
    assert store.count() == manifest.chunks == full.chunks
    answer = FaqChain(store_settings, fake_embeddings).ask(PARKING).text
    assert "Lot F" in answer and "Lot C" not in answer


def test_a_deleted_file_is_gone_from_every_reader(
    settings: Settings, fake_embeddings: HashingEmbeddings, topics: Path
) -> None:
    ingest(settings, fake_embeddings)
    (topics / "parking.md").unlink()
    ingest(settings, fake_embeddings)
    store, manifest = GenerationStore.open_live(open_location(settings), fake_embeddings)
    assert manifest.extra["hidden"] == ["parking.md"]
    chunks = store.all_chunks()
    assert chunks and all(c.source != "parking.md" for c in chunks)
    ids = {c.id for c in chunks}
    sentences, matrix = store.all_sentences()
    assert {s.chunk_id for s in sentences} == ids and matrix.shape[0] == len(sentences)
    vector = fake_embeddings.embed_query("Park in Lot C for the exam")
    assert {cid for cid, _ in store.search(vector, 50)} <= ids
    assert "Lot C" not in FaqChain(settings, fake_embeddings).ask(PARKING).text


def test_a_second_change_is_a_delta_over_the_same_base_kept_while_needed(
    store_settings: Settings,
    fake_embeddings: HashingEmbeddings,
    topics: Path,
) -> None:
    location = open_location(store_settings)
    base = ingest(store_settings, fake_embeddings).generation
    (topics / "parking.md").write_text("# Parking\nPark in Lot F for the exam.\n")
    first = ingest(store_settings, fake_embeddings).generation
    (topics / "meals.md").write_text("# Meal plans\nBreakfast is served until 10 am.\n")
    second = ingest(store_settings, fake_embeddings).generation
    manifest = location.read_manifest()
    assert manifest is not None and manifest.extra["base"] == base  # never a chain of deltas
    assert manifest.extra["hidden"] == ["meals.md", "parking.md"]
    assert own_sources(store_settings, second, fake_embeddings) == {"meals.md", "parking.md"}
    assert set(location.generations()) == {base, first, second}
    # A full build keeps the previous generation and the base it reads through...
    rebuilt = ingest(store_settings, fake_embeddings, force=True).generation
    assert set(location.generations()) == {base, second, rebuilt}
    # ...and drops that base once no kept generation reads it.
    latest = ingest(store_settings, fake_embeddings, force=True).generation
    assert set(location.generations()) == {rebuilt, latest}
    assert "Lot F" in FaqChain(store_settings, fake_embeddings).ask(PARKING).text


def test_changes_over_the_share_write_a_full_generation(
    settings: Settings, fake_embeddings: HashingEmbeddings, topics: Path
) -> None:
    ingest(settings, fake_embeddings)
    guide = next(p for p in topics.iterdir() if p.name not in TOPICS)
    guide.write_text(guide.read_text(encoding="utf-8").replace("the", "thee"), encoding="utf-8")
    result = ingest(settings, fake_embeddings)
    manifest = open_location(settings).read_manifest()
    assert manifest is not None and "base" not in manifest.extra
    assert own_sources(settings, result.generation, fake_embeddings) == {guide.name, *TOPICS}


def test_a_delta_reads_exactly_as_a_full_rebuild(
    settings: Settings, fake_embeddings: HashingEmbeddings, topics: Path
) -> None:
    ingest(settings, fake_embeddings)
    (topics / "parking.md").write_text("# Parking\nPark in Lot F. Permits cost $40 a term.\n")
    (topics / "library.md").unlink()
    (topics / "gym.md").write_text("# Gym\nThe gym is open to students with a valid card.\n")
    ingest(settings, fake_embeddings)
    delta, manifest = GenerationStore.open_live(open_location(settings), fake_embeddings)
    assert manifest.extra["hidden"] == ["library.md", "parking.md"]
    ingest(settings, fake_embeddings, force=True)
    full, rebuilt = GenerationStore.open_live(open_location(settings), fake_embeddings)
    assert "base" not in rebuilt.extra
    assert set(delta.all_chunks()) == set(full.all_chunks())
    assert delta.count() == full.count() == manifest.chunks == rebuilt.chunks

    def rows(store: GenerationStore) -> dict[tuple[str, int, int], list[float]]:
        sentences, matrix = store.all_sentences()
        keys = [(s.chunk_id, s.span.start, s.piece) for s in sentences]
        return {key: row.round(5).tolist() for key, row in zip(keys, matrix, strict=True)}

    assert rows(delta) == rows(full)
    for question in (PARKING, "When does the gym open?", "How much does the full CPT cost?"):
        vector = fake_embeddings.embed_query(question)
        assert [cid for cid, _ in delta.search(vector, 8)] == [
            cid for cid, _ in full.search(vector, 8)
        ]


def test_a_delta_ingest_killed_mid_write_leaves_the_live_index_readable(
    settings: Settings,
    fake_embeddings: HashingEmbeddings,
    topics: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = ingest(settings, fake_embeddings).generation
    (topics / "parking.md").write_text("# Parking\nPark in Lot F for the exam.\n")

    def killed(self: GenerationStore, *args: object) -> None:
        raise RuntimeError("killed mid-write")

    with monkeypatch.context() as patch:
        patch.setattr(GenerationStore, "add_sentences", killed)
        with pytest.raises(RuntimeError, match="killed"):
            ingest(settings, fake_embeddings)
    manifest = open_location(settings).read_manifest()
    assert manifest is not None and manifest.generation == live
    assert "Lot C" in FaqChain(settings, fake_embeddings).ask(PARKING).text
    after = ingest(settings, fake_embeddings)
    assert set(open_location(settings).generations()) == {live, after.generation}
    assert "Lot F" in FaqChain(settings, fake_embeddings).ask(PARKING).text

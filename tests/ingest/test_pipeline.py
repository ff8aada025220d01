"""Ingest: idempotence, stale chunk removal, reuse of vectors, locking, bad files, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.errors import CorpusError, EmptyCorpusError, IngestLockedError, NothingReadableError
from bot.index.store import GenerationStore, open_location
from bot.ingest.pipeline import ingest, ingest_lock
from bot.types import Skipped
from tests.conftest import GUIDE, ROOT, HashingEmbeddings


def live_ids(settings: Settings, embeddings: HashingEmbeddings) -> list[str]:
    store, _ = GenerationStore.open_live(open_location(settings), embeddings)
    return [c.id for c in store.all_chunks()]


def test_three_ingests_give_the_same_index_and_the_later_two_do_nothing(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    first = ingest(settings, fake_embeddings)
    calls = fake_embeddings.calls
    second = ingest(settings, fake_embeddings)
    third = ingest(settings, fake_embeddings)
    assert first.changed and not second.changed and not third.changed
    assert "up to date" in second.summary()
    assert fake_embeddings.calls == calls  # the no-op never embeds
    ids = live_ids(settings, fake_embeddings)
    assert len(ids) == len(set(ids)) == first.chunks == third.chunks


def test_forced_rebuild_has_no_duplicates_and_reuses_every_vector(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    first = ingest(settings, fake_embeddings)
    calls = fake_embeddings.calls
    again = ingest(settings, fake_embeddings, force=True)
    assert again.changed and again.embedded == 0
    assert fake_embeddings.calls == calls
    ids = live_ids(settings, fake_embeddings)
    assert len(ids) == len(set(ids)) == again.chunks == first.chunks


def test_removed_and_added_text_is_reflected_and_only_new_text_is_embedded(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path
) -> None:
    ingest(settings, fake_embeddings)
    guide = corpus_dir / GUIDE.name
    text = guide.read_text()
    cut = text.index("Career impact and pay anchors")
    end = text.index("How to stack CPT with other credentials")
    guide.write_text(text[:cut] + text[end:])
    (corpus_dir / "parking.md").write_text("# Parking\nPark in Lot C for the exam.\n")
    before = fake_embeddings.calls
    result = ingest(settings, fake_embeddings)
    store, manifest = GenerationStore.open_live(open_location(settings), fake_embeddings)
    chunks = store.all_chunks()
    assert not any("Career impact" in c.section for c in chunks)
    assert any(c.source == "parking.md" and "Lot C" in c.text for c in chunks)
    assert set(manifest.files) == {GUIDE.name, "parking.md"}
    assert 0 < result.embedded == fake_embeddings.calls - before < result.chunks


def test_a_second_ingest_at_once_is_refused(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    with ingest_lock(settings.index_dir), pytest.raises(IngestLockedError) as err:
        ingest(settings, fake_embeddings, force=True)
    assert f"pid {os.getpid()}" in str(err.value)
    assert "Wait for it to finish" in str(err.value)
    ingest(settings, fake_embeddings)  # the lock is released afterwards


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("binary.md", b"abc\x00\x01def", "looks binary"),
        ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "is not UTF-8"),
    ],
)
def test_a_broken_file_is_named_and_the_rest_is_ingested(
    settings: Settings,
    fake_embeddings: HashingEmbeddings,
    corpus_dir: Path,
    name: str,
    content: bytes,
    problem: str,
) -> None:
    first = ingest(settings, fake_embeddings)
    (corpus_dir / name).write_bytes(content)
    result = ingest(settings, fake_embeddings)
    assert result.changed and result.chunks == first.chunks  # the guide is all still there
    assert [(s.name, problem in s.reason) for s in result.skipped] == [(name, True)]
    assert name in result.summary() and problem in result.summary()
    again = ingest(settings, fake_embeddings)  # nothing changed: still named, not forgotten
    assert not again.changed and [s.name for s in again.skipped] == [name]


def test_an_empty_file_stops_the_ingest_before_anything_is_touched(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path
) -> None:
    """Found while scanning the folder, before the lock or the model: named, index kept."""
    ingest(settings, fake_embeddings)
    manifest = (settings.index_dir / "manifest.json").read_text()
    (corpus_dir / "empty.txt").write_bytes(b"   \n")
    with pytest.raises(CorpusError, match=r"empty\.txt: is empty.*left untouched"):
        ingest(settings, fake_embeddings)
    assert (settings.index_dir / "manifest.json").read_text() == manifest


def test_nothing_readable_is_a_clear_error_and_the_index_is_untouched(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path
) -> None:
    ingest(settings, fake_embeddings)
    manifest = (settings.index_dir / "manifest.json").read_text()
    for path in corpus_dir.iterdir():
        path.unlink()
    (corpus_dir / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (corpus_dir / "binary.md").write_bytes(b"abc\x00\x01def")
    with pytest.raises(NothingReadableError) as err:
        ingest(settings, fake_embeddings)
    assert "latin1.txt" in str(err.value) and "binary.md" in str(err.value)
    assert "left untouched" in str(err.value)
    assert (settings.index_dir / "manifest.json").read_text() == manifest


def test_a_broken_link_and_an_empty_folder_are_clear_errors(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path, tmp_path: Path
) -> None:
    (corpus_dir / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(CorpusError, match=r"gone\.txt.*missing"):
        ingest(settings, fake_embeddings)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmptyCorpusError, match=r"No pages found"):
        ingest(settings.with_(corpus_dir=empty), fake_embeddings)
    with pytest.raises(EmptyCorpusError):
        ingest(settings.with_(corpus_dir=tmp_path / "missing"), fake_embeddings)


def test_old_generations_are_dropped_but_the_previous_one_is_kept(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    for _ in range(4):
        ingest(settings, fake_embeddings, force=True)
    generations = sorted(p.name for p in (settings.index_dir / "generations").iterdir())
    assert len(generations) == 2
    live = json.loads((settings.index_dir / "manifest.json").read_text())["generation"]
    assert live in generations


@pytest.mark.integration
def test_kill_9_mid_ingest_leaves_the_old_index_serving(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / GUIDE.name).write_text(GUIDE.read_text())
    env = {
        **os.environ,
        "FAQBOT_CORPUS_DIR": str(corpus),
        "FAQBOT_INDEX_DIR": str(tmp_path / "index"),
    }
    cmd = [sys.executable, "-m", "bot.ingest.pipeline"]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    manifest = (tmp_path / "index" / "manifest.json").read_text()
    # A big change, so the new generation takes a while to embed.
    for i in range(40):
        text = GUIDE.read_text().replace("Exam format", f"Exam format, campus {i}")
        (corpus / f"campus-{i}.txt").write_text(text + f"\nCampus {i} is number {i}.\n")
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    generations = tmp_path / "index" / "generations"
    deadline = time.monotonic() + 120
    while len(list(generations.iterdir())) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, "ingest finished before it could be killed"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (tmp_path / "index" / "manifest.json").read_text() == manifest
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    answer = FaqChain.from_settings(settings).ask("How much does the full CPT cost?")
    assert not answer.abstained and "360" in answer.text
    # and the next ingest recovers: the lock died with the process
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["files"]["campus-39.txt"]


def test_links_out_of_the_corpus_are_skipped_and_named(
    settings: Settings, fake_embeddings: HashingEmbeddings, corpus_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:SECRET-ROOT:/root:/bin/bash\n")
    (outside / "notes.md").write_text("# Notes\nSECRET-NOTES live here.\n")
    (corpus_dir / "passwd.txt").symlink_to(outside / "passwd")
    (corpus_dir / "linked").symlink_to(outside, target_is_directory=True)  # a folder link
    # Links that stay inside the corpus folder are fine (the same file is read once).
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "parking.md").write_text("# Parking\nPark in Lot C for the exam.\n")
    (corpus_dir / "alias.txt").symlink_to(corpus_dir / "sub" / "parking.md")
    result = ingest(settings, fake_embeddings)
    store, manifest = GenerationStore.open_live(open_location(settings), fake_embeddings)
    texts = " ".join(c.text for c in store.all_chunks())
    assert "SECRET" not in texts
    assert texts.count("Lot C") == 1
    assert "passwd.txt" not in manifest.files and not any("linked" in f for f in manifest.files)
    reason = "links outside the corpus folder"
    assert Skipped("passwd.txt", reason) in result.skipped
    assert Skipped("linked/", reason) in result.skipped
    summary = result.summary()
    assert "Skipped 3 files:" in summary and "alias.txt (same file as sub/parking.md)" in summary
    assert f"passwd.txt ({reason})" in summary and f"linked/ ({reason})" in summary
    # A no-op ingest still says what it skipped.
    assert f"passwd.txt ({reason})" in ingest(settings, fake_embeddings).summary()


def test_a_file_over_the_size_limit_is_refused_before_reading_or_embedding(
    settings: Settings,
    fake_embeddings: HashingEmbeddings,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(settings, fake_embeddings)
    manifest = (settings.index_dir / "manifest.json").read_text()
    calls = fake_embeddings.calls
    big = corpus_dir / "dump.txt"
    with big.open("wb") as fh:  # sparse: 20 MB of NUL bytes on paper, nothing on disk
        fh.truncate(20_000_000)

    def no_model() -> None:
        raise AssertionError("the model must not be loaded for a refused corpus")

    monkeypatch.setattr("bot.index.embedding.MiniLMEmbeddings", no_model)
    limited = settings.with_(max_file_bytes=2_000_000)
    for embeddings in (fake_embeddings, None):
        with pytest.raises(CorpusError) as err:
            ingest(limited, embeddings, force=True)
        message = str(err.value)
        # Refused from its size: had it been read, it would be "binary" (NUL bytes).
        assert "dump.txt" in message and "20,000,000 bytes" in message
        assert "2,000,000" in message and "FAQBOT_MAX_FILE_BYTES" in message
        assert "Split it" in message and "left untouched" in message
    assert fake_embeddings.calls == calls
    assert (settings.index_dir / "manifest.json").read_text() == manifest
    assert Settings.from_env({"FAQBOT_MAX_FILE_BYTES": "123"}).max_file_bytes == 123

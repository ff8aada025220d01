"""``python -m bot.ingest --site NAME`` / ``--all``: each site into its own index and
collection; a broken site is named and the others are built."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.index.store import open_location
from bot.ingest.pipeline import ingest, main
from bot.ingest.sites import ingest_sites
from bot.sites import site_settings
from tests.conftest import ROOT, HashingEmbeddings
from tests.test_sites_config import two_sites, write_site

FAKE = HashingEmbeddings()


def with_fake(settings: Settings, _embeddings: Any, **options: Any) -> Any:
    return ingest(settings, FAKE, **options)


def manifest(settings: Settings, name: str) -> Any:
    return open_location(site_settings(settings, name, admin=False)).read_manifest()


def run(settings: Settings, names: list[str], every: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = ingest_sites(settings, names, every, with_fake, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_site_builds_that_site_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORTH_ADMIN_TOKEN", raising=False)  # ingest needs no admin token
    settings = two_sites(tmp_path)
    status, out, _err = run(settings, ["south"])
    assert status == 0 and out.startswith("[south] Ingested 1 files")
    assert manifest(settings, "south") is not None and manifest(settings, "north") is None
    status, out, _err = run(settings, ["south"])  # unchanged: nothing to do
    assert status == 0 and "up to date" in out


def test_all_builds_every_site_and_names_the_broken_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORTH_ADMIN_TOKEN", "n" * 24)
    settings = two_sites(tmp_path)
    assert settings.sites_dir is not None
    write_site(settings.sites_dir, "garbled", {"a.md": "# A\n\nA page.\n"}, "name = [")
    write_site(settings.sites_dir, "blank", {"empty.txt": ""})  # an empty file stops its ingest
    status, out, err = run(settings, [], every=True)
    assert status == 1
    assert "[north] Ingested" in out and "[south] Ingested" in out
    assert "site 'blank'" in err and "Site 'garbled'" in err
    assert "2 of 4 sites failed: garbled, blank" in err
    north, south = manifest(settings, "north"), manifest(settings, "south")
    assert north.generation != south.generation
    assert set(north.files) == {"library.md"} and set(south.files) == {"parking.md"}


def test_the_command_needs_a_sites_dir_and_a_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FAQBOT_SITES_DIR", raising=False)
    assert main(["--site", "north"]) == 1
    assert "--site and --all need FAQBOT_SITES_DIR" in capsys.readouterr().err
    monkeypatch.setenv("FAQBOT_SITES_DIR", str(tmp_path))
    assert main([]) == 1
    assert "--site NAME" in capsys.readouterr().err
    assert main(["--site", "missing"]) == 1
    assert "Site 'missing': no folder" in capsys.readouterr().err


@pytest.mark.integration
def test_sites_in_one_chroma_server_keep_their_own_generations(
    tmp_path: Path,
    chroma_server: str,
) -> None:
    # "x" and "x-g1": one name starts the other, and "-g1" looks like a generation.
    sites = tmp_path / "sites"
    write_site(sites, "x", {"library.md": "# Library\n\nThe library opens at 8 am.\n"})
    write_site(sites, "x-g1", {"parking.md": "# Parking\n\nA parking permit costs $45.\n"})
    collection = f"t{os.getpid()}{tmp_path.name}"[:40]
    settings = Settings(sites_dir=sites, index_dir=tmp_path / "index", min_evidence=0.2,
                        chroma_url=chroma_server, collection=collection)  # fmt: skip
    assert run(settings, [], every=True)[0] == 0
    (sites / "x" / "corpus" / "library.md").write_text("# Library\n\nIt opens at 9 am.\n")
    assert run(settings, ["x"])[0] == 0  # a new generation of x; x-g1's must stay
    answer = FaqChain(site_settings(settings, "x-g1"), FAKE).ask("How much is a parking permit?")
    assert "$45" in answer.text
    assert "9 am" in FaqChain(site_settings(settings, "x"), FAKE).ask("When does it open?").text


@pytest.mark.integration
def test_the_ingest_command_builds_every_site_with_the_real_model(tmp_path: Path) -> None:
    settings = two_sites(tmp_path)
    env = {**os.environ, "FAQBOT_SITES_DIR": str(settings.sites_dir),
           "FAQBOT_INDEX_DIR": str(tmp_path / "index"),
           "FAQBOT_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "bot.ingest", "--all"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[north] Ingested" in done.stdout and "[south] Ingested" in done.stdout
    assert manifest(settings, "north").model == manifest(settings, "south").model

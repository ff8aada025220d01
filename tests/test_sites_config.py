"""FAQBOT_SITES_DIR: each site folder becomes its own settings (folders, collection, profile,
origins, limits, admin token); a broken folder is named with why, the others unaffected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.sites import SiteError, load_sites, site_settings

DEPLOYMENT_TOKEN = "d" * 24
NORTH_TOKEN = "n" * 24
LIBRARY = """# Northfield Library FAQ

## When does the library open?

The Northfield library opens at 8 am and closes at 10 pm on weekdays.

## How many books can I borrow?

Students may borrow up to 30 books at a time, each for four weeks.
"""
PARKING = """# Southgate Parking FAQ

## How much is a parking permit?

A student parking permit costs $45 per semester at the Southgate campus office.

## Where can I park at night?

After 6 pm any open lot on the Southgate campus may be used.
"""


def write_site(sites_dir: Path, name: str, pages: dict[str, str], profile: str = "") -> Path:
    """A site folder: ``corpus/`` with ``pages`` (file name: text) and ``faqbot.toml``."""
    corpus = sites_dir / name / "corpus"
    corpus.mkdir(parents=True)
    for file, text in pages.items():
        (corpus / file).write_text(text, encoding="utf-8")
    if profile:
        (sites_dir / name / "faqbot.toml").write_text(profile, encoding="utf-8")
    return sites_dir / name


def two_sites(root: Path, north_limit: int = 20) -> Settings:
    """``north`` (library pages, its own origin, limit and admin token variable) and
    ``south`` (parking pages, the deployment's token), in a deployment's settings."""
    sites = root / "sites"
    write_site(sites, "north", {"library.md": LIBRARY}, (
        'name = "Northfield Library Assistant"\nwidget_title = "Ask the Library"\n'
        'allowed_origins = ["https://north.example.edu"]\n'
        f'rate_per_minute = {north_limit}\nadmin_token_env = "NORTH_ADMIN_TOKEN"\n'
    ))  # fmt: skip
    write_site(sites, "south", {"parking.md": PARKING}, (
        'name = "Southgate Parking Assistant"\nwidget_title = "Ask Parking"\n'
        'allowed_origins = ["https://south.example.edu"]\n'
    ))  # fmt: skip
    return Settings(
        sites_dir=sites, index_dir=root / "index", data_dir=root / "data", min_evidence=0.2,
        admin_token=DEPLOYMENT_TOKEN,
    )  # fmt: skip


def test_each_site_gets_its_own_folders_collection_profile_origins_limits_and_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORTH_ADMIN_TOKEN", NORTH_TOKEN)
    settings = two_sites(tmp_path, north_limit=3)
    sites, problems = load_sites(settings)
    assert problems == []
    north, south = (s.settings for s in sites)
    assert [s.name for s in sites] == ["north", "south"]
    assert (north.site, south.site) == ("north", "south")
    assert north.corpus_dir == settings.sites_dir / "north" / "corpus"  # type: ignore[operator]
    for a, b in [(north.index_dir, south.index_dir), (north.data_dir, south.data_dir)]:
        assert a != b and not a.is_relative_to(b) and not b.is_relative_to(a)
    # No site's collection name starts another's: the store finds generations by prefix.
    assert not north.collection.startswith(south.collection)
    assert not south.collection.startswith(north.collection)
    assert north.profile.name == "Northfield Library Assistant"
    assert south.profile.widget_title == "Ask Parking"
    assert north.allowed_origins == ("https://north.example.edu",)
    assert (north.rate_per_minute, south.rate_per_minute) == (3, settings.rate_per_minute)
    assert north.admin_token == NORTH_TOKEN
    assert south.admin_token == DEPLOYMENT_TOKEN  # no token of its own: the deployment's


def test_two_sites_whose_names_share_a_start_get_unrelated_collections(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    write_site(sites, "x", {"a.txt": "A page."})
    write_site(sites, "x-g1", {"b.txt": "Another page."})
    found, _ = load_sites(Settings(sites_dir=sites))
    short, long = (s.settings.collection for s in found)
    assert not long.startswith(short + "-") and not long.startswith(short)


def test_broken_site_folders_are_named_with_why_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_ADMIN_TOKEN", raising=False)
    settings = two_sites(tmp_path)
    monkeypatch.setenv("NORTH_ADMIN_TOKEN", NORTH_TOKEN)
    sites = settings.sites_dir
    assert sites is not None
    write_site(sites, "Bad_Name", {"a.txt": "A page."})
    write_site(sites, "garbled", {"a.txt": "A page."}, 'name = "unclosed\n')
    write_site(sites, "typo", {"a.txt": "A page."}, 'nmae = "Typo"\n')
    write_site(sites, "no-token", {"a.txt": "A page."}, 'admin_token_env = "UNSET_ADMIN_TOKEN"\n')
    write_site(sites, "bad-limit", {"a.txt": "A page."}, "rate_per_day = 0\n")
    (sites / "no-corpus").mkdir()
    (sites / ".hidden").mkdir()  # not a site: ignored, as is a loose file
    (sites / "README.txt").write_text("notes", encoding="utf-8")
    found, problems = load_sites(settings)
    assert [s.name for s in found] == ["north", "south"]
    errors = {p.name: p.error for p in problems}
    assert set(errors) == {"Bad_Name", "garbled", "typo", "no-token", "bad-limit", "no-corpus"}
    for name, error in errors.items():
        assert error.startswith(f"Site {name!r}: ")
    assert "lower-case letters, digits and dashes" in errors["Bad_Name"]
    assert "readable TOML" in errors["garbled"] and "faqbot.toml" in errors["garbled"]
    assert "nmae" in errors["typo"] and "admin_token_env" in errors["typo"]
    assert "UNSET_ADMIN_TOKEN" in errors["no-token"] and "not set" in errors["no-token"]
    assert "rate_per_day" in errors["bad-limit"]
    assert "corpus" in errors["no-corpus"] and "put the site's pages there" in errors["no-corpus"]


def test_a_short_site_token_is_refused_like_the_deployment_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = two_sites(tmp_path)
    monkeypatch.setenv("NORTH_ADMIN_TOKEN", "short")
    with pytest.raises(SiteError, match=r"'north'.*NORTH_ADMIN_TOKEN.*at least 16"):
        site_settings(settings, "north")


def test_without_a_sites_dir_nothing_changes(tmp_path: Path) -> None:
    assert Settings.from_env({}).sites_dir is None
    assert Settings.from_env({}).site == ""
    assert load_sites(Settings()) == ([], [])
    with pytest.raises(SiteError, match="FAQBOT_SITES_DIR is not set"):
        site_settings(Settings(), "north")
    chosen = Settings.from_env({"FAQBOT_SITES_DIR": str(tmp_path)})
    assert chosen.sites_dir == tmp_path


def test_a_sites_dir_that_is_not_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="FAQBOT_SITES_DIR is not a folder"):
        load_sites(Settings(sites_dir=tmp_path / "missing"))

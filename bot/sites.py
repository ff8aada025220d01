"""Many sites in one deployment: ``FAQBOT_SITES_DIR`` holds one folder per site.

    <sites dir>/<name>/corpus/        the site's pages (files and urls.txt)
    <sites dir>/<name>/faqbot.toml    its profile, plus allowed_origins, rate_per_minute,
                                      rate_per_day and admin_token_env (the NAME of the
                                      environment variable holding its admin token)

Each site gets the deployment's settings with its own corpus, index folder, Chroma
collection, data folder (its question log's SQLite file, its fetch cache), profile, origins,
limits and admin token. A site that cannot be configured is a :class:`SiteProblem` naming it;
the others are unaffected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.config import PROFILE_NAME, Profile, Settings, read_profile, token_from_env
from bot.errors import FaqBotError

SITE_NAME = re.compile(r"[a-z0-9-]{1,40}")
SITE_KEYS = ("allowed_origins", "rate_per_minute", "rate_per_day", "admin_token_env")
SITES = "sites"  # under the deployment's index and data folders: one folder per site


def site_path(name: str) -> str:
    """Where site ``name`` is served: its chat, embed page, API, launcher and admin page."""
    return f"/s/{name}"


class SiteError(FaqBotError):
    """One site of FAQBOT_SITES_DIR cannot be used; the message names it and what to fix."""

    def __init__(self, name: str, problem: str) -> None:
        self.site = name
        super().__init__(f"Site {name!r}: {problem}")


@dataclass(frozen=True)
class SiteConfig:
    name: str
    settings: Settings  # the deployment's, with this site's folders, profile and limits


@dataclass(frozen=True)
class SiteProblem:
    name: str  # the folder's name, as found
    error: str  # what is wrong and what to do


def site_names(sites_dir: Path) -> list[str]:
    """Every folder of ``sites_dir`` (hidden ones aside), sorted; bad names included, so
    that they are reported rather than silently ignored."""
    if not sites_dir.is_dir():
        raise SiteError(
            str(sites_dir), "FAQBOT_SITES_DIR is not a folder: create it, or unset the setting"
        )
    return sorted(p.name for p in sites_dir.iterdir() if p.is_dir() and p.name[0] != ".")


def site_settings(settings: Settings, name: str, admin: bool = True) -> Settings:
    """The settings of site ``name`` of ``settings.sites_dir``, or a SiteError saying why not.
    ``admin`` False: without its admin token (an ingest job needs none)."""
    if settings.sites_dir is None:
        raise SiteError(name, "FAQBOT_SITES_DIR is not set: set it to the folder of site folders")
    if not SITE_NAME.fullmatch(name):
        raise SiteError(
            name, "a site name is 1-40 lower-case letters, digits and dashes: rename the folder"
        )
    folder = settings.sites_dir / name
    if not folder.is_dir():
        raise SiteError(name, f"no folder {folder}: create it with corpus/ and faqbot.toml")
    corpus = folder / "corpus"
    if not corpus.is_dir():
        raise SiteError(name, f"no corpus folder {corpus}: put the site's pages there")
    values: dict[str, object] = {}
    if (folder / PROFILE_NAME).is_file():
        try:
            values = read_profile(folder / PROFILE_NAME, SITE_KEYS)
        except FaqBotError as exc:
            raise SiteError(name, str(exc)) from None
    admin_token = settings.admin_token  # the deployment's token opens every site's page
    token_env = values.get("admin_token_env", "")
    if not admin:
        admin_token = ""
    elif token_env:
        if not isinstance(token_env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
            raise SiteError(name, "admin_token_env must name an environment variable")
        try:
            admin_token = token_from_env(token_env)
        except FaqBotError as exc:
            raise SiteError(name, str(exc)) from None
        if not admin_token:
            raise SiteError(name, f"admin_token_env names {token_env}, which is not set: set it")
    return settings.with_(
        site=name,
        corpus_dir=corpus,
        index_dir=settings.index_dir / SITES / name,
        data_dir=settings.data_dir / SITES / name,
        # "_" is in no site name, so no site's collections start with another's prefix (the
        # store finds a collection's generations by that prefix).
        collection=f"{settings.collection}_{name}_site",
        profile=Profile.of(values),
        allowed_origins=_origins(name, values.get("allowed_origins", settings.allowed_origins)),
        rate_per_minute=_count(name, values, "rate_per_minute", settings.rate_per_minute),
        rate_per_day=_count(name, values, "rate_per_day", settings.rate_per_day),
        admin_token=admin_token,
    )


def load_sites(
    settings: Settings, admin: bool = True
) -> tuple[list[SiteConfig], list[SiteProblem]]:
    """Every site of ``settings.sites_dir`` that can be configured, and the problems of the
    others (a bad name, a profile that does not parse, a missing corpus...)."""
    sites: list[SiteConfig] = []
    problems: list[SiteProblem] = []
    if settings.sites_dir is None:
        return sites, problems
    for name in site_names(settings.sites_dir):
        try:
            sites.append(SiteConfig(name, site_settings(settings, name, admin)))
        except SiteError as exc:
            problems.append(SiteProblem(name, str(exc)))
    return sites, problems


def _origins(name: str, raw: object) -> tuple[str, ...]:
    if isinstance(raw, tuple):
        return raw
    if not isinstance(raw, list) or not all(isinstance(o, str) for o in raw):
        raise SiteError(name, 'allowed_origins must be a list, e.g. ["https://www.example.edu"]')
    return tuple(o.strip() for o in raw if o.strip())


def _count(name: str, values: dict[str, object], key: str, default: int) -> int:
    raw = values.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise SiteError(name, f"{key} must be a whole number >= 1, not {raw!r}")
    return raw

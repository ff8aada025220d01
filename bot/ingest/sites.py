"""``python -m bot.ingest --site NAME`` / ``--all``: build the index of sites of
FAQBOT_SITES_DIR (bot/sites.py), each into its own index folder and Chroma collection.

Sites are built one after the other with one embedding model, loaded only if some site has
something to embed. A site that cannot be configured or whose ingest fails is named with why
on stderr and the others are still built; the exit status is 1 if any site failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bot.config import Settings
from bot.errors import FaqBotError
from bot.ingest.report import IngestResult
from bot.sites import SiteConfig, SiteError, SiteProblem, load_sites, site_settings

IngestFn = Callable[..., IngestResult]


def chosen_sites(
    settings: Settings, names: Sequence[str], every: bool
) -> tuple[list[SiteConfig], list[SiteProblem]]:
    """The sites named (or every site), and the problems of those that cannot be built."""
    if every:
        return load_sites(settings, admin=False)
    sites: list[SiteConfig] = []
    problems: list[SiteProblem] = []
    for name in dict.fromkeys(names):
        try:
            sites.append(SiteConfig(name, site_settings(settings, name, admin=False)))
        except SiteError as exc:
            problems.append(SiteProblem(name, str(exc)))
    return sites, problems


def ingest_sites(
    settings: Settings,
    names: Sequence[str],
    every: bool,
    run: IngestFn,
    out: TextIO | None = None,
    err: TextIO | None = None,
    **options: Any,
) -> int:
    """Build each chosen site with ``run`` (the pipeline's ``ingest``); 0 if all were built.
    Summaries go to ``out``, failures to ``err`` (stdout and stderr by default)."""
    out, err = out or sys.stdout, err or sys.stderr
    if settings.sites_dir is None:
        print("ingest failed: --site and --all need FAQBOT_SITES_DIR (the folder of site "
              "folders)", file=err)  # fmt: skip
        return 1
    if not names and not every:
        print(f"ingest failed: FAQBOT_SITES_DIR is set ({settings.sites_dir}): name the site "
              "to build with --site NAME, or build every site with --all", file=err)  # fmt: skip
        return 1
    try:
        sites, problems = chosen_sites(settings, names, every)
    except SiteError as exc:
        print(f"ingest failed: {exc}", file=err)
        return 1
    if not sites and not problems:
        print(f"ingest failed: no site folders in {settings.sites_dir}", file=err)
        return 1
    embeddings = None
    if len(sites) > 1:  # one model for every site; it loads on first use only
        from bot.index.embedding import MiniLMEmbeddings

        embeddings = MiniLMEmbeddings()
    failed = [p.name for p in problems]
    for problem in problems:
        print(f"ingest failed: {problem.error}", file=err)
    for site in sites:
        try:
            result = run(site.settings, embeddings, **options)
        except FaqBotError as exc:
            print(f"ingest failed: site {site.name!r}: {exc}", file=err)
            failed.append(site.name)
            continue
        print(f"[{site.name}] {result.summary()}", file=out, flush=True)
    if failed:
        print(f"{len(failed)} of {len(sites) + len(problems)} sites failed: "
              f"{', '.join(failed)}", file=err)  # fmt: skip
        return 1
    return 0

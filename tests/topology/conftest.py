"""The replica topology (issue #26) from local processes: a throwaway PostgreSQL cluster
(tests/conftest.py), Redis (tests/conftest.py, when the app reads FAQBOT_REDIS_URL),
``chroma run``, the ingest job, two ``app.py`` replicas and nginx in front, started once for
the module by benchmarks/topology_stack.py (the benchmark starts the same processes)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from benchmarks.topology_stack import Topology, nginx_binary, topology
from bot.config import Settings
from tests.topology.pages import write_pages

# Small enough for a test to cross it, the day's budget out of the way.
PER_MINUTE = 5
LIMITS = {"FAQBOT_RATE_PER_MINUTE": str(PER_MINUTE), "FAQBOT_RATE_PER_DAY": "100000"}
SHARED_LIMITS = "redis_url" in Settings.__dataclass_fields__  # FAQBOT_REDIS_URL exists


def _redis(request: pytest.FixtureRequest) -> str:
    """Redis for shared limits where the app has the setting, in a database of its own so
    the counts of other tests sharing the session's server never meet these."""
    if not SHARED_LIMITS:
        return ""
    url = str(request.getfixturevalue("redis_url"))
    return url.rsplit("/", 1)[0] + "/3"


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    postgres_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Topology]:
    """Everything up, the corpus ingested by the job; stopped (each process by its own pid)
    after the module. Skipped without nginx, except in CI, where that is a failure."""
    if nginx_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: `make nginx` installs it")
        pytest.skip("nginx is not installed (`make nginx` installs Debian's package)")
    corpus = write_pages(tmp_path_factory.mktemp("topology") / "corpus")
    log_db = f"{postgres_server}/postgres"  # the throwaway cluster's own database
    with topology(corpus, log_db_url=log_db, redis_url=_redis(request), env=LIMITS) as top:
        yield top

"""Per-client budgets in Redis (FAQBOT_REDIS_URL): shared by replicas, namespaced, expiring,
holding no address, and falling back to per-process counts while Redis is down."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.errors import ConfigError
from bot.serve.ratelimit import RateLimiter
from bot.serve.server import create_server
from tests.conftest import free_port, redis_process

STUDENT, OTHER = "203.0.113.7", "198.51.100.23"


def site() -> str:
    """A site name of its own per test: the session's Redis is shared."""
    return f"t-{uuid.uuid4().hex[:12]}"


def replicas(url: str, n: int = 2, **limits: Any) -> list[RateLimiter]:
    """``n`` limiters as n server processes would build them from the same settings."""
    name = site()
    merged = {"per_minute": 3, "per_day": 100, **limits}
    return [RateLimiter(**merged, redis_url=url, site=name) for _ in range(n)]


@pytest.mark.integration
def test_replicas_share_a_students_minute_budget_not_other_students(redis_url: str) -> None:
    a, b = replicas(redis_url, per_minute=3)
    assert [a.allow(STUDENT), b.allow(STUDENT), a.allow(STUDENT)] == [True, True, True]
    assert not b.allow(STUDENT) and not a.allow(STUDENT)  # over on one: over on both
    assert b.allow(OTHER)  # another student has a budget of their own
    assert a.backend == b.backend == "redis"


@pytest.mark.integration
def test_replicas_share_the_day_budget(redis_url: str) -> None:
    a, b = replicas(redis_url, per_minute=100, per_day=4)
    assert all(r.allow(STUDENT) for r in (a, b, a, b))
    assert not a.allow(STUDENT) and not b.allow(STUDENT)
    assert a.allow(OTHER)


@pytest.mark.integration
def test_sites_and_limiters_do_not_share_budgets(redis_url: str) -> None:
    (one,) = replicas(redis_url, n=1, per_minute=1)
    (two,) = replicas(redis_url, n=1, per_minute=1)
    assert one.allow(STUDENT) and not one.allow(STUDENT)
    assert two.allow(STUDENT)  # another site
    name = site()
    asks = RateLimiter(1, 100, redis_url=redis_url, site=name, name="asks")
    events = RateLimiter(1, 100, redis_url=redis_url, site=name, name="events")
    assert asks.allow(STUDENT) and events.allow(STUDENT)


@pytest.mark.integration
def test_keys_are_namespaced_expire_and_hold_no_address(redis_url: str) -> None:
    name = site()
    limiter = RateLimiter(5, 50, redis_url=redis_url, site=name)
    assert limiter.allow(STUDENT)
    store = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in store.keys("*") if name in k.decode()]
    assert keys and all(k.startswith(f"faqbot:{name}:") for k in keys)
    assert not any(STUDENT in k or STUDENT.encode() in (store.dump(k) or b"") for k in keys)
    ttls = {k: store.ttl(k) for k in keys}
    assert all(0 < ttl <= 2 * 86_400 for ttl in ttls.values()), ttls  # every key expires
    minute = [k for k in keys if k.endswith("/minute")]
    assert minute and all(ttls[k] <= 60 for k in minute)


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The limiters' warnings."""
    return [r for r in caplog.records if r.name == "bot.serve.ratelimit" and r.levelno >= 30]


@pytest.mark.integration
def test_redis_down_counts_per_process_warns_once_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    with redis_process(port) as url:
        name = site()
        quick, slow = (
            RateLimiter(2, 100, redis_url=url, site=name, recheck_seconds=s) for s in (0.2, 3600)
        )
        assert quick.allow(STUDENT) and slow.allow(STUDENT) and not quick.allow(STUDENT)
    caplog.set_level(logging.WARNING, logger="bot.serve.ratelimit")
    # Redis is gone: each replica counts on its own (two a minute), and keeps answering.
    assert [quick.allow(OTHER) for _ in range(5)] == [True, True, False, False, False]
    assert [slow.allow(OTHER) for _ in range(5)] == [True, True, False, False, False]
    warnings = ours(caplog)
    assert len(warnings) == 2  # one per replica, not one per request
    assert all(f"127.0.0.1:{port}" in r.getMessage() for r in warnings)
    assert quick.backend == slow.backend == "process (redis unreachable)"
    with redis_process(port) as url:
        deadline = time.monotonic() + 20
        while quick.backend != "redis":
            assert time.monotonic() < deadline, "the limiter did not go back to Redis"
            time.sleep(0.1)
        # The other replica is not asking Redis before its recheck is due.
        assert slow.backend == "process (redis unreachable)"
        again = RateLimiter(2, 100, redis_url=url, site=name)
        assert quick.allow("192.0.2.1") and again.allow("192.0.2.1")
        assert not quick.allow("192.0.2.1") and not again.allow("192.0.2.1")  # shared again
    assert len(ours(caplog)) == 2


def test_a_url_that_is_not_redis_is_a_config_error_naming_the_setting() -> None:
    for bad in ("http://127.0.0.1:6379", "127.0.0.1:6379", "memcached://cache:11211"):
        with pytest.raises(ConfigError, match="FAQBOT_REDIS_URL"):
            Settings.from_env({"FAQBOT_REDIS_URL": bad})
        with pytest.raises(ConfigError, match="FAQBOT_REDIS_URL"):
            RateLimiter(20, 200, redis_url=bad)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"FAQBOT_REDIS_URL": "https://user:s3cret@cache:6379"})
    assert "s3cret" not in str(raised.value)  # a password is never echoed
    with pytest.raises(ConfigError, match="FAQBOT_REDIS_URL"):
        RateLimiter(20, 200, redis_url="redis://cache:notaport/0")
    for good in ("redis://:pw@cache:6379/1", "rediss://cache:6380", "unix:///run/redis.sock"):
        assert Settings.from_env({"FAQBOT_REDIS_URL": good}).redis_url == good
    assert Settings.from_env({}).redis_url == ""
    assert RateLimiter(20, 200).backend == "process"


@pytest.mark.integration
def test_two_servers_on_one_redis_share_the_ask_budget(chain: Any, redis_url: str) -> None:
    settings = chain.settings.with_(rate_per_minute=2, redis_url=redis_url)
    one, two = (TestClient(create_server(chain, settings, mount_ui=False)) for _ in range(2))
    assert one.get("/healthz").json()["limits"] == "redis"
    ask = {"question": "How much does the full CPT cost?"}
    # TestClient's peer is the same for both servers: one student behind a balancer.
    assert [one.post("/api/ask", json=ask).status_code for _ in range(2)] == [200, 200]
    refused = two.post("/api/ask", json=ask)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    alone = TestClient(create_server(chain, chain.settings, mount_ui=False))
    assert alone.get("/healthz").json()["limits"] == "process"

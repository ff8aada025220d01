"""Per-client limits: the counting windows and who counts as the client."""

from __future__ import annotations

from fastapi import Request

from bot.serve.ratelimit import RateLimiter, client_key


def test_rate_limiter_counts_per_minute_and_per_day() -> None:
    limiter = RateLimiter(per_minute=20, per_day=25)
    assert all(limiter.allow("a", now=1000.0 + i) for i in range(20))
    assert not limiter.allow("a", now=1030.0)  # 21st in the minute
    assert limiter.allow("b", now=1030.0)  # another client is unaffected
    assert all(limiter.allow("a", now=1100.0 + i) for i in range(5))
    assert not limiter.allow("a", now=1200.0)  # 26th that day


def request_from(peer: str, forwarded: str = "") -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    proxies = ("10.0.0.0/8",)
    # straight from the internet: the header is the client's own claim, ignored
    assert client_key(request_from("198.51.100.9", "203.0.113.1"), proxies) == "198.51.100.9"
    # through our proxy: the nearest address the proxy did not add
    assert client_key(request_from("10.0.0.5", "203.0.113.1, 10.0.0.7"), proxies) == "203.0.113.1"
    assert client_key(request_from("10.0.0.5"), proxies) == "10.0.0.5"
    assert client_key(request_from("10.0.0.5", "203.0.113.1"), ()) == "10.0.0.5"


def test_rate_limiter_memory_is_bounded_even_when_every_client_is_active() -> None:
    limiter = RateLimiter(per_minute=3, per_day=100, max_keys=50)
    for i in range(1000):  # a thousand addresses, each asking within the same minute
        assert limiter.allow(f"203.0.113.{i}", now=5000.0 + i / 1000)
    assert len(limiter) <= 50
    # The most recent clients are still counted: their budget was not reset.
    assert all(limiter.allow("203.0.113.999", now=5001.5) for _ in range(2))
    assert not limiter.allow("203.0.113.999", now=5001.5)


def test_the_answer_queue_admits_slots_at_once_and_bounds_the_line() -> None:
    import asyncio

    from bot.serve.ratelimit import AnswerQueue

    async def scenario() -> tuple[list[int], bool, bool]:
        queue, running, peak = AnswerQueue(slots=2, max_waiting=3), [0], []

        async def one() -> None:
            async with queue.turn():
                running[0] += 1
                peak.append(running[0])
                await asyncio.sleep(0.01)
                running[0] -= 1

        tasks = [asyncio.create_task(one()) for _ in range(5)]
        await asyncio.sleep(0)  # all five are in: two answering, three waiting
        full = queue.full()
        await asyncio.gather(*tasks)
        return peak, full, queue.full()

    peak, full_while_busy, full_after = asyncio.run(scenario())
    assert max(peak) == 2 and len(peak) == 5  # never more than two at once, all answered
    assert full_while_busy and not full_after

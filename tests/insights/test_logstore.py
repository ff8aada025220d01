"""The question log's database, the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from bot.errors import LogStoreError
from bot.insights.logstore import LogStore
from bot.types import LoggedQuestion, LoggedVote

NOW = 1_800_000_000.0
DAY = 86_400


def asked(text: str, at: float = NOW, **fields: object) -> LoggedQuestion:
    values: dict[str, object] = {"abstained": False, "source": "faq.html", "section": "Fees"}
    return LoggedQuestion(time=at, channel="widget", question=text, **{**values, **fields})  # type: ignore[arg-type]


def test_questions_come_back_newest_first_with_their_latest_vote(log_url: str) -> None:
    store = LogStore(log_url)
    store.add(
        [
            asked("when is the fee due", NOW, session="s1", turn=0, score=0.61, latency_ms=12.5),
            asked("is there parking", NOW + 1, abstained=True, session="s1", turn=1),
            asked("api question", NOW + 2),
        ],
        [LoggedVote(NOW + 3, "s1", 0, "up"), LoggedVote(NOW + 4, "s1", 0, "down")],
    )
    rows = store.questions()
    assert [r.question for r in rows] == ["api question", "is there parking", "when is the fee due"]
    fee = rows[2]
    assert (fee.vote, fee.score, fee.latency_ms, fee.turn) == ("down", 0.61, 12.5, 0)
    assert rows[1].vote == "" and rows[1].abstained and rows[0].turn == -1
    # A vote names its session and turn: an API row (no session) never picks one up.
    store.add([], [LoggedVote(NOW + 5, "", -1, "down")])
    assert store.questions()[0].vote == ""


def test_search_filters_and_pages(log_url: str) -> None:
    store = LogStore(log_url)
    store.add(
        [asked(f"Where do I PARK car {i}", NOW + i) for i in range(5)]
        + [asked("100% refund_policy?", NOW + 10, abstained=True, session="a", turn=0)],
        [LoggedVote(NOW + 11, "a", 0, "down")],
    )
    assert store.count(search="park") == 5
    assert [r.question for r in store.questions(search="park", limit=2, offset=1)] == [
        "Where do I PARK car 3",
        "Where do I PARK car 2",
    ]
    # LIKE wildcards in the search are text, not patterns.
    assert store.count(search="100%") == 1 and store.count(search="refund%policy") == 0
    assert store.count(search="d_pol") == 1 and store.count(search="d_ref") == 0
    assert store.count(only="unanswered") == 1 and store.count(only="down") == 1
    assert store.count(since=NOW + 3, until=NOW + 10) == 2
    with pytest.raises(ValueError, match="only must be one of"):
        store.count(only="everything")


def test_purge_deletes_only_rows_older_than_the_cutoff(log_url: str) -> None:
    store = LogStore(log_url)
    store.add(
        [asked("old", NOW - 91 * DAY), asked("recent", NOW - 89 * DAY)],
        [LoggedVote(NOW - 91 * DAY, "s", 0, "down"), LoggedVote(NOW, "s", 1, "up")],
    )
    assert store.purge(NOW - 90 * DAY) == 2
    assert [r.question for r in store.questions()] == ["recent"]
    assert [v.vote for v in store.votes()] == ["up"]


def test_an_old_feedback_file_is_imported_once(log_url: str) -> None:
    store = LogStore(log_url)
    votes = [LoggedVote(NOW, "s", 0, "down", "q", "a", True, ("Fees", "Parking"))]
    assert store.import_votes("digest-1", votes)
    assert not store.import_votes("digest-1", votes)  # the same content again: nothing
    assert store.votes() == votes


def test_the_salt_is_made_once_and_shared(log_url: str) -> None:
    first, second = LogStore(log_url), LogStore(log_url)
    assert len(first.salt()) == 32 and first.salt() == second.salt()


def _write_through_the_log(url: str, proc: int, count: int, start: float) -> None:
    """One of several processes logging at once, as several server workers do."""
    from bot.insights.questionlog import QuestionLog

    log = QuestionLog(lambda: LogStore(url))
    while time.time() < start:  # all processes begin together
        time.sleep(0.001)
    for i in range(count):
        log.question(asked(f"p{proc} q{i}", NOW + i, session=f"p{proc}", turn=i))
        if i % 10 == 0:
            log.vote(LoggedVote(NOW + i, f"p{proc}", i, "down"))
    log.close(timeout=120)
    assert log.failed == log.dropped == 0


@pytest.mark.integration
def test_four_processes_writing_1000_questions_each_lose_nothing(log_url: str) -> None:
    LogStore(log_url)  # the tables exist before the race (creating them races too: below)
    spawn = multiprocessing.get_context("spawn")
    start = time.time() + 3  # past the children's imports
    procs = [
        spawn.Process(target=_write_through_the_log, args=(log_url, p, 1000, start))
        for p in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = LogStore(log_url)
    rows = store.questions()
    assert len(rows) == 4000
    assert {(r.session, r.turn) for r in rows} == {
        (f"p{p}", i) for p in range(4) for i in range(1000)
    }
    assert store.count(only="down") == 400 and len(store.votes()) == 400


@pytest.mark.integration
def test_processes_creating_the_tables_at_once_all_succeed(log_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    start = time.time() + 3
    procs = [
        spawn.Process(target=_write_through_the_log, args=(log_url, p, 5, start)) for p in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert LogStore(log_url).count() == 20


def test_an_unusable_url_says_which_setting_to_fix(tmp_path: object) -> None:
    with pytest.raises(LogStoreError, match="FAQBOT_LOG_DB_URL"):
        LogStore("nosuchdb://user:secret@host/db")
    with pytest.raises(LogStoreError) as caught:
        LogStore("postgresql://user:secret@127.0.0.1:1/db")
    assert "secret" not in str(caught.value)  # the password never reaches a message

"""The question log's writer sets aside a row the database refuses and writes the rest of
its batch (bot/insights/questionlog.py): one bad entry must not cost other students'
questions."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import bot.insights.questionlog as questionlog
from bot.insights.logstore import LogStore
from bot.insights.questionlog import QuestionLog
from bot.types import LoggedQuestion, LoggedVote
from tests.insights.test_questionlog import asked


def gated_log(url: str) -> tuple[QuestionLog, threading.Event]:
    """A log whose database opens only when the gate is set, so every entry logged before
    lands in one batch."""
    gate = threading.Event()

    def open_store() -> LogStore:
        gate.wait(30)
        return LogStore(url)

    return QuestionLog(open_store), gate


@pytest.mark.parametrize(
    "bad",
    [
        asked("too big a turn", session="s", turn=10**30),
        asked("half an emoji \ud800"),
        LoggedVote(time.time(), "s", 10**30, "up", "q", "a"),
    ],
)
def test_a_row_the_database_refuses_is_set_aside_and_the_batch_written(
    log_url: str,
    bad: LoggedQuestion | LoggedVote,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(questionlog, "RETRY_SECONDS", 0.01)
    log, gate = gated_log(log_url)
    log.question(asked("When does term start?", session="s", turn=0))
    (log.vote if isinstance(bad, LoggedVote) else log.question)(bad)  # type: ignore[arg-type]
    log.question(asked("Where is the library?"))
    log.vote(LoggedVote(time.time(), "s", 0, "down", "When does term start?", "Soon."))
    with caplog.at_level(logging.WARNING, logger="bot.insights.questionlog"):
        gate.set()
        assert log.flush(timeout=60)
    log.close()
    store = LogStore(log_url)
    assert [r.question for r in store.questions()] == [
        "Where is the library?",
        "When does term start?",
    ]
    assert [v.vote for v in store.votes()] == ["down"]
    assert log.set_aside == 1 and log.failed == 0 and log.written == 3
    assert "set aside" in caplog.text

"""The question log of several sites in one database: each store reads and writes its own
site's rows; a log made before sites existed gets the site column and keeps its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.insights.logstore import LogStore
from bot.types import LoggedQuestion, LoggedVote


def question(text: str, session: str = "s1", turn: int = 0) -> LoggedQuestion:
    return LoggedQuestion(time=1000.0, channel="api", question=text, abstained=False,
                          session=session, turn=turn)  # fmt: skip


def vote(kind: str, session: str = "s1", turn: int = 0) -> LoggedVote:
    return LoggedVote(time=1001.0, session=session, turn=turn, vote=kind)


def test_sites_sharing_a_database_never_see_each_others_rows(log_url: str) -> None:
    north, south = LogStore(log_url, "north"), LogStore(log_url, "south")
    north.add([question("library hours?")], [vote("down")])
    # The same session and turn on another site: its own question, its own vote.
    south.add([question("parking permit?")], [vote("up")])
    assert [(r.question, r.vote) for r in north.questions()] == [("library hours?", "down")]
    assert [(r.question, r.vote) for r in south.questions()] == [("parking permit?", "up")]
    assert (north.count(), south.count(), LogStore(log_url).count()) == (1, 1, 0)
    assert [v.vote for v in south.votes()] == ["up"]
    assert north.purge(before=2000.0) == 2  # its question and its vote, not south's
    assert south.count() == 1 and len(south.votes()) == 1
    north.close()
    south.close()


def test_a_log_made_before_sites_gets_the_column_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "questions.db"
    with sqlite3.connect(db) as conn:  # the tables as the previous release made them
        conn.execute(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY, time FLOAT NOT NULL, channel "
            "VARCHAR(16) NOT NULL, origin VARCHAR(200) NOT NULL, session VARCHAR(64) NOT NULL, "
            "turn INTEGER NOT NULL, question TEXT NOT NULL, abstained BOOLEAN NOT NULL, source "
            "TEXT NOT NULL, section TEXT NOT NULL, score FLOAT NOT NULL, latency_ms FLOAT NOT "
            "NULL, client VARCHAR(32) NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE votes (id INTEGER PRIMARY KEY, time FLOAT NOT NULL, session "
            "VARCHAR(64) NOT NULL, turn INTEGER NOT NULL, vote VARCHAR(8) NOT NULL, question "
            "TEXT NOT NULL, answer TEXT NOT NULL, abstained BOOLEAN NOT NULL, sections TEXT "
            "NOT NULL)"
        )
        conn.execute(
            "INSERT INTO questions VALUES (1, 1000, 'api', '', 's1', 0, 'old question?', 0, "
            "'', '', 0.5, 10, '')"
        )
        conn.execute("INSERT INTO votes VALUES (1, 1001, 's1', 0, 'down', '', '', 0, '[]')")
    store = LogStore(f"sqlite:///{db}")
    assert [(r.question, r.vote) for r in store.questions()] == [("old question?", "down")]
    store.add([question("new question?", session="s2")], [])
    assert store.count() == 2 and LogStore(f"sqlite:///{db}", "north").count() == 0
    store.close()

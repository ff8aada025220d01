"""Votes: the summary of ``python -m bot feedback`` over the question log, and the reader of
the old JSONL feedback log (imported into the question log once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.insights.feedback import format_summary, read_records, summarize, vote_of
from bot.insights.logstore import LogStore
from bot.types import LoggedVote

NOW = 1_800_000_000.0


def vote(kind: str, session: str = "s1", turn: int = 0, **fields: object) -> LoggedVote:
    values: dict[str, object] = {
        "question": "How much?",
        "answer": "It costs $40. [1]",
        "sections": ("Cost and funding",),
        **fields,
    }
    return LoggedVote(NOW + turn, session, turn, kind, **values)  # type: ignore[arg-type]


def test_vote_of_maps_gradio_like_values() -> None:
    assert vote_of(True) == "up"
    assert vote_of(False) == "down"
    assert vote_of("") == "cleared"
    assert vote_of(None) == "cleared"


def test_old_log_lines_are_read_and_malformed_ones_skipped(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    good = {
        "time": "2026-01-02T03:04:05+00:00",
        "session": "s",
        "turn": 1,
        "vote": "up",
        "question": "Ünïcode <b>?</b>",
        "answer": "A",
        "citations": [],
    }
    path.write_text(
        json.dumps(good) + '\n{"vote": "up", "turn": "x", "citations": "nope"}\n[1, 2]\n'
        '{"vote": "maybe"}\n{"cut short\n',
        encoding="utf-8",
    )
    got = list(read_records([path]))
    assert [r["vote"] for r in got] == ["up", "up"]
    assert got[0]["question"] == "Ünïcode <b>?</b>"
    assert got[1]["turn"] == 0 and got[1]["citations"] == []


def test_summary_counts_each_answer_by_its_latest_vote() -> None:
    votes = [
        vote("up", turn=0),
        vote("down", turn=0),  # changed mind: counts once, as down
        vote("up", turn=1),
        vote("up", turn=2),
        vote("cleared", turn=2),  # vote taken back: not counted
        vote("down", session="s2", turn=0, abstained=True, question="Weather?"),
    ]
    s = summarize(votes)
    assert (s.votes, s.up, s.down, s.rated, s.abstained_down) == (6, 1, 2, 3, 1)
    assert s.down_sections["Cost and funding"] == 2
    assert s.recent_down[0].question == "Weather?"  # newest first


def test_format_summary_is_readable_and_terminal_safe() -> None:
    assert format_summary(summarize([])) == "No feedback yet."
    hostile = "What?\x1b[2J\x1b]0;pwned\x07\r\nnext line"
    text = format_summary(summarize([vote("down", question=hostile)]), "questions.db")
    assert "1 answers rated" in text and "thumbs down:     1  100%" in text
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "Q: What? [2J ]0;pwned next line" in text


def test_cli_feedback_summary_reads_the_question_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path))
    assert main(["feedback"]) == 0
    assert "No feedback yet" in capsys.readouterr().out
    store = LogStore(f"sqlite:///{tmp_path / 'questions.db'}")
    store.add([], [vote("up"), vote("down", turn=1, question="Is there a hands-on part?")])
    assert main(["feedback", "--recent", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 answers rated" in out and "Is there a hands-on part?" in out
    monkeypatch.setenv("FAQBOT_QUESTION_LOG", "off")
    assert main(["feedback"]) == 0
    assert "question log is off" in capsys.readouterr().out

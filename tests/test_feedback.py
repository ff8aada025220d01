"""Feedback log: records, rotation (the log never grows without bound), summary, CLI."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.answer import Citation
from bot.feedback import (
    LOG_NAME,
    MAX_FIELD_CHARS,
    FeedbackLog,
    format_summary,
    make_record,
    read_records,
    summarize,
    vote_of,
)

CITE = Citation(1, "guide.txt", "Cost and funding", "It costs $40.", 10, 23, "Long passage.")


def record(vote: str, session: str = "s1", turn: int = 0, **kw: object) -> dict[str, object]:
    fields: dict[str, object] = {"question": "How much?", "answer": "It costs $40. [1]"}
    fields.update(kw)
    return make_record(
        str(fields["question"]), str(fields["answer"]), [CITE], vote,
        session=session, turn=turn, abstained=bool(fields.get("abstained")),
    )  # fmt: skip


def test_vote_of_maps_gradio_like_values() -> None:
    assert vote_of(True) == "up"
    assert vote_of(False) == "down"
    assert vote_of("") == "cleared"
    assert vote_of(None) == "cleared"


def test_record_has_question_answer_citations_vote_and_time() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    r = make_record("Q?", "A [1]", [CITE], "up", session="abc", turn=3, now=now)
    assert r == {
        "time": "2025-01-02T03:04:05+00:00", "session": "abc", "turn": 3, "vote": "up",
        "question": "Q?", "answer": "A [1]", "abstained": False,
        "citations": [{"n": 1, "source": "guide.txt", "section": "Cost and funding",
                       "quote": "It costs $40."}],
    }  # fmt: skip
    assert "passage" not in json.dumps(r)  # whole passages would bloat the log


def test_record_caps_hostile_sizes_and_accepts_dicts() -> None:
    huge = "x" * 100_000
    cites = [{"n": i, "source": huge, "section": huge, "quote": huge} for i in range(50)]
    r = make_record(huge, huge, cites, "nonsense")
    assert len(r["question"]) <= MAX_FIELD_CHARS + 1
    assert len(r["answer"]) <= MAX_FIELD_CHARS + 1
    assert len(r["citations"]) == 10
    assert r["vote"] == "cleared"
    assert len(json.dumps(r)) < 40_000


def test_append_and_read_back(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "data", max_bytes=1_000_000)
    log.append(record("up"))
    log.append(record("down", turn=1, question="Ünïcode <b>?</b>"))
    got = list(log.records())
    assert [r["vote"] for r in got] == ["up", "down"]
    assert got[1]["question"] == "Ünïcode <b>?</b>"
    assert log.path == tmp_path / "data" / LOG_NAME


def test_rotation_keeps_the_log_bounded(tmp_path: Path) -> None:
    max_bytes = 2_000
    log = FeedbackLog(tmp_path, max_bytes=max_bytes, backups=2)
    for i in range(300):
        log.append(record("up", turn=i))
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.2"]
    assert all(f.stat().st_size <= max_bytes for f in files)
    turns = [r["turn"] for r in log.records()]
    assert turns[-1] == 299  # newest kept, in order
    assert turns == sorted(turns)


def test_one_oversized_line_still_written_after_rotation(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=100)
    log.append(record("up", turn=1))
    log.append(record("down", turn=2))
    assert [r["turn"] for r in read_records([log.path])] == [2]
    assert len(log.files()) == 2


def test_malformed_lines_are_skipped(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=10_000)
    log.append(record("up"))
    with log.path.open("a", encoding="utf-8") as fh:
        fh.write('{"vote": "up", "turn": "x", "citations": "nope"}\n[1, 2]\n{"cut short\n')
    log.append(record("down", turn=1))
    got = list(log.records())
    assert [r["vote"] for r in got] == ["up", "up", "down"]
    assert got[1]["turn"] == 0 and got[1]["citations"] == []


def test_concurrent_appends_stay_whole_lines(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=10_000_000)

    def worker(k: int) -> None:
        for i in range(50):
            log.append(record("up", session=f"s{k}", turn=i))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(log.records())) == 400


def test_summary_counts_each_answer_by_its_latest_vote() -> None:
    records = [
        record("up", turn=0),
        record("down", turn=0),  # changed mind: counts once, as down
        record("up", turn=1),
        record("up", turn=2),
        record("cleared", turn=2),  # vote taken back: not counted
        record("down", session="s2", turn=0, abstained=True, question="Weather?"),
    ]
    s = summarize(records)
    assert (s.votes, s.up, s.down, s.rated, s.abstained_down) == (6, 1, 2, 3, 1)
    assert s.down_sections["Cost and funding"] == 2
    assert s.recent_down[0]["question"] == "Weather?"  # newest first


def test_format_summary_is_readable_and_terminal_safe() -> None:
    assert format_summary(summarize([])) == "No feedback yet."
    hostile = "What?\x1b[2J\x1b]0;pwned\x07\r\nnext line"
    text = format_summary(summarize([record("down", question=hostile)]), "log.jsonl")
    assert "1 answers rated" in text and "thumbs down:     1  100%" in text
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "Q: What? [2J ]0;pwned next line" in text


def test_cli_feedback_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path))
    assert main(["feedback"]) == 0
    assert "No feedback yet" in capsys.readouterr().out
    log = FeedbackLog(tmp_path, max_bytes=10_000)
    log.append(record("up"))
    log.append(record("down", turn=1, question="Is there a hands-on part?"))
    assert main(["feedback", "--recent", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 answers rated" in out
    assert "Is there a hands-on part?" in out


def test_vote_swallows_disk_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    log = FeedbackLog(blocker / "data", max_bytes=1000)
    log.vote("Q", "A", [CITE], True, session="s", turn=0)  # must not raise
    assert not (blocker / "data").exists()


def test_one_vote_per_answer_per_session_latest_wins(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=1_000_000)
    for _ in range(300):  # one session clicking like on one answer, over and over
        log.vote("How much?", "It costs $40. [1]", [CITE], True, session="s1", turn=0)
    assert len(log.path.read_text().splitlines()) == 1
    log.vote("How much?", "It costs $40. [1]", [CITE], False, session="s1", turn=0)
    log.vote("How much?", "It costs $40. [1]", [CITE], False, session="s1", turn=0)
    log.vote("Where?", "Lot C. [1]", [CITE], True, session="s2", turn=0)  # someone else
    assert [r["vote"] for r in log.records()] == ["up", "down", "up"]
    s = summarize(log.records())
    assert (s.up, s.down, s.votes) == (1, 1, 3)  # s1's like then dislike: one dislike


def test_remembered_votes_are_bounded(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=1_000_000, max_remembered=3)
    for turn in range(10):
        log.vote("Q", "A", [CITE], True, session="s", turn=turn)
    log.vote("Q", "A", [CITE], True, session="s", turn=0)  # forgotten: written again...
    log.vote("Q", "A", [CITE], True, session="s", turn=9)  # ...remembered: not
    assert len(list(log.records())) == 11
    assert summarize(log.records()).up == 10  # the repeat still counts once

"""Insights from the question log: gaps grouped by meaning, topics, days, the report, the CSV.

Unit tests use hand-made vectors (each text's topic is a direction), so what is grouped
with what is known exactly; the integration tests group the hand-written question sets in
tests/samples/insight_groups/ with the real model."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from bot.errors import FaqBotError
from bot.index.embedding import MiniLMEmbeddings  # light: the model loads on first use
from bot.insights.grouping import (
    InsightsError,
    build_insights,
    format_insights,
    group_questions,
    parse_since,
    sparkline,
    write_csv,
)
from bot.types import Insights, QuestionRow

SETS = sorted((Path(__file__).resolve().parents[1] / "samples" / "insight_groups").glob("*.json"))
DIMS = 16
# Topic directions: a text mentioning the word lies along that axis.
TOPICS = {"parking": 0, "transcript": 1, "refund": 2, "library": 3, "dog": 4, "wifi": 5}


class FakeEmbed:
    """Each text along its topic's axis; "odd"/"even" lean it to either side of the axis, so
    a plain text is the most typical of its group. Counts the texts it is asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        out = []
        for text in texts:
            v = np.zeros(DIMS)
            axis = next((a for w, a in TOPICS.items() if w in text), DIMS - 1)
            v[axis] = 1.0
            v[10] += 0.5 if "odd" in text else -0.5 if "even" in text else 0.0
            out.append(v.tolist())
        return out


def at(day: str, hour: int = 12) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp()


def row(n: int, question: str, when: float, abstained: bool = False, **kw: object) -> QuestionRow:
    return QuestionRow(n, when, "chat", question, abstained, **kw)  # type: ignore[arg-type]


SINCE, UNTIL = at("2026-11-01", 0), at("2026-11-04", 18)
ROWS = [
    # parking: three abstained (two the same question, typed differently) and one
    # answered but voted down, whose passage came closest
    row(1, "parking permit price", at("2026-11-01"), abstained=True, score=0.2, source="a.txt"),
    row(2, "Parking  Permit price", at("2026-11-01", 13), abstained=True, score=0.1),
    row(3, "odd parking question", at("2026-11-03"), abstained=True, score=0.3, source="b.txt"),
    row(
        4,
        "even parking question",
        at("2026-11-03", 9),
        source="guide.txt",
        section="Getting here",
        score=0.55,
        vote="down",
    ),
    # transcripts: two abstained
    row(5, "send my transcript", at("2026-11-01"), abstained=True, score=0.25),
    row(
        6,
        "transcript odd",
        at("2026-11-03"),
        abstained=True,
        score=0.4,
        source="records.md",
        section="Records",
    ),
    # one-offs: the newer is listed first
    row(7, "can my dog come", at("2026-11-01"), abstained=True),
    row(8, "wifi is down", at("2026-11-03"), abstained=True),
    # answered: topics (the last one voted down, so a gap as well)
    row(9, "refund date", at("2026-11-01"), source="aid.pdf", section="Refunds", vote="up"),
    row(10, "refund when", at("2026-11-03"), source="aid.pdf", section="Refunds"),
    row(11, "library hours", at("2026-11-03"), source="lib.html", section="Hours", vote="up"),
    row(12, "refund late", at("2026-11-03", 14), source="aid.pdf", section="Refunds", vote="down"),
    # outside the window
    row(13, "parking again", at("2026-10-20"), abstained=True),
]


@pytest.fixture
def insights() -> Insights:
    return build_insights(ROWS, FakeEmbed(), SINCE, UNTIL)


def test_gaps_are_grouped_by_meaning_largest_first(insights: Insights) -> None:
    sizes = [g.size for g in insights.gaps]
    assert sizes == [4, 2, 1, 1, 1]
    parking, transcripts, newest, newer, oldest = insights.gaps
    assert parking.unanswered == 3  # the fourth was answered, then voted down
    assert transcripts.unanswered == 2
    assert [g.examples for g in (newest, newer, oldest)] == [
        ("refund late",),
        ("wifi is down",),
        ("can my dog come",),
    ]
    assert (newest.unanswered, newest.section) == (0, "Refunds")


def test_gap_examples_are_distinct_and_the_most_typical_first(insights: Insights) -> None:
    parking = insights.gaps[0]
    assert len(parking.examples) == 3
    assert parking.examples[0] == "parking permit price"  # on the axis, and asked twice
    assert set(parking.examples[1:]) == {"odd parking question", "even parking question"}


def test_gap_names_the_nearest_passage_of_its_members(insights: Insights) -> None:
    parking, transcripts = insights.gaps[:2]
    assert (parking.source, parking.section, parking.score) == ("guide.txt", "Getting here", 0.55)
    assert (transcripts.source, transcripts.section) == ("records.md", "Records")


def test_repeats_are_embedded_once() -> None:
    embed = FakeEmbed()
    labels = group_questions(["Parking permit?", "parking   PERMIT?", "hw do i get wifi"], embed)
    assert labels[0] == labels[1] != labels[2]
    assert embed.texts == ["parking permit?", "how do i get wifi"]  # shorthand read too


def test_group_questions_of_none_or_one() -> None:
    assert group_questions([], FakeEmbed()) == []
    assert group_questions(["parking"], FakeEmbed()) == [0]
    assert group_questions(["parking", "PARKING"], FakeEmbed()) == [0, 0]


def test_two_unrelated_questions_stay_apart() -> None:
    assert group_questions(["parking", "wifi"], FakeEmbed()) == [0, 1]


def test_max_gaps_keeps_the_largest() -> None:
    kept = build_insights(ROWS, FakeEmbed(), SINCE, UNTIL, max_gaps=2)
    assert [g.size for g in kept.gaps] == [4, 2]


def test_topics_count_answered_questions_per_section(insights: Insights) -> None:
    topics = [(t.source, t.section, t.questions, t.down) for t in insights.topics]
    assert topics == [
        ("aid.pdf", "Refunds", 3, 1),
        ("guide.txt", "Getting here", 1, 1),
        ("lib.html", "Hours", 1, 0),
    ]
    assert len(build_insights(ROWS, FakeEmbed(), SINCE, UNTIL, max_topics=1).topics) == 1


def test_every_day_of_the_window_is_listed_with_zeros(insights: Insights) -> None:
    days = [(d.day, d.questions, d.abstained, d.up, d.down) for d in insights.days]
    assert days == [
        ("2026-11-01", 5, 4, 1, 0),
        ("2026-11-02", 0, 0, 0, 0),
        ("2026-11-03", 7, 3, 1, 2),
        ("2026-11-04", 0, 0, 0, 0),
    ]


def test_totals_count_the_window_only(insights: Insights) -> None:
    assert (insights.questions, insights.abstained, insights.up, insights.down) == (12, 7, 2, 2)


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    start, end = at("2026-11-01", 0), at("2026-11-03", 0)
    rows = [row(1, "parking", start), row(2, "wifi", end, abstained=True)]
    window = build_insights(rows, FakeEmbed(), start, end)
    assert (window.questions, window.abstained) == (1, 0)
    assert [d.day for d in window.days] == ["2026-11-01", "2026-11-02"]


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InsightsError, match="--since"):
        build_insights(ROWS, FakeEmbed(), UNTIL, SINCE)


NOW = at("2026-11-15", 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - 7 * 86400),
        ("24h", NOW - 24 * 3600),
        ("90m", NOW - 90 * 60),
        ("2w", NOW - 14 * 86400),
        (" 3D ", NOW - 3 * 86400),
        ("2026-11-01", at("2026-11-01", 0)),
        ("2026-11-15", at("2026-11-15", 0)),
    ],
)
def test_parse_since_reads_spans_and_days(text: str, expected: float) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "7", "d", "7y", "0d", "-3d", "7 days", "last week", "2026-13-01", "2026-02-30",
             "01/11/2026", "2026-11-16"],
)  # fmt: skip
def test_parse_since_refuses_anything_else_and_names_the_forms(text: str) -> None:
    with pytest.raises(InsightsError) as caught:
        parse_since(text, NOW)
    assert isinstance(caught.value, FaqBotError)
    message = str(caught.value)
    assert "7d" in message or "future" in message


def test_report_lists_gaps_topics_and_days(insights: Insights) -> None:
    report = format_insights(insights)
    assert "12 questions; not answered: 7 (58%)" in report
    assert "thumbs up 2, down 2 (50% up of 4 rated)" in report
    assert "Questions the pages did not answer" in report
    assert "4 questions (3 not answered, 1 voted down)" in report
    assert "nearest passage: guide.txt § Getting here (score 0.55)" in report
    assert "Most asked answered topics" in report and "aid.pdf § Refunds  (1 voted down)" in report
    assert "2026-11-02" in report and "▁" in report and "█" in report


def test_sparkline_scales_to_the_busiest_day_and_shows_any_question() -> None:
    assert sparkline([0, 1, 50, 100]) == "▁▂▅█"
    assert sparkline([0, 0]) == "▁▁" and sparkline([]) == ""


def test_report_strips_terminal_escapes_from_logged_text() -> None:
    hostile = "\x1b[31mred\x1b[0m alert\x1b]0;owned\x07\x1b(B\r\x08 now\u202e"
    rows = [row(1, hostile, at("2026-11-02"), abstained=True, source="\x1b[2Jpage", score=0.3)]
    report = format_insights(build_insights(rows, FakeEmbed(), SINCE, UNTIL))
    assert "red alert now" in report
    assert "\x1b" not in report and "[31m" not in report and "owned" not in report
    assert "\r" not in report and "\x08" not in report and "\u202e" not in report
    assert "nearest passage: page (score 0.30)" in report


def test_report_of_an_empty_window_says_what_to_do() -> None:
    empty = build_insights([], FakeEmbed(), SINCE, UNTIL)
    assert (empty.questions, empty.gaps, empty.topics) == (0, (), ())
    assert len(empty.days) == 4
    report = format_insights(empty)
    assert report.startswith("No questions were logged from 2026-11-01 00:00 UTC")
    assert "--since" in report


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_has_a_row_per_gap_topic_and_day(insights: Insights, tmp_path: Path) -> None:
    path = tmp_path / "insights.csv"
    write_csv(insights, path)
    table = read_csv(path)
    assert [r["kind"] for r in table].count("gap") == 5
    assert [r["kind"] for r in table].count("topic") == 3
    assert [r["kind"] for r in table].count("day") == 4
    first = table[0]
    assert (first["rank"], first["questions"], first["abstained"], first["down"]) == (
        "1", "4", "3", "1",
    )  # fmt: skip
    assert (first["section"], first["score"]) == ("Getting here", "0.550")
    assert first["examples"].split(" | ")[0] == "parking permit price"
    day = next(r for r in table if r["day"] == "2026-11-03")
    assert (day["questions"], day["abstained"], day["up"], day["down"]) == ("7", "3", "1", "2")


def test_csv_cells_cannot_start_a_formula(tmp_path: Path) -> None:
    rows = [
        row(1, '=HYPERLINK("http://x","click")', at("2026-11-02"), abstained=True,
            source="@SUM(A1)", section="+cmd|' /C calc'!A0", score=0.2),
        row(2, "-2+3", at("2026-11-02"), source="ok.txt", section="-1", vote="down"),
    ]  # fmt: skip
    path = tmp_path / "insights.csv"
    write_csv(build_insights(rows, FakeEmbed(), SINCE, UNTIL), path)
    cells = [c for r in read_csv(path) for c in r.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert '\'=HYPERLINK("http://x","click")' in {c.split(" | ")[0] for c in cells}
    assert {"'@SUM(A1)", "'+cmd|' /C calc'!A0", "'-1"} <= set(cells)


def test_csv_of_an_empty_window_has_the_header_and_days(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_csv(build_insights([], FakeEmbed(), SINCE, UNTIL), path)
    table = read_csv(path)
    assert {r["kind"] for r in table} == {"day"} and len(table) == 4


# --- the hand-written question sets --------------------------------------------------------


def load(path: Path) -> tuple[str, list[str], list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return (
        data["role"],
        [q["question"] for q in data["questions"]],
        [q["group"] for q in data["questions"]],
    )


def test_question_sets_are_shaped_as_described() -> None:
    roles = [load(p)[0] for p in SETS]
    assert roles.count("tune") == 1 and roles.count("check") >= 2
    for path in SETS:
        _, _, groups = load(path)
        sizes = {g: groups.count(g) for g in groups if not g.startswith("single:")}
        assert 6 <= len(sizes) <= 10, path.name
        assert all(3 <= n <= 8 for n in sizes.values()), path.name
        assert any(g.startswith("single:") for g in groups), path.name


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


# The target is ARI >= 0.8. The threshold was chosen on the tune set. Sets whose
# groups are the same need in other words (technical_college_needs, written after the
# others) reach it; on the three whose groups are a broader topic (a maintenance group of
# "ac broken", "mold", "shower won't drain") MiniLM reaches 0.41-0.65, and no threshold,
# linkage or rescaling tried did better than ~0.65. These floors guard what it does reach.
FLOORS = {
    "community_college": 0.8,
    "technical_college_needs": 0.8,
    "grad_course": 0.6,
    "university_library": 0.5,
    "residence_life": 0.35,
}
TOPIC_GRAIN_BELOW_TARGET = {"grad_course", "university_library", "residence_life"}


def adjusted_rand(path: Path, embeddings: MiniLMEmbeddings) -> float:
    from sklearn.metrics import adjusted_rand_score

    _, texts, truth = load(path)
    return float(adjusted_rand_score(truth, group_questions(texts, embeddings.embed_documents)))


@pytest.mark.integration
@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_real_model_groups_each_set_above_its_floor(path: Path, minilm: MiniLMEmbeddings) -> None:
    assert adjusted_rand(path, minilm) >= FLOORS[path.stem]


@pytest.mark.integration
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            marks=pytest.mark.xfail(
                p.stem in TOPIC_GRAIN_BELOW_TARGET,
                reason="MiniLM groups broad topics below 0.8 (see FLOORS)",
                strict=True,
            ),
        )
        for p in SETS
    ],
    ids=[p.stem for p in SETS],
)
def test_real_model_reaches_the_target_ari(path: Path, minilm: MiniLMEmbeddings) -> None:
    assert adjusted_rand(path, minilm) >= 0.8

"""What the question log says to the people who write the pages: the questions the pages did
not answer (abstained on, or answered and voted down), grouped by meaning so that one group
is one page or FAQ entry to write; the sections that did answer, most asked first; and the
daily volume. Reads ``QuestionRow``s (the log's own reading is bot/insights/logstore.py's job) and
an embedding function, so it needs neither the index nor the store.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.errors import FaqBotError
from bot.index.text import SHORTHAND
from bot.types import Day, Gap, Insights, QuestionRow, Topic

Embed = Callable[[list[str]], Sequence[Sequence[float]]]  # MiniLMEmbeddings().embed_documents

# Cosine distance at which two groups of questions stop being merged (average linkage), in
# the space where the batch's shared direction is taken out (see _features). Chosen on
# tests/samples/insight_groups/community_college.json alone (the "tune" set): the best ARI
# averaged over +-0.05 around it, so it sits on a plateau, not at a cliff's edge.
DISTANCE_THRESHOLD = 0.825
# How many questions the batch's mean direction needs before it is taken out in full: two or
# three questions say little about it (and two centred vectors are always opposite).
CENTER_PRIOR = 20
EXAMPLES = 3
SINCE_FORMS = '"90m", "24h", "7d", "2w" (minutes, hours, days, weeks ago) or "2026-11-01" (UTC)'
# ASCII digits, and few: "²" or 5,000 nines must be "cannot read", not a crash in int().
_SPAN = re.compile(r"^([0-9]{1,6})\s*([mhdw])$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Terminal escape sequences whole (CSI "ESC [ ... m", OSC "ESC ] ... BEL", and the short
# ones, "ESC ( B"): stripping only ESC would still leave "[31m" on screen.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]"
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as a formula
_SPARKS = "▁▂▃▄▅▆▇█"


class InsightsError(FaqBotError):
    """The insights cannot be built as asked (a --since the command cannot read, ...)."""


# --- the window ----------------------------------------------------------------------------


def parse_since(text: str, now: float) -> float:
    """Unix seconds of the window's start: a span back from ``now`` or a UTC date."""
    given = text.strip().lower()
    span = _SPAN.match(given)
    if span and int(span.group(1)) > 0:
        return max(0.0, now - int(span.group(1)) * _UNIT[span.group(2)])  # not before 1970
    if _DATE.match(given):
        try:
            day = date.fromisoformat(given)
        except ValueError:  # "2026-02-30"
            problem = f"--since {text!r} is no calendar day: give {SINCE_FORMS}."
            raise InsightsError(problem) from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        if start > now:
            raise InsightsError(f"--since {text!r} is in the future: give a day up to today.")
        return start
    raise InsightsError(f"Cannot read --since {text!r}: give {SINCE_FORMS}.")


# --- grouping by meaning -------------------------------------------------------------------


def _key(text: str) -> str:
    """What makes two logged questions the same question: case, spacing and chat shorthand
    aside ("Hw do I..." is "how do i..."), so repeats are embedded once and counted."""
    words = text.casefold().split()
    return " ".join(SHORTHAND.get(w, w) for w in words)


def _embed(keys: Sequence[str], embed: Embed) -> np.ndarray:
    vectors = np.asarray(embed(list(keys)), dtype=np.float64).reshape(len(keys), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)  # unit length: dot product is cosine


def _features(vectors: np.ndarray) -> np.ndarray:
    """The question vectors less what they share. Logged questions share their setting
    ("library", "dorm", "class"), which pulls apart needs together in MiniLM's space;
    taking out the mean separates them (ARI 0.81 -> 0.88 on the tune set), and unlike
    neighbour-based rescaling it holds on a 1,000-question log."""
    n = len(vectors)
    centred = vectors - vectors.mean(axis=0) * (n / (n + CENTER_PRIOR))
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.clip(norms, 1e-12, None)


def _cluster(features: np.ndarray) -> np.ndarray:
    if len(features) < 2:
        return np.zeros(len(features), dtype=int)
    from sklearn.cluster import AgglomerativeClustering  # a second's import, only when used

    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",  # a group's members are close on the whole, not along a chain
        distance_threshold=DISTANCE_THRESHOLD,
    )
    return np.asarray(model.fit_predict(features), dtype=int)


def _group(texts: Sequence[str], embed: Embed) -> tuple[list[int], list[str], np.ndarray]:
    """Cluster labels per text (0, 1, ... in order of first appearance),
    each text's key, and each text's vector as clustered."""
    keys = [_key(t) for t in texts]
    distinct = list(dict.fromkeys(keys))
    if not distinct:
        return [], [], np.zeros((0, 0))
    vectors = _features(_embed(distinct, embed))
    raw = _cluster(vectors)
    where = {k: i for i, k in enumerate(distinct)}
    renumber: dict[int, int] = {}
    labels = [renumber.setdefault(int(raw[where[k]]), len(renumber)) for k in keys]
    return labels, keys, vectors[[where[k] for k in keys]]


def group_questions(texts: Sequence[str], embed: Embed) -> list[int]:
    """One cluster label per text; texts that ask for the same thing share a label."""
    return _group(texts, embed)[0]


# --- the insights --------------------------------------------------------------------------


def _gaps(rows: Sequence[QuestionRow], embed: Embed) -> list[Gap]:
    labels, keys, vectors = _group([r.question for r in rows], embed)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        members[label].append(i)
    ranked: list[tuple[int, float, Gap]] = []
    for idx in members.values():
        # The centroid of the rows, repeats counted: the most asked wording weighs most.
        centroid = vectors[idx].mean(axis=0)
        closeness = vectors[idx] @ centroid
        examples: dict[str, str] = {}
        for j in np.argsort(-closeness, kind="stable"):
            row = rows[idx[int(j)]]
            examples.setdefault(keys[idx[int(j)]], row.question)
        nearest = max((rows[i] for i in idx), key=lambda r: r.score)
        gap = Gap(
            size=len(idx),
            examples=tuple(list(examples.values())[:EXAMPLES]),
            unanswered=sum(rows[i].abstained for i in idx),
            source=nearest.source,
            section=nearest.section,
            score=nearest.score,
        )
        ranked.append((len(idx), max(rows[i].time for i in idx), gap))
    ranked.sort(key=lambda t: (-t[0], -t[1]))
    return [gap for _, _, gap in ranked]


def _topics(rows: Sequence[QuestionRow]) -> list[Topic]:
    asked: Counter[tuple[str, str]] = Counter()
    down: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row.abstained or not (row.source or row.section):
            continue  # no passage answered it: it is a gap, not a topic
        asked[(row.source, row.section)] += 1
        down[(row.source, row.section)] += row.vote == "down"
    order = sorted(asked, key=lambda k: (-asked[k], k))
    return [Topic(s, sec, asked[(s, sec)], down[(s, sec)]) for s, sec in order]


def _utc_day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()


def _days(rows: Sequence[QuestionRow], since: float, until: float) -> list[Day]:
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        c = counts[_utc_day(row.time)]
        c[0] += 1
        c[1] += row.abstained
        c[2] += row.vote == "up"
        c[3] += row.vote == "down"
    # The window ends before ``until``: one ending at midnight does not list the next day.
    first, last = _utc_day(since), _utc_day(max(since, until - 0.001))
    out = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        out.append(Day(day.isoformat(), *counts.get(day, [0, 0, 0, 0])))
    return out


def build_insights(
    rows: Sequence[QuestionRow],
    embed: Embed,
    since: float,
    until: float,
    *,
    max_gaps: int = 20,
    max_topics: int = 10,
) -> Insights:
    """The insights of the rows logged in [since, until), as the log store reads a window
    (rows outside it are ignored)."""
    if since > until:
        raise InsightsError("The window starts after it ends: give a --since in the past.")
    window = [r for r in rows if since <= r.time < until]
    gaps = [r for r in window if r.abstained or r.vote == "down"]
    return Insights(
        since=since,
        until=until,
        questions=len(window),
        abstained=sum(r.abstained for r in window),
        up=sum(r.vote == "up" for r in window),
        down=sum(r.vote == "down" for r in window),
        gaps=tuple(_gaps(gaps, embed)[:max_gaps]),
        topics=tuple(_topics(window)[:max_topics]),
        days=tuple(_days(window, since, until)),
    )


# --- the report ----------------------------------------------------------------------------


def clean(text: object, limit: int = 0) -> str:
    """One line with no escape sequences or control characters: logged questions are user
    input and must not drive the terminal (or a spreadsheet) of whoever reads them."""
    text = _ANSI.sub(" ", str(text or ""))
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if not limit or len(text) <= limit else text[: limit - 1] + "…"


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def sparkline(values: Sequence[int]) -> str:
    """One bar per value, scaled to the largest; any non-zero value shows above a zero."""
    top = max(max(values, default=0), 1)
    steps = len(_SPARKS) - 1
    return "".join(_SPARKS[max(v > 0, round(v / top * steps))] for v in values)


def format_insights(insights: Insights) -> str:
    i = insights
    window = f"{_when(i.since)} to {_when(i.until)}"
    if not i.questions:
        return (
            f"No questions were logged from {window}.\n"
            "Try a longer window (--since 30d), and check that the question log is on and "
            "that the assistant is answering students."
        )
    rated = i.up + i.down
    lines = [
        f"Questions from {window}",
        f"  {i.questions} questions; not answered: {i.abstained} "
        f"({_share(i.abstained, i.questions)})",
        f"  thumbs up {i.up}, down {i.down}"
        + (f" ({_share(i.up, rated)} up of {rated} rated)" if rated else " (none rated)"),
        "",
        "Questions the pages did not answer (not answered, or voted down), by meaning:",
    ]
    if not i.gaps:
        lines.append("  none in this window")
    for n, gap in enumerate(i.gaps, 1):
        downs = gap.size - gap.unanswered
        lines.append(
            f"{n:>3}. {gap.size} question{'s' if gap.size != 1 else ''} "
            f"({gap.unanswered} not answered, {downs} voted down)"
        )
        lines += [f"       - {clean(e, 100)}" for e in gap.examples]
        if gap.source or gap.section:
            where = clean(" § ".join(p for p in (gap.source, gap.section) if p), 90)
            lines.append(f"       nearest passage: {where} (score {gap.score:.2f})")
        else:
            lines.append("       nearest passage: none found")
    lines += ["", "Most asked answered topics:"]
    if not i.topics:
        lines.append("  none in this window")
    for t in i.topics:
        where = clean(" § ".join(p for p in (t.source, t.section) if p), 80)
        down = f"  ({t.down} voted down)" if t.down else ""
        lines.append(f"  {t.questions:>5}  {where}{down}")
    volume = [d.questions for d in i.days]
    lines += [
        "",
        f"Daily volume: {sparkline(volume)}",
        "  day         questions  not answered  up  down",
    ]
    for d, spark in zip(i.days, sparkline(volume), strict=True):
        lines.append(
            f"  {d.day}  {d.questions:>9}  {d.abstained:>12}  {d.up:>2}  {d.down:>4}  {spark}"
        )
    return "\n".join(lines)


def _cell(value: object) -> str:
    """A CSV cell Excel will not run: one line, and text starting like a formula (a logged
    "=HYPERLINK(...)") gets an apostrophe, which Excel shows as text."""
    if isinstance(value, float):
        value = f"{value:.3f}"
    return spreadsheet_safe(clean(value) if isinstance(value, str) else str(value))


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character is defused."""
    return "'" + cell if cell.startswith(FORMULA) else cell


CSV_COLUMNS = (
    "kind", "rank", "day", "questions", "abstained", "up", "down",
    "source", "section", "score", "examples",
)  # fmt: skip


def write_csv(insights: Insights, path: Path) -> None:
    """One table, a row per gap, topic and day; ``kind`` says which. Columns:

    - ``kind``: "gap", "topic" or "day"; ``rank``: 1 = largest gap / most asked topic
      (blank for days); ``day``: the UTC day ("2026-12-01"), days only.
    - ``questions``: a gap's size, a topic's or a day's questions.
    - ``abstained``: not answered (a gap's ``unanswered``, a day's count); ``up``/``down``:
      thumbs (a gap's ``down`` = its voted-down questions; topics have ``down`` only).
    - ``source``/``section``/``score``: a gap's nearest passage and its evidence score, a
      topic's section.
    - ``examples``: a gap's example questions, most typical first, joined with " | ".

    UTF-8 with a byte-order mark so Excel shows accents; logged text is cleaned to one line
    and guarded against formula injection."""
    rows: list[list[object]] = []
    for n, g in enumerate(insights.gaps, 1):
        examples = " | ".join(clean(e) for e in g.examples)
        downs = g.size - g.unanswered
        rows.append(["gap", n, "", g.size, g.unanswered, "", downs, g.source, g.section,
                     g.score, examples])  # fmt: skip
    for n, t in enumerate(insights.topics, 1):
        rows.append(["topic", n, "", t.questions, "", "", t.down, t.source, t.section, "", ""])
    for d in insights.days:
        rows.append(["day", "", d.day, d.questions, d.abstained, d.up, d.down, "", "", "", ""])
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([_cell(v) for v in row])

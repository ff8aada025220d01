"""Progress a person can follow: events per stage through a real ingest (corpus file and a
page from a loopback server), the command's display of them on a pipe and on a terminal,
and a summary that names pages fetched, unchanged and failed."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.ingest.pipeline import ingest
from bot.ingest.progress import ConsoleProgress
from bot.types import Progress
from tests.conftest import HashingEmbeddings
from tests.ingest.test_fetch_hardening import PAGE, Served, serving

STAGES = ["fetching", "loading", "chunking", "embedding", "writing"]


@pytest.fixture
def site() -> Iterator[Served]:
    with serving(Served(routes={"/page.html": (200, {"ETag": '"v1"'}, PAGE)})) as served:
        yield served


def by_stage(events: list[Progress]) -> dict[str, list[Progress]]:
    stages: dict[str, list[Progress]] = {}
    for event in events:
        stages.setdefault(event.stage, []).append(event)
    return stages


@pytest.mark.integration
def test_each_stage_reports_from_zero_to_its_total_in_order(
    settings: Settings, fake_embeddings: HashingEmbeddings, site: Served
) -> None:
    events: list[Progress] = []
    urls = [f"{site.base}/page.html", f"{site.base}/gone.html"]
    result = ingest(settings, fake_embeddings, progress=events.append, urls=urls)
    stages = by_stage(events)
    # Stages run one after the other: each one's events come as one run.
    assert list(dict.fromkeys(e.stage for e in events)) == STAGES
    assert sum(1 for a, b in itertools.pairwise(events) if a.stage != b.stage) == 4
    for name, seen in stages.items():
        assert seen[0].done == 0, name
        assert seen[-1].done == seen[-1].total > 0, name
        done = [e.done for e in seen]
        assert done == sorted(done), name
        assert all(e.done <= e.total for e in seen if e.total), name
    assert stages["fetching"][-1].total == 2  # both addresses tried: one page came, one 404
    assert stages["loading"][-1].total == 2  # the guide and the page
    assert stages["embedding"][-1].total == result.embedded == result.texts
    assert stages["writing"][-1].total > result.chunks
    assert [name for name, _ in result.counts.stages] == STAGES


@pytest.mark.integration
def test_the_summary_names_pages_fetched_unchanged_and_failed(
    settings: Settings, fake_embeddings: HashingEmbeddings, site: Served
) -> None:
    urls = [f"{site.base}/page.html", f"{site.base}/gone.html"]
    first = ingest(settings, fake_embeddings, urls=urls)
    summary = first.summary()
    assert "Web pages: 1 fetched, 0 unchanged (304), 1 failed" in summary
    assert f"{site.base}/gone.html (HTTP 404" in summary  # the failure, with why
    assert "Time: fetching" in summary and "writing" in summary
    assert (first.counts.fetched, first.counts.unchanged, first.counts.failed) == (1, 0, 1)
    # The page is unchanged now (304) and the 404 still fails: nothing to rebuild.
    site.routes["/page.html"] = (304, {"ETag": '"v1"'}, b"")
    again = ingest(settings, fake_embeddings, urls=urls)
    assert not again.changed
    assert "Web pages: 0 fetched, 1 unchanged (304), 1 failed" in again.summary()
    asked = [{k.lower(): v for k, v in h.items()} for p, h in site.log if p == "/page.html"]
    assert asked[-1].get("if-none-match") == '"v1"'  # a conditional request


def test_a_summary_of_a_corpus_folder_alone_has_no_web_line(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    result = ingest(settings, fake_embeddings)
    summary = result.summary()
    assert "Web pages" not in summary and "Time: loading" in summary
    assert f"({result.embedded} embedded, 0 reused)" in summary  # a first build reuses nothing
    assert result.counts.files == 1 and result.counts.chunks == result.chunks


def test_on_a_pipe_each_stage_is_a_few_plain_lines(
    settings: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    stream = io.StringIO()  # not a terminal, as when the command's output goes to a log
    shown = ConsoleProgress(stream)
    ingest(settings, fake_embeddings, progress=shown)
    shown.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    for stage in STAGES[1:]:  # no pages listed: nothing is fetched
        ended = [line for line in lines if line.startswith(f"{stage}: ") and " in " in line]
        assert len(ended) == 1, (stage, lines)
    assert len(lines) <= 2 * len(STAGES)  # a start and an end line each, not one per event


def test_a_long_stage_prints_its_rate_and_time_left_every_few_seconds() -> None:
    now = [0.0]
    stream = io.StringIO()
    shown = ConsoleProgress(stream, tty=False, every=10.0, clock=lambda: now[0])
    for t, done in ((0.0, 0), (5.0, 200), (12.0, 480), (15.0, 600), (25.0, 1000)):
        now[0] = t
        shown(Progress("embedding", done, 2000))
    shown.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "embedding: 0/2,000 texts (0%)"
    assert lines[1] == "embedding: 480/2,000 texts (24%), 40.0 texts/s, about 38 s left"
    assert lines[2].startswith("embedding: 1,000/2,000 texts (50%)")  # 13 s after the last
    assert lines[-1] == "embedding: 1,000/2,000 texts in 25.0 s"
    assert len(lines) == 4


def test_on_a_terminal_each_stage_gets_a_bar() -> None:
    stream = io.StringIO()
    shown = ConsoleProgress(stream, tty=True)
    for stage, total in (("loading", 3), ("embedding", 130)):
        for done in range(0, total + 1, 10 if total > 10 else 1):
            shown(Progress(stage, done, total))
        shown(Progress(stage, total, total))
    shown.close()
    out = stream.getvalue()
    assert "\r" in out  # tqdm redraws its bar in place
    assert "loading: 100%" in out and "3/3" in out
    assert "embedding: 100%" in out and "130/130" in out and "text/s" in out

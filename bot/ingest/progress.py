"""How far an ingest has got: each stage's events and clock (:class:`Stages`), and the
command's display of them (:class:`ConsoleProgress`): a tqdm bar per stage on a terminal;
on a pipe or a log file, plain lines (one when a stage starts, one every ~10 s while it
runs, one when it ends), since a bar's carriage returns make a log unreadable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from bot.types import Progress

Report = Callable[[Progress], None]
Step = Callable[[int, int], None]  # (done, total) of the running stage
UNITS = {"fetching": "page", "loading": "doc", "chunking": "doc", "embedding": "text",
         "writing": "row"}  # fmt: skip
PLAIN_EVERY = 10.0  # seconds between plain progress lines of one stage


class Stages:
    """Times each stage of one ingest and sends its events to ``report`` (None: nobody)."""

    def __init__(self, report: Report | None = None) -> None:
        self.report = report
        self.seconds: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str, total: int = 0) -> Iterator[Step]:
        """Run one stage: a (0, total) event now, the ``step`` yielded for the ones in
        between, and a last event with everything done once the block ends without error."""
        started = time.perf_counter()
        last = [0, total]

        def step(done: int, total: int) -> None:
            last[:] = [done, total]
            if self.report is not None:
                self.report(Progress(name, done, total))

        step(0, total)
        yield step
        self.seconds.append((name, round(time.perf_counter() - started, 3)))
        finished = last[1] or last[0]
        step(finished, finished)


class ConsoleProgress:
    """Shows :class:`Progress` events on ``stream`` (the command passes stderr, so the
    summary on stdout stays clean). ``tty``: draw bars (default: whether ``stream`` is a
    terminal). Call :meth:`close` at the end, also after an error."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self.stage = ""
        self.done = self.total = 0
        self.started = self.printed = 0.0
        self.bar: Any = None

    def __call__(self, event: Progress) -> None:
        if event.stage != self.stage:
            self._end()
            self.stage, self.started = event.stage, self.clock()
            self.done, self.total = event.done, event.total
            self._begin()
        self.done, self.total = event.done, event.total
        if self.tty:
            self._bar_to(event)
        elif self.clock() - self.printed >= self.every:
            self._line()

    def close(self) -> None:
        self._end()
        self.stage = ""

    def _begin(self) -> None:
        if self.tty:
            from tqdm import tqdm

            unit = UNITS.get(self.stage, "item")
            self.bar = tqdm(total=self.total or None, desc=self.stage, unit=unit,
                            file=self.stream, dynamic_ncols=True)  # fmt: skip
        else:
            self._line()

    def _bar_to(self, event: Progress) -> None:
        if event.total and self.bar.total != event.total:
            self.bar.total = event.total  # a sitemap can name more pages as it is read
            self.bar.refresh()
        if event.done > self.bar.n:
            self.bar.update(event.done - self.bar.n)  # update() keeps tqdm's own rate limit

    def _end(self) -> None:
        if not self.stage:
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif not self.tty:
            self._line(ended=True)

    def _line(self, ended: bool = False) -> None:
        now = self.clock()
        self.printed = now
        self.stream.write(progress_line(self.stage, self.done, self.total, now - self.started,
                                        ended) + "\n")  # fmt: skip
        self.stream.flush()


def progress_line(stage: str, done: int, total: int, seconds: float, ended: bool = False) -> str:
    """``embedding: 1,280/4,000 texts (32%), 85 texts/s, about 32 s left`` (or ``... in
    47.1 s`` once the stage has ended)."""
    unit = UNITS.get(stage, "item")
    if not (done or total or ended):
        return f"{stage}: starting"
    count = f"{done:,}/{total:,}" if total else f"{done:,}"
    text = f"{stage}: {count} {unit}s"
    if total and not ended:
        text += f" ({100 * done // total}%)"
    if ended:
        return f"{text} in {seconds:.1f} s"
    if done and seconds > 0:
        rate = done / seconds
        text += f", {rate:,.1f} {unit}s/s"
        if total > done:
            text += f", about {_duration((total - done) / rate)} left"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"

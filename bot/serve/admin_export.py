"""The admin page's exports of the question log: CSV and JSON lines, one row at a time. The
text is cleaned as the insights command's (grouping.clean): no terminal escapes; a CSV cell
that a spreadsheet would run as a formula gets a leading apostrophe."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

from bot.insights.grouping import clean, spreadsheet_safe
from bot.serve.admin_page import utc
from bot.types import QuestionRow

FIELDS = ("id", "time", "time_utc", "channel", "origin", "question", "abstained", "source",
          "section", "score", "latency_ms", "vote", "session", "turn")  # fmt: skip


def export_record(row: QuestionRow) -> dict[str, Any]:
    """A row as exported: its text on one line, without control characters or escapes."""
    record = {k: clean(v) if isinstance(v, str) else v for k, v in asdict(row).items()}
    return {**record, "time_utc": utc(row.time, seconds=True)}


def jsonl(row: QuestionRow) -> str:
    return json.dumps(export_record(row), ensure_ascii=False)


def csv_lines(rows: Iterable[QuestionRow]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for row in rows:
        record = export_record(row)
        writer.writerow(spreadsheet_safe(v) if isinstance(v, str) else v for v in
                        (record[f] for f in FIELDS))  # fmt: skip
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()  # the header alone, when the window is empty

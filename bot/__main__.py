"""Command line: ``python -m bot ask "question"``, ``python -m bot feedback``,
``python -m bot insights --since 7d [--csv FILE]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.config import Settings
from bot.errors import FaqBotError
from bot.types import Answer


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            where = c.url or c.source
            page = f", p. {c.pages}" if c.pages else ""
            lines.append(f"[{c.n}] {where}{page} § {c.section}")
            lines.append(f'    "{c.quote}"')
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question with its sources")
    ask.add_argument("question")
    sub.add_parser("ingest", help="same as python -m bot.ingest")
    feedback = sub.add_parser("feedback", help="summarize the chat's thumbs up/down log")
    feedback.add_argument("--recent", type=int, default=5, help="latest thumbs-down to list")
    insights = sub.add_parser("insights", help="what students asked: gaps, topics, daily figures")
    insights.add_argument("--since", default="7d", help="7d, 24h, 2w or a date (2026-11-01)")
    insights.add_argument("--csv", type=Path, help="also write the figures to this CSV file")
    args, rest = parser.parse_known_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "ingest":
            from bot.ingest.pipeline import main as ingest_main

            return ingest_main(rest)
        if args.command in ("feedback", "insights"):
            return report(args, settings)
        from bot.answer.chain import FaqChain

        chain = FaqChain.from_settings(settings)
        print(format_answer(chain.ask(args.question)))
    except FaqBotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def report(args: argparse.Namespace, settings: Settings) -> int:
    """The question log's summaries, read from its database (an old feedback.jsonl is
    imported first, once)."""
    from bot.insights.questionlog import QuestionLog, open_log

    log = open_log(settings)
    if not isinstance(log, QuestionLog):
        print("The question log is off (FAQBOT_QUESTION_LOG=off): nothing is recorded.")
        return 0
    try:
        log.flush()  # the import of an old feedback log runs first, in the writer
        if args.command == "feedback":
            from bot.insights.feedback import format_summary, summarize

            where = log.store().url
            print(format_summary(summarize(log.store().votes(), args.recent), where))
            return 0
        from bot.insights.grouping import format_insights, parse_since, write_csv
        from bot.insights.reports import Reports

        now = time.time()
        insights = Reports(settings, log).insights(parse_since(args.since, now), now)
        print(format_insights(insights))
        if args.csv:
            write_csv(insights, args.csv)
            print(f"Wrote {args.csv}")
        return 0
    finally:
        log.close()


if __name__ == "__main__":
    raise SystemExit(main())

"""Command line: ``python -m bot ask "question"``, ``python -m bot feedback``."""

from __future__ import annotations

import argparse
import sys

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
    args, rest = parser.parse_known_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "ingest":
            from bot.ingest import main as ingest_main

            return ingest_main(rest)
        if args.command == "feedback":
            from bot.feedback import FeedbackLog, format_summary, summarize

            log = FeedbackLog(settings.data_dir, settings.feedback_max_bytes)
            print(format_summary(summarize(log.records(), args.recent), str(log.path)))
            return 0
        from bot.chain import FaqChain

        chain = FaqChain.from_settings(settings)
        print(format_answer(chain.ask(args.question)))
    except FaqBotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

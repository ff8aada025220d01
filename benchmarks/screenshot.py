"""Screenshot of the chat with an answer and its sources (docs/screenshot.png), plus the
time to the first streamed word and to the complete answer, as the browser sees them.

    make screenshot   # FAQBOT_CHROMIUM=/usr/bin/chromium python -m benchmarks.screenshot

Runs the real app (real model, the index ``make ingest`` built) on a free local port and
drives it with headless Chromium. Votes are not clicked, so no feedback is logged.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS
from bot.config import Settings
from bot.errors import FaqBotError
from bot.serve.ui import build_app, page_options

ROOT = Path(__file__).resolve().parent.parent
SHOT_QUESTION = "Do I need to take all the modules at once?"
# Installed before Enter is pressed; resolves with ms from the keypress to the first
# answer text and to the complete answer (sources, or the abstention note, shown).
TIMER_JS = """() => {
  const bots = () => document.querySelectorAll('#faq-chat [data-testid="bot"]');
  const before = bots().length;
  let start = null, first = null;
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && start === null) start = performance.now();
  }, { capture: true });
  window.__faqTiming = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const list = bots();
      if (start === null || list.length <= before) return;
      const last = list[list.length - 1];
      if (first === null && last.textContent.trim()) first = performance.now() - start;
      if (last.querySelector(".faq-sources, .faq-abstain, .faq-notice")) {
        observer.disconnect();
        resolve({ first, full: performance.now() - start });
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed_ask(page: Any, question: str) -> dict[str, float]:
    box = page.locator("#faq-input textarea")
    box.fill(question)
    page.evaluate(TIMER_JS)
    box.press("Enter")
    timing: dict[str, float] = page.evaluate("window.__faqTiming")
    return timing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screenshot", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked")
    parser.add_argument("--question", default=SHOT_QUESTION, help="the one asked in the picture")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: no Chromium at {CHROMIUM}; run `make browser` or set FAQBOT_CHROMIUM",
              file=sys.stderr)  # fmt: skip
        return 1
    from playwright.sync_api import sync_playwright

    from bot.answer.chain import FaqChain

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env().with_(data_dir=Path(data_dir))
        try:
            chain = FaqChain.from_settings(settings)
        except FaqBotError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        suggestions = chain.suggestions()
        chain.ask(suggestions[0])  # the first query warms the model up
        ask_ms = []
        for question in suggestions:
            started = time.perf_counter()
            chain.ask(question)
            ask_ms.append((time.perf_counter() - started) * 1000)
        app = build_app(chain, settings)
        port = free_port()
        app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                   quiet=True, **page_options())  # fmt: skip
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator("#faq-chat").wait_for()
                timings = [
                    (question, timed_ask(page, question))
                    for _ in range(args.rounds)
                    for question in suggestions
                ]
                shot = browser.new_page(viewport={"width": 1280, "height": 800})
                shot.goto(f"http://127.0.0.1:{port}/")
                shot.locator("#faq-chat").wait_for()
                timed_ask(shot, args.question)
                shot.locator("#faq-chat summary").last.click()
                shot.mouse.move(0, 0)  # no hover highlight in the picture
                args.out.parent.mkdir(parents=True, exist_ok=True)
                shot.screenshot(path=str(args.out))
                browser.close()
        finally:
            app.close()
    report(timings, ask_ms)
    print(f"screenshot: {args.out}")
    return 0


def report(timings: list[tuple[str, dict[str, float]]], ask_ms: list[float]) -> None:
    firsts = [t["first"] for _, t in timings]
    fulls = [t["full"] for _, t in timings]
    print(f"{'question':<44} {'first word':>11} {'full answer':>12}")
    for question, t in timings:
        print(f"{question:<44} {t['first']:>8.0f} ms {t['full']:>9.0f} ms")
    print(
        f"median over {len(timings)} asks in Chromium: first streamed word "
        f"{statistics.median(firsts):.0f} ms (max {max(firsts):.0f}), full answer "
        f"{statistics.median(fulls):.0f} ms (max {max(fulls):.0f}); chain.ask alone "
        f"{statistics.median(ask_ms):.0f} ms (median, warm)"
    )


if __name__ == "__main__":
    raise SystemExit(main())

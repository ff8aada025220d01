"""The embedded chat's budgets, measured: ``python -m benchmarks.widget [--quick]``.

The real app (``served_app``: app.py on a 127.0.0.1 port over a temporary index of the demo
guide, per-client limits lifted) is measured three ways; every section records its budget
and whether it was met, in ``benchmarks/results/widget.json``. Sections 1 and 2 are in
``benchmarks/widget_browser.py``, section 3 in ``benchmarks/widget_load.py``; this module
runs them and keeps the command line.

1. Page weight. Headless Chromium opens ``/embed/`` in a fresh context (a cold cache) and
   the DevTools protocol records every request until the network has been quiet for 1 s:
   bytes on the wire (``Network.loadingFinished`` encodedDataLength, headers included, what
   DevTools shows as "transferred"), decoded bodies (``Network.dataReceived``) and the
   Content-Length headers. Budget: <= 60 kB (60,000 bytes) transferred, <= 5 requests.
   The Gradio chat at ``/`` is measured the same way, for comparison (no budget; its
   heartbeat stream never ends, so it is listed as unfinished).
2. Launcher click -> focused input. The demo college page (examples/college-site) is served
   on another origin (http://localhost:P; the app is http://127.0.0.1:Q) with its widget tag
   pointing at the app. An init script, which runs in every frame (the cross-origin chat
   iframe too), stamps ``performance.timeOrigin + performance.now()`` (epoch ms, comparable
   across frames) at the click in the top frame, and in the iframe its navigation start,
   DOMContentLoaded, load and each ``focusin`` on an input or textarea. A fresh context
   each open (the first visit, cold cache). The budget is on the click as a tap (the
   pointer arrives and clicks at once, so the iframe the launcher makes on hover starts
   loading only ~30 ms before the click); with the pointer resting on the launcher for
   0.5 s first it is reported too. Budget: tap p95 <= 300 ms, no request to a third host.
3. Protocol load, with the widget's own protocol: POST /api/chat ``{question, history: [],
   session}``, then the event stream is read until its ``answer`` event (and to its end, so
   the kept-alive connection can be reused). Raw asyncio streams, not httpx: on 2 shared
   cores httpx clients took most of a core from the server they measured.

   a. 50 clients for 60 s, limits lifted. Budget: 0 errors, answer p95 <= 500 ms, server
      peak RSS (VmHWM) <= 500 MB.
   b. 200 clients for 30 s against a second app (``served_app`` again) WITH its normal
      limits: the default queue (FAQBOT_QUEUE_SIZE=64) and the default per-client budget
      (FAQBOT_RATE_PER_MINUTE=20, FAQBOT_RATE_PER_DAY=200), read from bot.config so they
      follow the shipped defaults.
      Every status is counted; only 200 (with an answer), 429 and 503 may occur, each 429
      and 503 with a Retry-After, which the client waits (at most 5 s, so the run keeps
      pressing) before it goes on; and /healthz must still answer 200 at the end.

      Every client here connects from 127.0.0.1, so to the per-client limit 200 clients
      would be one student: after 20 questions everything would be 429 and the queue would
      never fill. A public deployment sits behind a reverse proxy, so this app trusts
      127.0.0.1 as one (FAQBOT_TRUSTED_PROXIES=127.0.0.1/32) and each client sends its own
      X-Forwarded-For from 198.18.0.0/15, the range reserved for benchmarks (RFC 2544):
      200 students, each with their own budget. 200 asking back to back are more than 2
      answering + 64 waiting (503, the queue), and each asks far faster than 20 a minute
      (429, the per-client limit), so both refusals are exercised, as in a real rush.

``--quick``: 5 clients for 5 s in both load runs and 3 focus repeats (a smoke test).
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import load_cases, part_main, served_app
from benchmarks.widget_browser import FOCUS_REPEATS, browser_sections
from benchmarks.widget_load import rush, steady_load


def run(quick: bool = False) -> dict[str, Any]:
    questions = [c.question for c in load_cases() if not c.history]
    with served_app("bench-widget-") as (url, server):
        result = browser_sections(url, 3 if quick else FOCUS_REPEATS)
        result["load"] = steady_load(url, server.pid, questions, quick)
    result["rush"] = rush(questions, quick)
    result["met"] = all(result[k]["met"] for k in ("page_weight", "launcher_focus", "load", "rush"))
    return result


def main(argv: list[str] | None = None) -> int:
    return part_main(
        run, __doc__, "5 clients for 5 s, 3 focus repeats", argv, result_file="widget.json"
    )


if __name__ == "__main__":
    raise SystemExit(main())

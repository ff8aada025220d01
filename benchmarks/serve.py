"""The app as served, for the memory and load benchmarks: ``python -m benchmarks.serve``.

The real host app, built as ``app.py`` builds it (``bot.serve.server.create_server``: the Gradio
chat at ``/`` and every other route), served by ``uvicorn_server`` on 127.0.0.1 only.
Settings come from ``FAQBOT_*`` like the real app; the benchmark points them at a temporary
index and lifts the per-client rate limits, since all of its clients share one loopback
address. ``--backend`` picks the embedding backend, which app.py leaves on "auto".
``--profile FILE`` writes, at shutdown, where the CPU went: cProfile of the main thread
(the event loop: HTTP, routing, Gradio's queue) and of every other thread (the handlers),
as text in FILE and for ``pstats`` in FILE-main.prof and FILE-other.prof beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import sys
import threading
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

PROFILE_ROWS = 45


class ThreadProfiles:
    """cProfile follows one thread only: one profiler for this (main) thread and one for
    each thread started from now on, each started by that thread itself."""

    def __init__(self) -> None:
        self.main = cProfile.Profile()
        self.others: list[cProfile.Profile] = []

    def start(self) -> None:
        def in_new_thread(*_: Any) -> None:
            sys.setprofile(None)
            profile = cProfile.Profile()
            self.others.append(profile)
            profile.enable()

        threading.setprofile(in_new_thread)
        self.main.enable()

    def write(self, path: Path) -> None:
        self.main.disable()
        threading.setprofile(None)
        out = io.StringIO()
        for title, profiles in (("main thread", [self.main]), ("other threads", self.others)):
            if not profiles:
                continue
            stats = pstats.Stats(profiles[0], stream=out)
            for profile in profiles[1:]:
                stats.add(profile)
            # and for pstats (callers, callees): FILE-main.prof, FILE-other.prof
            stats.dump_stats(path.with_name(f"{path.stem}-{title.split()[0]}.prof"))
            for order in ("tottime", "cumulative"):
                out.write(f"===== {title} ({len(profiles)}), by {order}\n")
                stats.sort_stats(order).print_stats(PROFILE_ROWS)
        path.write_text(out.getvalue(), encoding="utf-8")


def _exit(*_: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", default="auto", choices=("auto", "onnx", "torch"))
    parser.add_argument("--profile", type=Path, default=None, help="write a profile here")
    args = parser.parse_args(argv)

    from bot.answer.chain import FaqChain
    from bot.config import Settings
    from bot.index.embedding import MiniLMEmbeddings
    from bot.serve.server import create_server, uvicorn_server

    settings = Settings.from_env().with_(host="127.0.0.1", port=args.port)
    chain = FaqChain.from_settings(settings, embeddings=MiniLMEmbeddings(backend=args.backend))
    app = create_server(chain, settings)
    profiles = ThreadProfiles() if args.profile else None
    if profiles:
        # uvicorn shuts down on SIGTERM, then raises it again for the handler it found:
        # an exit that leaves through the ``finally`` below, not the default's sudden death.
        signal.signal(signal.SIGTERM, _exit)
        profiles.start()
    print(f"serving on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    try:
        uvicorn_server(app, "127.0.0.1", args.port, settings).run()
    finally:
        if profiles:
            profiles.write(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

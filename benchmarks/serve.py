"""The app as served, for the memory and load benchmarks: ``python -m benchmarks.serve``.

Uses ``bot.ui.build_app`` when it exists (else a minimal ``gr.ChatInterface`` around
``chain.ask``) on 127.0.0.1 only. Settings come from ``FAQBOT_*`` like the real app; the
benchmark points them at a temporary index and lifts the per-client rate limits, since all
of its clients share one loopback address.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import sys
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported


def build(chain: Any, settings: Any) -> tuple[Any, dict[str, Any]]:
    import gradio as gr

    ui: Any = None
    with contextlib.suppress(ImportError):
        import bot.ui as ui
    if ui is not None and hasattr(ui, "build_app"):
        build_app: Any = ui.build_app
        page_options: Any = ui.page_options
        # page_options took settings in one version of bot/ui.py and nothing in another.
        takes_settings = bool(inspect.signature(page_options).parameters)
        options = page_options(settings) if takes_settings else page_options()
        return build_app(chain, settings), options

    def respond(message: str, history: list[dict[str, str]]) -> str:
        return str(chain.ask(message, history).text)

    app = gr.ChatInterface(respond, api_name="ask")
    app.queue(default_concurrency_limit=8)
    return app, {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", default="auto", choices=("auto", "onnx", "torch"))
    parser.add_argument(
        "--no-reveal", action="store_true", help="answers in one piece (no word-by-word pacing)"
    )
    args = parser.parse_args(argv)
    if args.no_reveal:
        import bot.ui

        bot.ui.STREAM_WORD_SECONDS = 0.0  # read at call time by ChatHandlers.respond
        bot.ui.STREAM_MAX_SECONDS = 0.0

    from bot.chain import FaqChain
    from bot.config import Settings
    from bot.embedding import MiniLMEmbeddings

    settings = Settings.from_env().with_(host="127.0.0.1", port=args.port)
    chain = FaqChain.from_settings(settings, embeddings=MiniLMEmbeddings(backend=args.backend))
    app, options = build(chain, settings)
    import gradio as gr
    from fastapi import FastAPI

    from bot.server import uvicorn_server

    # Mounted and served like app.py (not Blocks.launch, whose uvicorn trusts proxy headers).
    host = gr.mount_gradio_app(FastAPI(), app, "/", **options)
    print(f"serving on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    uvicorn_server(host, "127.0.0.1", args.port).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

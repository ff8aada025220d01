"""Serve the assistant: ``python app.py`` (``make run``). Settings come from ``FAQBOT_*``.

The chat is at ``/``; ``/embed/``, ``/widget.js``, ``/api/ask`` and ``/healthz`` serve sites
that embed it (see ``bot/serve/server.py``). With ``FAQBOT_SITES_DIR`` set, every site of that
folder is served under ``/s/<name>/`` instead (see ``bot/serve/sites.py``)."""

from __future__ import annotations

import logging
import os
import sys

# No network here, and no telemetry from a student-facing app: off before gradio is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from starlette.types import ASGIApp

from bot.config import Settings
from bot.errors import FaqBotError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own startup self-checks
    try:
        settings = Settings.from_env()
        from bot.answer.chain import FaqChain
        from bot.serve.server import create_server, uvicorn_server
        from bot.serve.sites import serve_sites

        if settings.sites_dir is not None:
            app: ASGIApp = serve_sites(settings)
        else:
            app = create_server(FaqChain.from_settings(settings), settings)
    except FaqBotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Serving on http://{settings.host}:{settings.port}", flush=True)
    # Not uvicorn.run: it would trust X-Forwarded-For from 127.0.0.1 and leave request heads
    # unbounded in size and time (see uvicorn_server).
    uvicorn_server(app, settings.host, settings.port, settings).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Launch the chat UI: ``python app.py`` (``make run``). Settings come from ``FAQBOT_*``."""

from __future__ import annotations

import logging
import os
import sys

# No network here, and no telemetry from a student-facing app: off before gradio is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from bot.config import Settings
from bot.errors import FaqBotError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own startup self-checks
    try:
        settings = Settings.from_env()
        from bot.chain import FaqChain
        from bot.ui import build_app, page_options

        chain = FaqChain.from_settings(settings)
        app = build_app(chain, settings)
    except FaqBotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app.launch(server_name=settings.host, server_port=settings.port, **page_options())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

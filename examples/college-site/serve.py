"""Serve the demo college page on its own port (a second origin), pointing its widget tag
at the assistant: ``python examples/college-site/serve.py [--port 8080] [--assistant URL]``."""

from __future__ import annotations

import argparse
import http.server
from pathlib import Path

PAGE = Path(__file__).with_name("index.html")


def page(assistant: str) -> bytes:
    return PAGE.read_text(encoding="utf-8").replace("WIDGET_ORIGIN", assistant.rstrip("/")).encode()


def html_server(port: int, html: str) -> http.server.ThreadingHTTPServer:
    """A loopback server that answers every GET with ``html`` (call serve_forever)."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--assistant", default="http://127.0.0.1:7860")
    args = parser.parse_args()
    print(f"Demo college page on http://localhost:{args.port} (widget from {args.assistant})")
    html_server(args.port, page(args.assistant).decode()).serve_forever()


if __name__ == "__main__":
    main()

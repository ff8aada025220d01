"""The widget a college embeds: ``/widget.js`` (the one-tag launcher) and ``/embed/``, the
light chat it opens in an iframe (``bot/embed/``: one HTML page, one script, one
stylesheet, plain source with no build step) that speaks ``POST /api/chat``.

The page is filled in here from the site profile; its script and styles are long-cached
under a content hash, gzipped when the browser takes it. No profile text can become markup
or script: it is HTML-escaped in the page, and JSON (with ``<`` escaped) in a data block
the strict CSP never runs.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from bot.config import Settings

HERE = Path(__file__).parent
LAUNCHER = HERE / "widget.js"
EMBED = HERE / "embed"
ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css"}
FOREVER = "public, max-age=31536000, immutable"  # the URL changes when the file does


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> Asset:
        return cls(body, gzip.compress(body, 9, mtime=0), media_type)

    def response(self, request: Request, cache: str) -> Response:
        headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body, headers["Content-Encoding"] = self.gzipped, "gzip"
        media = self.media_type + ("; charset=utf-8" if self.media_type.startswith("text/") else "")
        return Response(body, media_type=media, headers=headers)


def json_literal(value: object) -> str:
    """JSON safe inside HTML and a <script> data block: no "</script>", no comment opener."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def embed_config(settings: Settings, suggestions: list[str]) -> dict[str, Any]:
    profile = settings.profile
    return {
        "title": profile.widget_title,
        "greeting": profile.greeting,
        "placeholder": profile.placeholder,
        "suggestions": suggestions,
        "max_question_chars": settings.max_question_chars,
        "max_history_turns": settings.max_history_turns,
    }


def embed_page(settings: Settings, suggestions: list[str], version: str) -> str:
    template = (EMBED / "index.html").read_text(encoding="utf-8")
    fills = {
        "__TITLE__": html.escape(settings.profile.widget_title, quote=True),
        "__LANG__": "en",
        "__ASSET_VERSION__": version,
        "__CONFIG__": json_literal(embed_config(settings, suggestions)),
    }
    for key, value in fills.items():
        template = template.replace(key, value)
    return template


def launcher_js(settings: Settings) -> str:
    # The launcher's default title is the site profile's, as a JSON string literal (so no
    # profile text can break out of it); a page's data-title still wins.
    default = json_literal(settings.profile.widget_title)
    return LAUNCHER.read_text(encoding="utf-8").replace("__DEFAULT_TITLE__", default)


def widget_router(chain: Any, settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    assets = {name: Asset.of((EMBED / name).read_bytes(), media) for name, media in ASSETS.items()}
    version = hashlib.sha256(b"".join(a.body for a in assets.values())).hexdigest()[:12]
    launcher = Asset.of(launcher_js(settings).encode(), "text/javascript")
    suggest = getattr(chain, "suggestions", None)
    pages: dict[str, Asset] = {}  # per index generation: the suggestions come from it

    @router.get("/widget.js")
    def widget(request: Request) -> Response:
        return launcher.response(request, "public, max-age=300")

    @router.get("/embed")
    def embed_redirect(request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"embed/{query}", status_code=308)

    @router.get("/embed/")
    def embed(request: Request) -> Response:
        generation = str(getattr(getattr(chain, "manifest", None), "generation", ""))
        if generation not in pages:
            offered = suggest() if callable(suggest) else list(settings.profile.suggestions)
            page = embed_page(settings, offered, version).encode()
            pages.clear()
            pages[generation] = Asset.of(page, "text/html")
        return pages[generation].response(request, "no-cache")

    @router.get("/embed/{name}")
    def embed_asset(name: str, request: Request) -> Response:
        asset = assets.get(name)
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return asset.response(request, FOREVER)

    return router

"""How the chat pages look and what they may load: theme, CSS, CSP, page script, the
options shared by ``Blocks.launch`` and ``gr.mount_gradio_app``, and the page's link
preview (Open Graph / Twitter tags from the site profile, see :class:`SocialTags`)."""

from __future__ import annotations

import html
import re
from typing import Any

import gradio as gr
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Profile

SYSTEM_FONTS = "system-ui,-apple-system,Segoe UI,Roboto,Helvetica Neue,Arial,Noto Sans,sans-serif"
MONO_FONTS = "ui-monospace,SFMono-Regular,Menlo,Consolas,Liberation Mono,monospace"
# fmt: off
THEME = gr.themes.Base(
    primary_hue="blue", secondary_hue="slate", neutral_hue="slate",
    font=SYSTEM_FONTS.split(","), font_mono=MONO_FONTS.split(","),  # no font downloads
).set(
    # The Base theme's grey secondary text is too faint on white (WCAG AA needs 4.5:1).
    body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300",
    input_placeholder_color="*neutral_500", input_placeholder_color_dark="*neutral_400",
    block_info_text_color="*neutral_600", block_info_text_color_dark="*neutral_300",
    link_text_color="*primary_700", link_text_color_dark="*primary_300",
)
# fmt: on
CSS = """
.faq-header h1 { font-size: 1.6rem; margin: 0.2rem 0; }
.faq-header p { margin: 0 0 0.4rem; }
.faq-header p, .faq-src-file, .faq-muted { color: var(--body-text-color-subdued); }
.faq-answer, .faq-question, .faq-quote, .faq-passage { white-space: pre-wrap;
  overflow-wrap: anywhere; }
.faq-cite { font-weight: 600; color: var(--link-text-color); }
.faq-sources { margin-top: 0.6rem; } .faq-sources summary { cursor: pointer; font-weight: 600; }
.faq-src-list { margin: 0.4rem 0 0; padding: 0; list-style: none; }
.faq-src-list li { margin-bottom: 0.5rem; } .faq-src-n { font-weight: 600; }
.faq-quote { margin: 0.2rem 0 0; padding-left: 0.6rem;
  border-left: 3px solid var(--border-color-primary); }
.faq-abstain p { margin: 0 0 0.4rem; }
.faq-passage { margin-top: 0.4rem; max-height: 60vh; overflow-y: auto; line-height: 1.5; }
.faq-passage mark { background: #fde68a; color: #1a1a1a; padding: 0 2px; }
@media (max-width: 640px) { .faq-header h1 { font-size: 1.25rem; } }
"""
# Defence in depth: even if some markup slipped through, the page may not load from (or
# send data to) any other host.
CSP = "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; " \
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"  # fmt: skip
HEAD = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
# Gradio labels each message for screen readers with its raw content, which here is HTML:
# they would read the tags aloud. Label each message with its visible text instead.
JS = """() => {
  let queued = false;
  const relabel = () => { queued = false;
    for (const el of document.querySelectorAll('[data-testid="user"], [data-testid="bot"]')) {
      const who = el.dataset.testid === "user" ? "You: " : "Assistant: ";
      const label = who + (el.innerText || "").replace(/\\s+/g, " ").trim();
      if (el.getAttribute("aria-label") !== label) el.setAttribute("aria-label", label);
    } };
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(relabel); } })
    .observe(document.body, { subtree: true, childList: true, characterData: true,
                              attributes: true, attributeFilter: ["aria-label"] });
  relabel();
}"""


def page_options(root_path: str = "") -> dict[str, Any]:
    """Arguments shared by ``Blocks.launch`` and ``gr.mount_gradio_app`` (Gradio 6 takes
    theme/css/head there, not in ``gr.Blocks``). ``root_path``: the public path the chat is
    served under (a site's ``/s/<name>``), which Gradio cannot tell behind a proxy."""
    # fmt: off
    return {
        **({"root_path": root_path} if root_path else {}),
        "theme": THEME, "css": CSS, "head": HEAD, "js": JS,
        "max_file_size": 0,  # no component takes files: /upload refuses any content
        "enable_monitoring": False, "show_error": False, "footer_links": [],
        "run_history": False,  # would keep questions in the browser of a shared lab PC
        "mcp_server": False, "pwa": False, "ssr_mode": False,
    }
    # fmt: on


# Gradio's page template advertises Gradio ("Click to try out the app!", an image on
# another host) in its link-preview tags; a college sharing its chat link gets its own.
GRADIO_SOCIAL_TAG = re.compile(
    r'\s*<meta\s+(?:property="og:[^"]*"|name="twitter:[^"]*")[^>]*>', re.IGNORECASE
)


OWN_PAGES = ("/embed/",)  # pages of ours, with their own head


def social_tags(profile: Profile) -> str:
    """Link-preview tags from the site profile; no image, so no other host."""
    title, about = html.escape(profile.name), html.escape(profile.about)
    tags = [
        ("property", "og:type", "website"), ("property", "og:title", title),
        ("property", "og:description", about), ("name", "twitter:card", "summary"),
        ("name", "twitter:title", title), ("name", "twitter:description", about),
    ]  # fmt: skip
    return "".join(f'<meta {kind}="{key}" content="{value}" />' for kind, key, value in tags)


def with_social_tags(page: bytes, tags: str) -> bytes:
    text = GRADIO_SOCIAL_TAG.sub("", page.decode("utf-8"))
    return text.replace("<head>", "<head>" + tags, 1).encode("utf-8")


class SocialTags:
    """ASGI middleware: the chat's HTML page leaves with the profile's link-preview tags
    instead of Gradio's. Only HTML responses are held and rewritten; everything else
    (the event streams above all) passes through untouched."""

    def __init__(self, app: ASGIApp, profile: Profile) -> None:
        self.app, self.tags = app, social_tags(profile)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] in OWN_PAGES:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = b""

        async def rewrite(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html_page = headers.get("content-type", "").startswith("text/html")
                if html_page and "content-encoding" not in headers:
                    start = message
                    return
            elif start is not None and message["type"] == "http.response.body":
                body += message.get("body", b"")
                if message.get("more_body"):
                    return
                page = with_social_tags(body, self.tags)
                MutableHeaders(scope=start)["content-length"] = str(len(page))
                await send(start)
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, rewrite)

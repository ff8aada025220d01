"""How the chat pages look and what they may load: theme, CSS, CSP, page script, and the
options shared by ``Blocks.launch`` and ``gr.mount_gradio_app``."""

from __future__ import annotations

from typing import Any

import gradio as gr

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
  // Inside the site widget's iframe, Esc asks the widget (another origin) to close.
  if (window.parent !== window) document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") window.parent.postMessage({ type: "faq-widget-close" }, "*");
  });
}"""


def page_options() -> dict[str, Any]:
    """Arguments shared by ``Blocks.launch`` and ``gr.mount_gradio_app`` (Gradio 6 takes
    theme/css/head there, not in ``gr.Blocks``)."""
    # fmt: off
    return {
        "theme": THEME, "css": CSS, "head": HEAD, "js": JS,
        "max_file_size": 0,  # no component takes files: /upload refuses any content
        "enable_monitoring": False, "show_error": False, "footer_links": [],
        "run_history": False,  # would keep questions in the browser of a shared lab PC
        "mcp_server": False, "pwa": False, "ssr_mode": False,
    }
    # fmt: on

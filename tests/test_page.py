"""The chat pages' look and limits: options that fit both launch and mount, no downloads."""

from __future__ import annotations

import inspect

import gradio as gr

from bot.page import page_options


def test_page_options_fit_launch_and_mount_and_use_system_fonts() -> None:
    options = page_options()
    assert options["enable_monitoring"] is False and options["max_file_size"] == 0
    assert "Content-Security-Policy" in options["head"]
    for fn in (gr.Blocks.launch, gr.mount_gradio_app):
        assert set(options) <= set(inspect.signature(fn).parameters), fn
    theme = options["theme"]
    fonts = [*theme._font, *theme._font_mono]
    assert fonts and all(type(f) in (str, gr.themes.Font) for f in fonts)
    assert theme._stylesheets == [] and "googleapis" not in theme._get_theme_css()

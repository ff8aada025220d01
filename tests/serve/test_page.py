"""The chat pages' look and limits: options that fit both launch and mount, no downloads."""

from __future__ import annotations

import inspect

import gradio as gr

from bot.serve.page import page_options


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


GRADIO_HEAD = (
    b'<html><head>\n<meta charset="utf-8" />\n<meta property="og:title" content="Gradio" />\n'
    b'<meta\n\t\t\tproperty="og:image"\n\t\t\tcontent="https://raw.githubusercontent.com/x.jpg"\n\t\t/>\n'
    b'<meta name="twitter:creator" content="@Gradio" /><title>t</title></head><body></body></html>'
)


def test_the_link_preview_is_the_profile_s_and_names_no_other_host() -> None:
    from bot.config import Profile
    from bot.serve.page import social_tags, with_social_tags

    tags = social_tags(Profile(name='Ask "Hill" <College>', about="Answers from our pages."))
    page = with_social_tags(GRADIO_HEAD, tags).decode()
    assert "Gradio" not in page and "githubusercontent" not in page and "http" not in page
    assert '<meta property="og:title" content="Ask &quot;Hill&quot; &lt;College&gt;" />' in page
    assert '<meta name="twitter:description" content="Answers from our pages." />' in page
    assert page.count("<meta") == 7 and '<meta charset="utf-8" />' in page  # others kept

"""Serve: HTTP in front of the chain, for students and for the web team.

Takes a :class:`bot.answer.chain.FaqChain`, the settings and the question log; gives one
ASGI app (``server.py``): the Gradio chat (``ui.py``, its HTML in ``chat_html.py``, link
preview tags in ``page.py``), the JSON and server-sent-event routes (``api.py``), the embed
page and its launcher script with their assets (``widget.py``, ``widget.js``, ``embed/``),
the admin page (``admin.py``, ``admin_page.py``, ``admin/``), and in front of all of them
the guard (``guard.py``: body and time limits, headers, CORS) and per-client budgets
(``ratelimit.py``).

May import every stage below it: ``bot.insights``, ``bot.answer``, ``bot.ingest`` (through
insights), ``bot.index`` and the shared modules. Nothing in ``bot`` imports it; ``app.py``
and the benchmarks do.
"""

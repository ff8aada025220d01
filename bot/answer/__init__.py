"""Answer: a question and its history in, a grounded :class:`bot.types.Answer` out.

``question.py`` reads a question once (follow-ups, respellings, the kind of fact asked,
with ``kinds.py``); ``screen.py`` refuses what the assistant does not do; ``retrieval.py``
ranks passages and sentences; ``extractive.py`` quotes them with ``[n]`` citations or
abstains; ``llm.py`` is the optional LangChain chat-model writer that falls back to the
quotes; ``chain.py`` holds :class:`FaqChain` (what ``bot.open_bot`` returns): it opens the
live index generation, follows swaps and answers.

May import: ``bot.index`` and the shared ``bot.config``, ``bot.errors``, ``bot.types``.
Never ingest, the server or insights.
"""

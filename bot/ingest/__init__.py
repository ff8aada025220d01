"""Ingest: a college's files and listed web pages in, chunks in a new index generation out.

Takes the corpus folder (``corpus.py`` reads it safely: which files, their bytes, nothing
outside it) and the pages listed by address or sitemap (``fetch.py`` with its client, cache
and link and sitemap parsing in ``fetch_client.py``, ``fetch_cache.py``, ``webparse.py``);
``loaders/`` turn bytes into :class:`bot.types.Document` (one module per file type);
``chunking.py`` cuts them into :class:`bot.types.Chunk`; ``pipeline.py`` (``python -m
bot.ingest``) embeds chunks and sentences into a new generation under the ingest lock and
swaps it in.

May import: ``bot.index`` (the store, the embedding model, sentences) and the shared
``bot.config``, ``bot.errors``, ``bot.types``. Never the answer path, the server or insights.
"""

"""Index: what one ingest leaves behind, and the in-memory view the answer path reads.

Takes chunks and their sentences from ingest; gives a Chroma store with one generation per
ingest and its manifest (``store.py``), the embedding model (``embedding.py``), the
in-memory view of one generation: chunks, BM25, sentence and piece vectors, the corpus's
own words (``corpus_index.py``), how a chunk splits into the sentences it embeds and quotes
(``sentences.py``), the word-level text helpers both sides share (``text.py``) and the
corpus's evidence bar (``calibration.py``).

May import: ``bot.config``, ``bot.errors``, ``bot.types`` only. Every other stage imports it.
"""

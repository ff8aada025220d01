"""Insights: what students ask, kept and read back for the college's web team.

Takes the front ends' questions, answers and votes; gives the question log (``questionlog.py``:
queue, PII scrubbing with ``scrub.py``, daily client hashes, a writer thread; ``logstore.py``:
SQLite or PostgreSQL), the votes' summary and the old feedback file's import
(``feedback.py``), unanswered questions grouped by meaning with topics and days
(``grouping.py``), daily charts (``plots.py``) and ``reports.py``, which the admin page and
``python -m bot insights`` read (and which runs a re-ingest for the admin page).

May import: ``bot.ingest`` (re-ingest), ``bot.index`` (the embedding model) and the shared
``bot.config``, ``bot.errors``, ``bot.types``. Never the server.
"""

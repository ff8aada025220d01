"""``python -m bot.ingest``: chunk and embed the corpus (and listed pages) into the index."""

from bot.ingest.pipeline import main

if __name__ == "__main__":
    raise SystemExit(main())

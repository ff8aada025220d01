"""Chunk and embed everything in corpus/ into Chroma. Same as ``python -m bot.ingest``."""

from bot.ingest.pipeline import main

if __name__ == "__main__":
    raise SystemExit(main())

"""The answer stage's test helpers: the real model over the real guide, and one stored
sentence as the answer step sees it."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from bot.config import Settings
from tests.conftest import GUIDE


@pytest.fixture(scope="session")
def real_chain(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real MiniLM model over the real guide, built once per test session."""
    from bot.answer.chain import FaqChain
    from bot.index.embedding import MiniLMEmbeddings
    from bot.ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("real")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(GUIDE, corpus / GUIDE.name)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data")
    embeddings = MiniLMEmbeddings()
    ingest(settings, embeddings)
    return FaqChain(settings, embeddings)


def scored_sentence(chain: Any, text: str) -> Any:
    """The stored sentence whose text starts with ``text``, as the answer step sees it."""
    from bot.types import ScoredSentence

    index = chain.retriever.index
    row = next(s for s in index.sentences if s.span.text.startswith(text))
    return ScoredSentence(0.5, 0.5, index.chunks[row.chunk_id], row.span)

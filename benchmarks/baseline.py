"""Part 6: the stock LangChain tutorial pipeline next to ours, on the same questions.

Stock: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` over the same
corpus, ``Chroma.from_documents`` with the same model, ``as_retriever(k=5)`` similarity
search, question only (it has no chat history). Ours: ``FaqChain.ask`` (hybrid retrieval,
rerank, extractive answer). Retrieval quality is hit@1, hit@5 and MRR@5 over the answerable
questions, judged with evals' own ``hit_rank``. Both run with the query cache cleared before
each question, one after the other per question.

    python -m benchmarks.baseline [--quick]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from benchmarks.common import (
    clear_query_cache,
    load_cases,
    part_main,
    ratio,
    real_embeddings,
    summary_ms,
    temp_index,
    timed_ms,
)

K = 5


def retrieval_metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit_at_1": round(sum(r == 1 for r in ranks) / n, 4),
        "hit_at_5": round(sum(r is not None and r <= K for r in ranks) / n, 4),
        "mrr_at_5": round(sum(1 / r for r in ranks if r is not None and r <= K) / n, 4),
    }


def tutorial_retriever(corpus_dir: Any, persist_dir: Any, embeddings: Any) -> tuple[Any, int]:
    """The LangChain RAG tutorial's indexing, as written there; returns (retriever, chunks)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from bot.ingest.corpus import read_corpus

    docs = [
        Document(page_content=text, metadata={"source": name})
        for name, text in read_corpus(corpus_dir).items()
    ]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    splits = splitter.split_documents(docs)
    client = chromadb.PersistentClient(
        path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma.from_documents(
        splits, embedding=embeddings, client=client, collection_name="tutorial"
    )
    return store.as_retriever(search_kwargs={"k": K}), len(splits)


def run(embeddings: Any = None, quick: bool = False) -> dict[str, Any]:
    from bot.answer.chain import FaqChain
    from bot.ingest.pipeline import ingest
    from evals.metrics import hit_rank

    try:
        import langchain_text_splitters  # noqa: F401
    except ImportError:
        return {"skipped": "langchain-text-splitters is not installed"}

    embeddings = embeddings or real_embeddings()
    cases = load_cases(limit=12 if quick else None)
    tmp = temp_index(prefix="bench-baseline-")
    try:
        started = time.perf_counter()
        ingest(tmp.settings, embeddings)
        ours_ingest = time.perf_counter() - started
        chain = FaqChain(tmp.settings, embeddings)
        started = time.perf_counter()
        stock, stock_chunks = tutorial_retriever(
            tmp.settings.corpus_dir, tmp.root / "tutorial", embeddings
        )
        stock_ingest = time.perf_counter() - started
        for case in cases[:3]:  # warm-up
            stock.invoke(case.question)
            chain.ask(case.question, case.history)

        stock_ms, ours_ms, ours_retrieve_ms = [], [], []
        stock_ranks, ours_ranks = [], []
        for case in cases:
            clear_query_cache(embeddings)
            ms, docs = timed_ms(partial(stock.invoke, case.question))
            stock_ms.append(ms)
            clear_query_cache(embeddings)
            ms, _ = timed_ms(partial(chain.retrieve, case.question, case.history))
            ours_retrieve_ms.append(ms)
            clear_query_cache(embeddings)
            ms, answer = timed_ms(partial(chain.ask, case.question, case.history))
            ours_ms.append(ms)
            if case.answerable:
                stock_ranks.append(hit_rank([d.page_content for d in docs], case.evidence, K))
                ours_ranks.append(hit_rank([p.text for p in answer.passages], case.evidence, K))
    finally:
        tmp.cleanup()

    stock_s, ours_s = summary_ms(stock_ms), summary_ms(ours_ms)
    return {
        "questions": len(cases),
        "answerable": len(stock_ranks),
        "stock_langchain": {
            "pipeline": "RecursiveCharacterTextSplitter(1000, 200) + Chroma + same model, top-5",
            "chunks": stock_chunks,
            "index_seconds": round(stock_ingest, 2),
            "retrieval": retrieval_metrics(stock_ranks),
            "latency_ms": stock_s,
        },
        "ours": {
            "pipeline": "hybrid BM25 + dense + sentence RRF, rerank, extractive answer",
            "chunks": chain.chunk_count,
            "index_seconds": round(ours_ingest, 2),
            "retrieval": retrieval_metrics(ours_ranks),
            "latency_ms": ours_s,
            "retrieve_only_latency_ms": summary_ms(ours_retrieve_ms),
        },
        "ratio_p50_ours_vs_stock": ratio(ours_s["p50"], stock_s["p50"]),
    }


def main(argv: list[str] | None = None) -> int:
    return part_main(run, __doc__, "12 questions", argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Smoke tests of the benchmark scripts: they run on tiny inputs and report what they
should. No wall-clock assertions anywhere: figures depend on the machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import baseline, common, ingest_scaling, latency
from benchmarks.__main__ import format_markdown, format_table, rows
from bot.chunking import chunk_document


def test_machine_info_names_cpu_python_and_libraries() -> None:
    info = common.machine_info()
    assert info["cores"] >= 1
    assert info["cpu_model"]
    assert info["python"].count(".") == 2
    for name in ("chromadb", "gradio", "langchain-core", "sentence-transformers", "torch"):
        assert name in info["libraries"]


def test_percentile_and_summary() -> None:
    assert common.percentile([], 0.5) == 0.0
    assert common.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert common.percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
    summary = common.summary_ms([1.0, 2.0, 3.0])
    assert summary["n"] == 3 and summary["p50"] == 2.0 and summary["mean"] == 2.0
    assert common.ratio(3.0, 0.0) is None


def test_scaled_corpus_copies_have_distinct_sections(tmp_path: Path) -> None:
    common.write_corpus(tmp_path, 3)
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["guide-000.txt", "guide-001.txt", "guide-002.txt"]
    assert files[0].read_text(encoding="utf-8") == common.GUIDE.read_text(encoding="utf-8")
    sections = [
        {c.section for c in chunk_document(f.read_text(encoding="utf-8"), f.name, 1000)}
        for f in files
    ]
    assert len(sections[1]) == len(sections[0])
    assert not sections[0] & sections[1] and not sections[1] & sections[2]
    assert all("(site 2)" in s for s in sections[2])


def test_temp_index_stays_out_of_the_users_index() -> None:
    tmp = common.temp_index()
    try:
        assert common.ROOT / ".faqbot" not in tmp.settings.index_dir.parents
        assert (tmp.settings.corpus_dir / common.GUIDE.name).exists()
    finally:
        tmp.cleanup()
    assert not tmp.root.exists()


def test_linear_fit_of_a_line() -> None:
    fit = ingest_scaling.linear_fit([(10, 2.0), (100, 11.0), (1000, 101.0)])
    assert fit["seconds_per_1000_chunks"] == pytest.approx(100.0)
    assert fit["r2"] == pytest.approx(1.0)


def test_latency_part_runs_on_a_tiny_input(fake_embeddings, tmp_path: Path) -> None:
    result = latency.run(fake_embeddings, quick=True, profile_path=tmp_path / "p.txt")
    assert result["questions"] == 12
    for key in ("floor_ms", "ask_cold_cache_ms", "ask_warm_cache_ms", "metrics", "profile"):
        assert key in result
    assert result["ask_cold_cache_ms"]["n"] == 12
    for stage in ("query_embedding", "dense_search", "bm25", "fusion", "answer_building"):
        assert result["stages_ms"][stage]["n"] == 12
    assert result["stage_calls_per_question"]["answer_building"] == 1.0


def test_stage_clock_restores_the_chain(chain) -> None:
    before = chain.ask("How much does the full CPT cost?")
    with latency.StageClock(chain) as clock:
        chain.ask("How much does the full CPT cost?")
    totals, calls = clock.take()
    assert calls["dense_search"] == 1 and totals["bm25"] >= 0
    assert "_bm25" not in vars(chain.retriever)
    assert "search" not in vars(chain.retriever.index.store)
    assert chain.ask("How much does the full CPT cost?").text == before.text


def test_baseline_part_runs_on_a_tiny_input(fake_embeddings) -> None:
    pytest.importorskip("langchain_text_splitters")
    result = baseline.run(fake_embeddings, quick=True)
    for side in ("stock_langchain", "ours"):
        assert set(result[side]["retrieval"]) == {"hit_at_1", "hit_at_5", "mrr_at_5"}
        assert result[side]["latency_ms"]["n"] == 12
    assert result["stock_langchain"]["chunks"] > 0


def test_ingest_scaling_runs_on_a_tiny_input(fake_embeddings) -> None:
    result = ingest_scaling.run(fake_embeddings, quick=True, budget_s=0)
    first, second = result["rows"]
    assert (first["copies"], second["copies"]) == (1, 2)
    assert second["chunks"] > first["chunks"]
    # a fresh index embeds every text: chunks, sentences, clauses and list items
    assert second["embedded_texts"] == second["texts"] > second["chunks"] + second["sentences"]
    assert first["index_bytes"] > 0 and "r2" in result["linear_fit"]


def test_ingest_scaling_extrapolates_only_with_a_label(fake_embeddings) -> None:
    row = {"copies": 2, "chunks": 50, "sentences": 300, "seconds": 4.0, "chunks_per_s": 12.5,
           "index_bytes": 1000}  # fmt: skip
    guess = ingest_scaling.extrapolate(row, 100)
    assert guess["extrapolated"] is True and guess["chunks"] == 2500 and guess["seconds"] == 200.0


def test_table_and_markdown_from_results() -> None:
    results = {
        "latency": {
            "floor_ms": {"p50": 10.0, "p95": 12.0},
            "ask_cold_cache_ms": {"p50": 15.0, "p95": 20.0},
            "ask_warm_cache_ms": {"p50": 5.0, "p95": 6.0},
            "ratio_p50_cold_vs_floor": 1.5,
            "ratio_p95_cold_vs_floor": 1.67,
            "ratio_p50_warm_vs_floor": 0.5,
            "goal_met": True,
            "stages_ms": {"bm25": {"p50": 0.2, "mean": 0.3}},
        },
        "load": {"error": "RuntimeError: boom"},
    }
    table = rows(results)
    text = format_table(table)
    assert "ask() p50, new question" in text and "1.50x floor" in text and "FAILED" in text
    assert format_markdown(table).startswith("| part | measure |")


@pytest.mark.integration
def test_bench_quick_writes_json_with_machine_info(tmp_path: Path) -> None:
    from benchmarks.__main__ import main

    out = tmp_path / "bench.json"
    code = main(["--quick", "--parts", "latency,cold_start,load", "--out", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, {k: v for k, v in data.items() if isinstance(v, dict) and "error" in v}
    assert {"cores", "cpu_model", "python", "libraries"} <= set(data["machine"])
    assert data["latency"]["ratio_p50_cold_vs_floor"] is not None
    assert data["cold_start"]["auto"]["start_to_first_answer_s"] > 0
    assert data["load"]["load"]["completed"] > 0 and data["load"]["load_peak_rss_mb"] > 0
    assert "| part |" in data["table_markdown"]


@pytest.mark.integration
def test_onnx_and_torch_embeddings_agree() -> None:
    np = pytest.importorskip("numpy")
    from bot.embedding import MiniLMEmbeddings

    texts = ["How much does the full CPT cost?", "Safety: wear PPE.", "word " * 400, " x "]
    onnx = MiniLMEmbeddings(backend="auto")
    reference = np.asarray(MiniLMEmbeddings(backend="torch").embed_documents(texts))
    got = np.asarray(onnx.embed_documents(texts))
    if onnx.backend != "onnx":
        pytest.skip("no ONNX export here (the onnx package is missing)")
    assert np.abs(got - reference).max() < 1e-4
    assert onnx.known_words() == MiniLMEmbeddings(backend="torch").known_words()


@pytest.mark.integration
def test_api_load_script_runs_bounded_against_the_real_app() -> None:
    from benchmarks import load_api

    result = load_api.run(quick=True)
    assert result["clients"] == 5 and result["seconds_bound"] == 5.0
    assert result["answers"] > 0 and result["error_count"] == 0
    assert result["server_peak_rss_mb"] > 0 and 0 < result["client_cpu_cores"] < 1


def test_load_api_flag_runs_the_json_api_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import load, load_api

    calls: list[list[str]] = []
    monkeypatch.setattr(load_api, "main", lambda argv: calls.append(argv) or 0)
    assert load.main(["--api", "--quick"]) == 0 and calls == [["--quick"]]


def test_the_lean_client_reads_one_response_and_leaves_the_next() -> None:
    import asyncio

    from benchmarks.load_api import _request, _response_status

    async def statuses() -> list[int]:
        reader = asyncio.StreamReader()
        body = b'{"answer": "x"}'
        one = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        reader.feed_data(one + b"HTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n")
        return [await _response_status(reader), await _response_status(reader)]

    assert asyncio.run(statuses()) == [200, 429]
    request = _request(8000, "What is CPT?")
    assert request.startswith(b"POST /api/ask HTTP/1.1\r\n")
    assert request.endswith(b'{"question": "What is CPT?"}')


def test_long_questions_are_2000_characters_of_words_never_repeated() -> None:
    import random

    from benchmarks import question_cost

    rng = random.Random(1)
    question = question_cost.long_question(question_cost.distinct(rng))
    words = question.rstrip("?").split()
    assert len(question) == question_cost.LONG_CHARS and question.endswith("?")
    assert len(set(words[:-1])) == len(words) - 1  # the last may be cut short
    pool = question_cost.long_question(question_cost.distinct(rng, ["ab", "cd", "ef"]), 9)
    assert sorted(pool.rstrip("?").split()) == ["ab", "cd", "ef"]
    with pytest.raises(ValueError, match="every word of the pool"):
        question_cost.long_question(question_cost.distinct(rng, ["ab", "cd"]), 20)


def test_question_kinds_are_spread_over_the_run() -> None:
    from benchmarks.question_cost import interleaved

    order = [kind for kind, _ in interleaved({"a": ["1", "2", "3", "4"], "b": ["x"]})]
    assert sorted(order) == ["a", "a", "a", "a", "b"] and order[0] == "a" and order[-1] == "a"


def test_soak_memory_figures_leave_out_the_warm_up() -> None:
    from benchmarks import soak

    assert soak.slope_per_minute([(0.0, 100.0), (60.0, 101.0), (120.0, 102.0)]) == 1.0
    assert soak.slope_per_minute([(0.0, 100.0)]) is None
    # RSS climbs while caches fill (the first 20%), then stays flat
    samples = [(float(t), 300.0 + min(t, 20)) for t in range(0, 101, 5)]
    figures = soak.memory_figures(samples, 100.0)
    assert figures["rss_start_mb"] == 300.0 and figures["rss_after_warmup_mb"] == 320.0
    assert figures["rss_end_mb"] == 320.0 and figures["growth_after_warmup_mb"] == 0.0
    assert figures["slope_after_warmup_mb_per_min"] == 0.0


def test_soak_asks_new_questions_that_never_repeat() -> None:
    from benchmarks import soak

    known, new = soak.questions()
    made = [new() for _ in range(500)]
    assert len(set(made)) == 500 and not set(made) & set(known)


@pytest.mark.integration
def test_soak_runs_bounded_against_the_real_app() -> None:
    from benchmarks import soak

    result = soak.run(minutes=0.1, clients=2, sample_seconds=1.0)
    assert result["clients"] == 2 and result["answers"] > 0 and result["error_count"] == 0
    assert result["rss_samples"] >= 3 and result["rss_after_warmup_mb"] > 0
    assert result["slope_after_warmup_mb_per_min"] is not None

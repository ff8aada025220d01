"""Smoke tests of the benchmark scripts: they run on tiny inputs and report what they
should. No wall-clock assertions anywhere: figures depend on the machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import baseline, common, ingest_scaling, latency
from benchmarks.__main__ import format_markdown, format_table, rows
from bot.config import Settings


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


def test_scaled_corpus_holds_distinct_text_in_proportion(tmp_path: Path) -> None:
    one = common.write_corpus(tmp_path / "x1", 1)
    three = common.write_corpus(tmp_path / "x3", 3)
    assert [f.name for f in one.iterdir()] == [common.GUIDE.name]
    settings = [Settings(corpus_dir=d, index_dir=tmp_path / "i") for d in (one, three)]
    (guide_bytes, _), (site_bytes, documents) = (common.text_bytes(s) for s in settings)
    # about three guides of page text, none of it a copy the ingest would fold into one
    assert 2.0 * guide_bytes < site_bytes < 4.0 * guide_bytes
    files = [f for f in three.rglob("*") if f.is_file()]
    assert len(files) > 10 and documents >= 0.9 * len(files)  # the site's print copies go


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
    # x2 is new text, more of it than x1, and no page of it is folded into another
    assert second["text_bytes"] > 1.3 * first["text_bytes"]
    assert second["chunks"] > 1.3 * first["chunks"]
    assert second["documents"] >= 0.9 * second["files"] > 10
    assert second["seconds_per_mb"] > 0 and second["texts_per_s"] > 0
    # a fresh index embeds every text: chunks, sentences, clauses and list items
    assert second["embedded_texts"] == second["texts"] > second["chunks"] + second["sentences"]
    assert first["index_bytes"] > 0 and "r2" in result["linear_fit"]


def test_ingest_scaling_extrapolates_only_with_a_label(fake_embeddings) -> None:
    row = {"copies": 2, "chunks": 50, "sentences": 300, "seconds": 4.0, "chunks_per_s": 12.5,
           "index_bytes": 1000, "text_bytes": 33000}  # fmt: skip
    guess = ingest_scaling.extrapolate(row, 100)
    assert guess["extrapolated"] is True and guess["chunks"] == 2500 and guess["seconds"] == 200.0
    assert guess["text_bytes"] == 1_650_000


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
    from bot.index.embedding import MiniLMEmbeddings

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


def test_the_chat_load_client_reads_a_chunked_event_stream_to_its_end() -> None:
    import asyncio

    from benchmarks.load import body_parts, read_head, sse_events

    events = b'event: generating\ndata: [1]\n\nevent: complete\ndata: [{"role": "assistant"}]\n\n'
    split = 20  # an event cut across two chunks
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (events[:split], events[split:])
    )
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n"

    async def read() -> tuple[list[tuple[str, str]], bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(response + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        head = await read_head(reader)
        assert head.status == 200 and head.chunked
        seen, buffer = [], b""
        async for part in body_parts(reader, head):
            found, buffer = sse_events(buffer + part)
            seen += found
        following = await read_head(reader)  # the connection is left at the next response
        return seen, b"".join([p async for p in body_parts(reader, following)])

    seen, following = asyncio.run(read())
    assert seen == [("generating", "[1]"), ("complete", '[{"role": "assistant"}]')]
    assert following == b"ok"


def test_widget_load_client_times_the_answer_event_of_either_body_framing() -> None:
    import asyncio

    from benchmarks.widget_load import RETRY_CAP_S, Outcome, Tally, read_chat_reply

    stream = (
        b'event: token\r\ndata: {"text": "Hi"}\r\n\r\nevent: answer\ndata: {"answer": "Hi"}\n\n'
    )
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (stream[:25], stream[25:]))
    sse = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    refusal = b'{"error": "busy", "retry_after": 5}'

    async def replies() -> list[Outcome]:
        reader = asyncio.StreamReader()
        reader.feed_data(sse + b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n")
        reader.feed_data(sse + b"Content-Length: %d\r\n\r\n%s" % (len(stream), stream))
        reader.feed_data(sse + b'Content-Length: 33\r\n\r\nevent: error\ndata: {"error": 1}\n\n')
        reader.feed_data(b"HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(refusal), refusal))  # fmt: skip
        reader.feed_data(b"HTTP/1.1 429 Slow\r\nContent-Length: 0\r\n\r\n")
        return [(await read_chat_reply(reader, 0.0))[1] for _ in range(5)]

    chunks, whole, failed, busy, slow = asyncio.run(replies())
    assert chunks.answer_ms is not None and whole.answer_ms is not None and not chunks.error
    assert failed.error == "event error" and failed.answer_ms is None
    assert (busy.status, busy.retry_after, slow.status, slow.retry_after) == (503, 5.0, 429, None)
    tally = Tally()
    waits = [tally.add(o) for o in (chunks, failed, busy, slow, Outcome(None, error="X"))]
    assert waits == [0.0, 0.0, RETRY_CAP_S, 1.0, 0.0]
    assert tally.statuses == {"200": 2, "503": 1, "429": 1, "none": 1}
    assert tally.errors == {"event error": 1, "X": 1} and tally.refusals_without_retry_after == 1
    assert len(tally.answer_ms) == 1


def test_widget_requests_spread_clients_only_when_asked() -> None:
    from benchmarks.widget_load import chat_request, forwarded_address

    plain = chat_request(8000, "What is CPT?", "s-1")
    assert plain.startswith(b"POST /api/chat HTTP/1.1\r\n") and b"X-Forwarded-For" not in plain
    assert plain.endswith(b'{"question": "What is CPT?", "history": [], "session": "s-1"}')
    spread = chat_request(8000, "What is CPT?", "s-1", forwarded_address(257))
    assert b"X-Forwarded-For: 198.18.1.1\r\n" in spread
    assert len({forwarded_address(n) for n in range(200)}) == 200


def test_widget_page_weight_and_focus_figures() -> None:
    from benchmarks.widget_browser import NetworkLog, focus_delay_ms, frame_stages_ms, third_hosts

    log = NetworkLog()
    pages = (("1", "http://a:1/embed/", 900, 1200), ("2", "http://a:1/x.js", 5000, 2100))
    for rid, url, body, wire in pages:
        log.on("Network.requestWillBeSent", {"requestId": rid, "request": {"url": url}})
        log.on("Network.responseReceived", {"requestId": rid, "type": "Script", "response": {
            "status": 200, "headers": {"Content-Length": str(wire - 300)}}})  # fmt: skip
        log.on("Network.dataReceived", {"requestId": rid, "dataLength": body})
        log.on("Network.loadingFinished", {"requestId": rid, "encodedDataLength": wire})
    log.on("Network.requestWillBeSent", {"requestId": "3", "request": {"url": "data:,"}})
    log.on("Network.loadingFinished", {"requestId": "3", "encodedDataLength": 0})
    summary = log.summary()
    assert (summary["requests"], summary["transferred_bytes"], summary["decoded_bytes"]) == (
        2, 3300, 5900)  # fmt: skip
    assert summary["content_length_bytes"] == 2700 and summary["hosts"] == ["a:1"]
    assert summary["by_type"] == {"Script": {"requests": 2, "transferred": 3300}}
    assert focus_delay_ms(1000.0, [990.0, 1120.5, 1300.0]) == 120.5
    assert focus_delay_ms(1000.0, [990.0]) is None
    assert focus_delay_ms(None, [1.0]) is None
    stages = frame_stages_ms(1000.0, {"start": 970.0, "ready": 1150.25})
    assert stages == {"start": -30.0, "ready": 150.2} and frame_stages_ms(None, {}) == {}
    urls = ["http://localhost:5/", "http://127.0.0.1:6/embed/", "https://fonts.example/x", "data:,"]
    assert third_hosts(urls, {"localhost:5", "127.0.0.1:6"}) == ["fonts.example"]

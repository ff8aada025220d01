"""The JSON routes: the embed chat's event stream (/api/chat), its votes (/api/feedback)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import bot.insights.questionlog as questionlog
from bot.answer.chain import FaqChain
from bot.answer.llm import LLMAnswerer
from bot.errors import SORRY
from bot.serve.api import sse_event
from bot.serve.server import create_server
from tests.conftest import logged

COST = "How much does the full CPT cost?"


def events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """A text/event-stream body, parsed as a browser's reader would."""
    parsed = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


def app(chain: Any, **settings: Any) -> TestClient:
    merged = {"rate_per_minute": 50, **settings}
    return TestClient(create_server(chain, chain.settings.with_(**merged), mount_ui=False))


def test_an_event_carries_one_json_line() -> None:
    raw = sse_event("answer", {"answer": "two\nlines </script>"}).decode()
    assert raw.startswith("event: answer\ndata: ") and raw.endswith("\n\n")
    assert raw.count("\n") == 3  # the newline inside the text is escaped in the JSON
    assert events(raw) == [("answer", {"answer": "two\nlines </script>"})]


def test_chat_streams_the_answer_and_its_citations(chain: FaqChain) -> None:
    res = app(chain).post("/api/chat", json={"question": COST, "session": "s-1"})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/event-stream")
    assert res.headers["cache-control"] == "no-store"
    ((name, answer),) = events(res.text)
    assert name == "answer" and "360" in answer["answer"] and not answer["abstained"]
    first = answer["citations"][0]
    assert first["n"] == 1 and first["quote"] and first["section"] == "Cost and funding"
    assert answer == app(chain).post("/api/ask", json={"question": COST}).json()  # one answer


def test_chat_follow_ups_use_the_history_sent(chain: FaqChain) -> None:
    client = app(chain)
    first = events(client.post("/api/chat", json={"question": COST}).text)[0][1]
    history = [{"role": "user", "content": COST}, {"role": "assistant", "content": first["answer"]}]
    alone = events(client.post("/api/chat", json={"question": "And the exam?"}).text)[0][1]
    after = client.post("/api/chat", json={"question": "And the exam?", "history": history})
    assert events(after.text)[0][1] != alone  # the earlier turn changed what was asked


def test_chat_refuses_bad_input_before_any_event(chain: FaqChain) -> None:
    client = app(chain)
    empty = client.post("/api/chat", json={"question": "   "})
    assert empty.status_code == 400 and empty.json()["error"]
    long = client.post("/api/chat", json={"question": "x" * 2500})
    assert long.status_code == 400 and "2,000" in long.json()["error"]
    assert client.post("/api/chat", json={"question": COST, "session": "<b>"}).status_code == 422
    assert client.post("/api/chat", json={"history": []}).status_code == 422


def test_over_the_budget_chat_is_429_with_retry_after(chain: FaqChain) -> None:
    client = app(chain, rate_per_minute=2)
    statuses = [client.post("/api/chat", json={"question": COST}).status_code for _ in range(2)]
    refused = client.post("/api/chat", json={"question": COST})
    assert statuses == [200, 200] and refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0 and refused.json()["error"]
    # /api/ask draws on the same budget
    assert client.post("/api/ask", json={"question": COST}).status_code == 429


def test_a_full_queue_is_503_with_retry_after(chain: FaqChain) -> None:
    res = app(chain, queue_size=0).post("/api/chat", json={"question": COST})
    assert res.status_code == 503 and int(res.headers["retry-after"]) > 0
    assert "busy" in res.json()["error"]


def test_a_crash_while_answering_is_an_error_event(chain: FaqChain) -> None:
    class Crashing(FaqChain):
        def ask(self, question: object, history: object = (), on_token: Any = None) -> Any:
            raise RuntimeError("disk on fire")

    broken = Crashing(chain.settings, chain.embeddings)
    res = app(broken).post("/api/chat", json={"question": COST})
    assert events(res.text) == [("error", {"error": SORRY})]
    assert "disk" not in res.text  # no internals to the student


def test_in_llm_mode_tokens_come_first_and_the_answer_replaces_them(chain: FaqChain) -> None:
    reply = "The whole credential costs $360-$480 through a provider. [1]"
    assert chain.answerer is not None
    chain.answerer = LLMAnswerer(FakeListChatModel(responses=[reply]), chain.answerer)  # type: ignore[arg-type]
    streamed = events(app(chain).post("/api/chat", json={"question": COST}).text)
    names = [name for name, _ in streamed]
    assert names[-1] == "answer" and names.count("token") > 1
    assert "".join(data["text"] for name, data in streamed if name == "token") == reply
    assert streamed[-1][1]["answer"] == reply


def test_a_vote_is_recorded_once_per_answer(chain: FaqChain) -> None:
    client = app(chain)
    vote = {
        "session": "tab-1",
        "turn": 0,
        "question": COST,
        "answer": "It is $360. [1]",
        "liked": False,
        "citations": [{"n": 1, "source": "guide.txt", "section": "Cost", "quote": "It is $360."}],
    }
    assert [client.post("/api/feedback", json=vote).status_code for _ in range(3)] == [204] * 3
    assert client.post("/api/feedback", json={**vote, "liked": True}).status_code == 204
    votes = logged(client.app).votes()
    assert [v.vote for v in votes] == ["down", "up"]  # a repeat writes nothing
    assert votes[0].sections == ("Cost",) and votes[0].session == "tab-1"


@pytest.mark.parametrize(
    "change", [{"session": ""}, {"session": "x" * 65}, {"turn": -1}, {"liked": None}]
)
def test_a_malformed_vote_is_422_and_writes_nothing(
    chain: FaqChain, change: dict[str, Any]
) -> None:
    vote = {"session": "t", "turn": 0, "question": "q", "answer": "a", "liked": True, **change}
    client = app(chain)
    assert client.post("/api/feedback", json=vote).status_code == 422
    assert logged(client.app).votes() == []


def test_each_answered_question_is_logged_with_its_channel_site_and_vote(chain: FaqChain) -> None:
    client = app(chain, allowed_origins=("https://college.example",))
    chat = {"question": COST, "session": "tab-9", "turn": 3, "site": "https://college.example"}
    assert client.post("/api/chat", json=chat).status_code == 200
    forged = {"question": "What is the weather on Mars?", "site": "https://made-up.example"}
    mars_reply = events(client.post("/api/chat", json=forged).text)[0][1]
    asked = client.post(
        "/api/ask", json={"question": COST}, headers={"Origin": "https://college.example"}
    )
    assert asked.status_code == 200
    assert client.post("/api/ask", json={"question": ""}).status_code == 400  # not asked
    vote = {"session": "tab-9", "turn": 3, "question": COST, "answer": "a", "liked": False}
    assert client.post("/api/feedback", json=vote).status_code == 204
    api, mars, widget = logged(client.app).questions()
    assert (widget.channel, widget.origin, widget.session, widget.turn) == (
        "widget",
        "https://college.example",
        "tab-9",
        3,
    )
    assert widget.vote == "down" and not widget.abstained
    assert widget.section == "Cost and funding" and 0 < widget.score <= 1
    assert widget.latency_ms > 0 and widget.question == COST
    assert (mars.origin, mars.abstained, mars.turn) == ("other", mars_reply["abstained"], -1)
    assert (api.channel, api.origin, api.session) == ("api", "https://college.example", "")


def test_answers_go_out_while_the_log_database_is_down(
    chain: FaqChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(questionlog, "RETRY_SECONDS", 0.01)
    client = app(chain, log_db_url="postgresql://nobody@127.0.0.1:1/none")
    reply = client.post("/api/chat", json={"question": COST, "session": "s", "turn": 0})
    assert reply.status_code == 200 and "360" in events(reply.text)[0][1]["answer"]
    vote = {"session": "s", "turn": 0, "question": COST, "answer": "a", "liked": True}
    assert client.post("/api/feedback", json=vote).status_code == 204
    assert client.app.state.questions.flush(timeout=60)
    health = client.get("/healthz").json()["question_log"]
    assert health == {"on": True, "written": 0, "dropped": 0, "failed": 2, "set_aside": 0}

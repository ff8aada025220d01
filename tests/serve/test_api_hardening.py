"""The JSON routes against hostile input (bot/serve/api.py): numbers out of range and lone
surrogates are a 422 whose body is valid JSON, and one client cannot vote many times on
one answer by rotating session ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.answer.chain import FaqChain
from bot.serve.server import create_server
from tests.conftest import logged

COST = "How much does the full CPT cost?"
VOTE = {"session": "tab-1", "turn": 0, "question": COST, "answer": "It is $360. [1]",
        "liked": False}  # fmt: skip


def app(chain: Any, client: tuple[str, int] = ("testclient", 50000), **settings: Any) -> TestClient:
    merged = {"rate_per_minute": 500, **settings}
    server = create_server(chain, chain.settings.with_(**merged), mount_ui=False)
    return TestClient(server, raise_server_exceptions=False, client=client)


def post_raw(client: TestClient, path: str, body: str) -> Any:
    """A body as a hostile client writes it (json= would refuse a lone surrogate)."""
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def valid_json(response: Any) -> Any:
    """The body parses as strict UTF-8 JSON (what a browser's fetch().json() needs)."""
    return json.loads(response.content.decode("utf-8", "strict"))


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/api/feedback", {"turn": 10**30}),
        ("/api/feedback", {"turn": 2**63}),
        ("/api/feedback", {"citations": [{"n": 10**30, "quote": "x"}]}),
        ("/api/feedback", {"citations": [{"n": -(10**30), "quote": "x"}]}),
        ("/api/chat", {"turn": 10**30}),
    ],
)
def test_numbers_out_of_range_are_422_with_a_message(
    chain: FaqChain, path: str, change: dict[str, Any]
) -> None:
    client = app(chain)
    body = {**VOTE, **change} if path == "/api/feedback" else {"question": COST, **change}
    response = client.post(path, json=body)
    assert response.status_code == 422
    detail = valid_json(response)["detail"]
    assert detail and all(item["msg"] for item in detail)
    store = logged(client.app)
    assert store.votes() == [] and store.count() == 0


def test_a_huge_turn_no_longer_costs_other_students_their_questions(chain: FaqChain) -> None:
    client = app(chain)
    assert client.post("/api/chat", json={"question": COST, "session": "a", "turn": 1}).is_success
    client.post("/api/feedback", json={**VOTE, "turn": 10**30})
    assert client.post("/api/ask", json={"question": COST}).is_success
    assert logged(client.app).count() == 2
    assert client.get("/healthz").json()["question_log"]["failed"] == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"session": "t", "turn": 0, "question": "\\ud800", "answer": "a", "liked": true}',
        '{"session": "t", "turn": 0, "question": "q", "answer": "a\\udfff", "liked": true}',
        '{"session": "t", "turn": 0, "question": "q", "answer": "a", "liked": true,'
        ' "citations": [{"n": 1, "quote": "\\ud83d half an emoji"}]}',
        '{"session": "\\ud800", "turn": 0, "question": "q", "answer": "a", "liked": true}',
    ],
)
def test_a_lone_surrogate_in_a_vote_is_422_with_valid_json(chain: FaqChain, body: str) -> None:
    client = app(chain)
    response = post_raw(client, "/api/feedback", body)
    assert response.status_code == 422
    detail = valid_json(response)["detail"]
    assert detail and all(item["msg"] for item in detail)
    assert logged(client.app).votes() == []


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
@pytest.mark.parametrize(
    "body",
    [
        '{"question": "\\ud800"}',
        '{"question": "cost \\udfff?", "history": [{"role": "user", "content": "\\ud800"}]}',
        '{"question": "\\ud800", "history": [{"role": "\\ud800", "content": "x"}]}',
    ],
)
def test_a_lone_surrogate_in_a_question_is_a_4xx_with_valid_json(
    chain: FaqChain, path: str, body: str
) -> None:
    response = post_raw(app(chain), path, body)
    assert 400 <= response.status_code < 500
    assert valid_json(response)


def test_rotating_session_ids_do_not_multiply_one_clients_votes(chain: FaqChain) -> None:
    client = app(chain)
    for n in range(50):
        assert client.post("/api/feedback", json={**VOTE, "session": f"s{n}"}).status_code == 204
    for n in range(50):  # the same answer under new turn numbers of one session
        assert client.post("/api/feedback", json={**VOTE, "turn": n + 1}).status_code == 204
    votes = logged(client.app).votes()
    assert 1 <= len(votes) <= 3
    # A student who changes their mind is still heard, and so is another answer.
    assert client.post("/api/feedback", json={**VOTE, "session": "s0", "liked": True}).is_success
    other = {**VOTE, "question": "How long is the exam?", "answer": "Two hours. [1]"}
    assert client.post("/api/feedback", json=other).is_success
    after = logged(client.app).votes()
    assert [v.vote for v in after[len(votes) :]] == ["up", "down"]


def test_another_client_still_votes_on_the_same_answer(chain: FaqChain) -> None:
    first = app(chain)
    for n in range(10):
        first.post("/api/feedback", json={**VOTE, "session": f"s{n}"})
    second = TestClient(first.app, client=("198.51.100.7", 40000))
    assert second.post("/api/feedback", json={**VOTE, "session": "other"}).status_code == 204
    votes = logged(first.app).votes()
    assert votes[-1].session == "other" and len(votes) <= 4

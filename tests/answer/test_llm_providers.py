"""LLM mode with the real provider clients: FAQBOT_LLM=openai:... (langchain-openai) and
ollama:... (langchain-ollama), built from settings the way the app builds them, against a
local OpenAI-compatible (and Ollama) server started here on a free loopback port. A reply
that fails a check, or a server too slow, gives the extractive answer; a provider whose
package is not installed stops the start with the extra to install."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from bot.answer.chain import FaqChain
from bot.config import Settings
from bot.errors import FaqBotError, LLMSetupError
from tests.conftest import HashingEmbeddings, free_port, running

pytestmark = pytest.mark.integration

QUESTION = "How much does the full CPT cost?"
CITED = "The whole credential costs $360-$480 through a provider. [1]"


@dataclass
class Script:
    """What the fake server replies, after how long, and what it was sent."""

    reply: str = CITED
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


def provider_app(script: Script) -> FastAPI:
    """The parts of the OpenAI chat completions API and Ollama's /api/chat the clients use."""
    app = FastAPI()

    async def wait() -> None:
        await asyncio.sleep(script.delay)  # cancelled when the server stops

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        script.requests.append(body)
        await wait()
        head = {"id": "chatcmpl-1", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": script.reply}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return JSONResponse({**head, "object": "chat.completion", "choices": [choice]})

        async def events() -> AsyncIterator[str]:
            deltas = [{"content": p} for p in pieces(script.reply)] + [{}]
            for n, delta in enumerate(deltas):
                done = "stop" if n == len(deltas) - 1 else None
                choice = {"index": 0, "delta": delta, "finish_reason": done}
                chunk = {**head, "object": "chat.completion.chunk", "choices": [choice]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/api/chat")
    async def ollama_chat(request: Request) -> Response:
        body = await request.json()
        script.requests.append(body)
        await wait()
        lines = [
            {"model": body["model"], "message": {"role": "assistant", "content": p}, "done": False}
            for p in pieces(script.reply)
        ]
        end = {"role": "assistant", "content": ""}
        lines.append({"model": body["model"], "message": end, "done": True, "done_reason": "stop"})
        text = "".join(json.dumps(line) + "\n" for line in lines)
        return Response(text, media_type="application/x-ndjson")

    return app


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def provider(script: Script) -> Iterator[str]:
    """The fake provider on a free loopback port; yields its base address."""
    port = free_port()
    config = uvicorn.Config(
        provider_app(script), host="127.0.0.1", port=port, log_level="warning",
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    with running(uvicorn.Server(config), "the fake provider"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def openai_settings(ingested: Settings, provider: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The openai client reads its key (and, unset here, its address) from the environment.
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return ingested.with_(llm="openai:test-model", llm_base_url=f"{provider}/v1", llm_timeout=5.0)


def llm_chain(settings: Settings, embeddings: HashingEmbeddings) -> FaqChain:
    return FaqChain.from_settings(settings, embeddings)


def extractive(settings: Settings, embeddings: HashingEmbeddings) -> Any:
    return FaqChain(settings.with_(llm=""), embeddings).ask(QUESTION)


# --------------------------------------------------------------- openai (and compatible)
def test_streamed_tokens_arrive_and_the_answer_cites(
    openai_settings: Settings, fake_embeddings: HashingEmbeddings, script: Script
) -> None:
    chain = llm_chain(openai_settings, fake_embeddings)
    tokens: list[str] = []
    answer = chain.ask(QUESTION, (), tokens.append)
    assert len(tokens) > 1 and "".join(tokens) == CITED  # piece by piece, as streamed
    assert answer.text == CITED and answer.citations[0].n == 1
    (sent,) = script.requests
    assert sent["stream"] is True and sent["model"] == "test-model"
    assert '<passage id="1"' in sent["messages"][-1]["content"]
    # Without a token callback (the JSON API) the reply comes whole, checked the same way.
    plain = chain.ask(QUESTION)
    assert plain.text == CITED and not script.requests[-1].get("stream")


@pytest.mark.parametrize(
    "reply",
    [
        "The whole credential costs $360-$480 through a provider.",  # no citation
        "Call the testing office at (555) 010-9999 to pay. [1]",  # a number no passage has
    ],
)
def test_a_reply_that_fails_its_check_gives_the_extractive_answer(
    openai_settings: Settings, fake_embeddings: HashingEmbeddings, script: Script, reply: str
) -> None:
    expected = extractive(openai_settings, fake_embeddings)
    script.reply = reply
    chain = llm_chain(openai_settings, fake_embeddings)
    tokens: list[str] = []
    answer = chain.ask(QUESTION, (), tokens.append)
    assert script.requests and "".join(tokens) == reply  # the model did answer...
    assert answer.text == expected.text and answer.citations == expected.citations  # ...unused


@pytest.mark.timeout(60)  # a hang fails here instead of stalling the suite
@pytest.mark.parametrize("streamed", [True, False])
def test_a_provider_slower_than_the_timeout_gives_the_extractive_answer(
    openai_settings: Settings, fake_embeddings: HashingEmbeddings, script: Script, streamed: bool
) -> None:
    expected = extractive(openai_settings, fake_embeddings)
    script.delay = 30.0
    chain = llm_chain(openai_settings.with_(llm_timeout=0.5), fake_embeddings)
    tokens: list[str] = []
    answer = chain.ask(QUESTION, (), tokens.append if streamed else None)
    assert tokens == [] and answer.text == expected.text
    assert len(script.requests) == 1  # given up on, not retried


# --------------------------------------------------------------- ollama
def test_ollama_streams_through_its_own_client(
    ingested: Settings, provider: str, fake_embeddings: HashingEmbeddings, script: Script
) -> None:
    settings = ingested.with_(llm="ollama:llama3.2", llm_base_url=provider, llm_timeout=5.0)
    tokens: list[str] = []
    answer = llm_chain(settings, fake_embeddings).ask(QUESTION, (), tokens.append)
    assert len(tokens) > 1 and answer.text == CITED and answer.citations[0].n == 1
    assert script.requests[0]["model"] == "llama3.2"


# --------------------------------------------------------------- set up at start, or say why
def test_a_provider_whose_package_is_missing_names_the_extra_to_install(
    ingested: Settings, fake_embeddings: HashingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # as if not installed
    with pytest.raises(LLMSetupError) as caught:
        llm_chain(ingested.with_(llm="ollama:llama3.2"), fake_embeddings)
    assert "pip install 'faqbot[ollama]'" in str(caught.value)
    assert "FAQBOT_LLM=ollama:llama3.2" in str(caught.value)


def test_a_provider_without_an_extra_names_its_package(
    ingested: Settings, fake_embeddings: HashingEmbeddings
) -> None:
    # No extra installs langchain-anthropic; the message names the package instead.
    with pytest.raises(FaqBotError) as caught:
        llm_chain(ingested.with_(llm="anthropic:claude-test"), fake_embeddings)
    assert "langchain-anthropic" in str(caught.value)


def test_a_provider_that_cannot_be_set_up_says_what_to_set(
    ingested: Settings, fake_embeddings: HashingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMSetupError) as caught:
        llm_chain(ingested.with_(llm="openai:gpt-4o-mini"), fake_embeddings)
    assert "OPENAI_API_KEY" in str(caught.value)
    with pytest.raises(LLMSetupError) as unknown:
        llm_chain(ingested.with_(llm="no-such-provider:model"), fake_embeddings)
    assert "FAQBOT_LLM" in str(unknown.value)

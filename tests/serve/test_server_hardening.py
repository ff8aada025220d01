"""Issue #12, the host app's HTTP-level holes. Where a hole lay in how the server runs
(uvicorn's proxy headers, Gradio's own routes, client disconnects) the test drives a real
uvicorn on 127.0.0.1; each test that shares a server speaks from its own loopback
address (127.0.0.x), so each has its own per-client budget."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.answer.chain import FaqChain, clean_history, clean_question
from bot.answer.extractive import Answer
from bot.config import Settings
from bot.errors import InvalidQuestionError
from bot.serve.server import create_server, uvicorn_server
from bot.serve.ui import ChatHandlers, ChatState
from tests.conftest import free_port

ALLOWED = "https://www.example-college.edu"
LOCAL_DEV = "http://localhost:9999"  # any page on a developer's machine
JSON = {"content-type": "application/json"}
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


class FakeChain:
    """Validates like FaqChain, answers at once, or only once ``gate`` is set."""

    def __init__(self, settings: Settings, gate: threading.Event | None = None) -> None:
        self.settings, self.gate = settings, gate
        self.asked: list[str] = []
        self.manifest: Any = SimpleNamespace(generation="gen-1", model="fake")
        self.chunk_count = 1

    def reload(self, force: bool = False) -> bool:
        return False

    def ask(self, question: object, history: object = ()) -> Answer:
        text = clean_question(question, self.settings.max_question_chars)
        clean_history(history, self.settings.max_history_turns, self.settings.max_question_chars)
        self.asked.append(text)
        if self.gate is not None:
            self.gate.wait(timeout=60)
        return Answer(f"Answer to {text}")


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` on a free loopback port, served the way app.py serves it."""
    port = free_port()
    server = uvicorn_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, what="the server to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def client(base: str, address: str) -> httpx.Client:
    """An HTTP client whose requests come from ``address`` (any 127.0.0.x is loopback)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base, timeout=20, transport=transport)


def chat(http: httpx.Client, question: str, headers: dict[str, str]) -> str:
    """Ask through the chat's Gradio route; "answer", "notice", or the HTTP status."""
    joined = http.post("/gradio_api/call/ask", json={"data": [question]}, headers=headers)
    if joined.status_code != 200:
        return str(joined.status_code)
    event = joined.json()["event_id"]
    stream = http.get(f"/gradio_api/call/ask/{event}", headers=headers)
    if stream.status_code != 200:
        return str(stream.status_code)
    last = [line for line in stream.text.splitlines() if line.startswith("data:")][-1]
    return "answer" if "faq-answer" in last else "notice" if "faq-notice" in last else last


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app (chat, widget, API) with FAQBOT_RATE_PER_MINUTE=5 and one allowed site."""
    data = tmp_path_factory.mktemp("ui-server")
    settings = Settings(data_dir=data, rate_per_minute=5, allowed_origins=(ALLOWED,))
    with running(create_server(FakeChain(settings), settings)) as base:
        yield base


# ------------------------------------------------------------- 1. proxy headers
@pytest.mark.integration
def test_rotating_forwarded_for_from_loopback_does_not_reset_the_budget(ui_server: str) -> None:
    # From 127.0.0.1 itself: the address uvicorn's own proxy-header handling trusts.
    with client(ui_server, "127.0.0.1") as http:
        replies = [chat(http, f"Q{i}?", {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(10)]
        statuses = [
            http.post(
                "/api/ask", json={"question": f"What is CPT {i}?"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(30)
        ]  # fmt: skip
    assert replies == ["answer"] * 5 + ["notice"] * 5  # FAQBOT_RATE_PER_MINUTE=5
    assert statuses == [429] * 30  # one budget for the chat and the API, used up


@pytest.mark.integration
def test_forwarded_headers_are_honoured_from_a_trusted_proxy(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rate_per_minute=5, trusted_proxies=("127.0.0.1/32",))
    with running(create_server(FakeChain(settings), settings)) as base:
        with client(base, "127.0.0.1") as proxy:
            first = {"X-Forwarded-For": "203.0.113.1"}
            ask = {"question": "What is CPT?"}
            assert [proxy.post("/api/ask", json=ask, headers=first).status_code for _ in range(6)] \
                == [200] * 5 + [429]  # fmt: skip
            other = proxy.post("/api/ask", json=ask, headers={"X-Forwarded-For": "203.0.113.2"})
            assert other.status_code == 200  # another client behind the same proxy
            forwarded = {"X-Forwarded-Host": "assistant.example.edu", "X-Forwarded-Proto": "https"}
            root = proxy.get("/config", headers=forwarded).json()["root"]
            assert root.startswith("https://assistant.example.edu")
        with client(base, "127.0.0.9") as direct:  # not the proxy: its header is its own claim
            statuses = [
                direct.post(
                    "/api/ask", json=ask, headers={"X-Forwarded-For": f"192.0.2.{i}"}
                ).status_code
                for i in range(6)
            ]
            assert statuses == [200] * 5 + [429]


# ------------------------------------------------------------- 2. Gradio's routes
@pytest.mark.integration
def test_uploads_are_refused_before_gradio_sees_them(ui_server: str) -> None:
    with client(ui_server, "127.0.0.4") as http:
        for path in ("/gradio_api/upload", "/embed/gradio_api/upload", "/gradio_api/upload/"):
            res = http.post(path, files={"files": ("empty.txt", b"")})
            assert res.status_code == 403, path
            assert "upload" in res.json()["error"]
            assert res.headers["x-content-type-options"] == "nosniff"
        form = http.post("/gradio_api/queue/join", files={"files": ("a.txt", b"")})
        assert form.status_code in (403, 415) and "upload" in form.json()["error"]


@pytest.mark.integration
def test_every_gradio_route_counts_against_the_event_budget(ui_server: str) -> None:
    paths = ("/gradio_api/queue/status", "/gradio_api/info")
    with client(ui_server, "127.0.0.5") as http:
        statuses = [http.get(paths[i % 2]).status_code for i in range(400)]
        refused = http.get(paths[1])
    assert 429 in statuses  # every Gradio route shares one budget per client
    first = statuses.index(429)
    assert set(statuses[:first]) == {200} and set(statuses[first:]) == {429}
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    with client(ui_server, "127.0.0.6") as http:  # another client is unaffected
        assert http.get(paths[0]).status_code == 200


@pytest.mark.integration
def test_an_unknown_event_is_a_400_not_a_500(ui_server: str) -> None:
    with client(ui_server, "127.0.0.7") as http:
        for path in ("/gradio_api/queue/join",):
            for fn_index in (999, -1):
                body = {"fn_index": fn_index, "data": [], "session_hash": "issue12"}
                res = http.post(path, json=body)
                assert res.status_code == 400, (path, fn_index, res.text)
                assert "event" in res.json()["error"]
        for path, body in (
            ("/gradio_api/call/no_such_event", {"data": []}),
            ("/gradio_api/run/predict", {"data": [], "fn_index": 999}),
            ("/gradio_api/run/predict", {"data": []}),
        ):
            res = http.post(path, json=body)  # the same keep-alive connection throughout
            assert res.status_code == 400 and "event" in res.json()["error"], path
        unused = http.post("/gradio_api/component_server", json={"component_id": 9999})
        assert unused.status_code == 404 and unused.json()["error"]  # was a 500 too
        deps = http.get("/config").json()["dependencies"]
        clear = next(d["id"] for d in deps if d["api_name"] == "clear")
        ok = http.post(
            "/gradio_api/queue/join",
            json={"fn_index": clear, "data": [], "session_hash": "issue12"},
        )
        assert ok.status_code == 200 and ok.json()["event_id"]  # a real event still joins


@pytest.mark.integration
def test_unknown_or_malformed_event_ids_are_a_clean_404(
    ui_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Gradio started a 200 event stream for any id, then raised its 404 inside it: a
    # "response already started" traceback in the log for each such request.
    uvicorn_log = logging.getLogger("uvicorn")  # it does not propagate to the root logger
    uvicorn_log.addHandler(caplog.handler)
    try:
        with client(ui_server, "127.0.0.11") as http:
            for path in (
                "/gradio_api/call/ask/%ff", "/gradio_api/call/ask/no-such-event",
                "/gradio_api/call/v2/ask/%00", "/gradio_api/queue/data?session_hash=%ff",
                "/gradio_api/queue/data?session_hash=nobody", "/gradio_api/queue/data",
            ):  # fmt: skip
                res = http.get(path)
                assert res.status_code in (404, 422), (path, res.status_code, res.text)
                assert res.headers["content-type"] == "application/json", path
            assert chat(http, "What is CPT?", {}) == "answer"  # a real event still streams
            assert http.get("/healthz").status_code == 200
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


# ------------------------------------------------------------- 5. one origin policy
@pytest.mark.integration
def test_gradio_routes_follow_our_origin_policy(ui_server: str) -> None:
    with client(ui_server, "127.0.0.8") as http:
        for path in ("/", "/config", "/gradio_api/queue/status", "/embed/"):
            res = http.get(path, headers={"Origin": LOCAL_DEV})
            assert res.status_code == 200, path
            cors = [h for h in res.headers if h.lower().startswith("access-control-")]
            assert cors == [], (path, cors)
        preflight = http.options(
            "/gradio_api/queue/join",
            headers={"Origin": LOCAL_DEV, "Access-Control-Request-Method": "POST"},
        )
        assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


@pytest.mark.integration
def test_a_spoofed_forwarded_host_is_not_the_page_root(ui_server: str) -> None:
    spoof = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    with client(ui_server, "127.0.0.10") as http:
        root = http.get("/config", headers=spoof).json()["root"]
        assert root.startswith("http://127.0.0.1:"), root
        page = http.get("/", headers=spoof)
        assert page.status_code == 200 and "evil.example" not in page.text


# ------------------------------------------------------------- 3. the API's queue
def raw_ask(port: int, question: str) -> socket.socket:
    """A complete POST /api/ask on its own connection; the answer is left unread."""
    body = json.dumps({"question": question}).encode()
    head = (
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json"
        f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head.encode() + body)
    return sock


def status_of(sock: socket.socket) -> int:
    with sock, sock.makefile("rb") as reply:
        return int(reply.readline().split()[1])


@pytest.mark.integration
def test_the_api_queue_is_bounded_and_gone_clients_are_not_answered(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, queue_size=2, rate_per_minute=1000)
    gate = threading.Event()
    chain = FakeChain(settings, gate)
    try:
        with running(create_server(chain, settings, mount_ui=False)) as base:
            port = int(base.rsplit(":", 1)[1])
            with client(base, "127.0.0.1") as http:
                answering = [raw_ask(port, "first?"), raw_ask(port, "second?")]
                wait_until(lambda: len(chain.asked) == 2, what="two answers to start")
                gone, waiting = raw_ask(port, "gone?"), raw_ask(port, "waiting?")
                wait_until(
                    lambda: http.get("/healthz").json()["api_waiting"] == 2, what="two waiting"
                )
                full = http.post("/api/ask", json={"question": "one too many?"})
                assert full.status_code == 503 and full.headers["retry-after"]
                assert "busy" in full.json()["error"]
                gone.close()
                http.get("/healthz")  # a round trip after the close: the server has seen it
                gate.set()
                assert [status_of(s) for s in (*answering, waiting)] == [200, 200, 200]
    finally:
        gate.set()
    assert sorted(chain.asked) == ["first?", "second?", "waiting?"]  # "gone?" never computed


# ------------------------------------------------------------- 4. invalid text
@pytest.fixture
def api(chain: FaqChain) -> TestClient:
    settings = chain.settings.with_(allowed_origins=(ALLOWED,), rate_per_minute=3)
    return TestClient(create_server(chain, settings, mount_ui=False))


def test_a_lone_surrogate_is_a_clear_400(api: TestClient) -> None:
    for body in (
        {"question": "\ud800 How much does the CPT cost?"},
        {"question": "How much?", "history": [{"role": "user", "content": "cost \udfff"}]},
    ):
        res = api.post("/api/ask", content=json.dumps(body), headers=JSON)
        assert res.status_code == 400, body
        assert "text" in res.json()["error"]


def test_a_lone_surrogate_is_a_notice_in_the_chat(chain: FaqChain) -> None:
    handlers = ChatHandlers(chain, chain.settings)
    *_, last = handlers.respond("\ud800 cost?", ChatState())
    reply = last[0][-1]["content"]
    assert "faq-notice" in reply and "text" in reply
    with pytest.raises(InvalidQuestionError):
        clean_history([{"role": "user", "content": "\ud800"}], 20, 2000)


# ------------------------------------------------------------- 5. headers on every response
def test_refusals_and_errors_carry_the_security_headers(chain: FaqChain) -> None:
    settings = chain.settings.with_(allowed_origins=(ALLOWED,), rate_per_minute=1)
    api = TestClient(create_server(chain, settings, mount_ui=False))
    preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    responses = {
        413: api.post("/api/ask", content=b"x" * 70_000, headers=JSON),
        204: api.options("/api/ask", headers=preflight),
        403: api.options("/api/ask", headers={**preflight, "Origin": "https://evil.example"}),
        200: api.post("/api/ask", json={"question": "What is CPT?"}),
        429: api.post("/api/ask", json={"question": "What is CPT?"}, headers={"Origin": ALLOWED}),
    }
    for status, res in responses.items():
        assert res.status_code == status
        for name, value in SECURITY_HEADERS.items():
            assert res.headers.get(name) == value, (status, name)
    assert responses[429].headers["access-control-allow-origin"] == ALLOWED

    class Broken(FakeChain):
        def ask(self, question: object, history: object = ()) -> Answer:
            raise RuntimeError("a bug")

    broken = TestClient(
        create_server(Broken(settings), settings, mount_ui=False), raise_server_exceptions=False
    )
    crash = broken.post("/api/ask", json={"question": "What is CPT?"})
    assert crash.status_code == 500 and "try again" in crash.json()["error"]
    for name, value in SECURITY_HEADERS.items():
        assert crash.headers.get(name) == value, name


# ------------------------------------------------------------- 6. 422 and the budget
def test_invalid_requests_do_not_use_the_ask_budget(api: TestClient) -> None:
    for _ in range(10):
        assert api.post("/api/ask", json={"history": []}).status_code == 422
    ok = [api.post("/api/ask", json={"question": "What is CPT?"}).status_code for _ in range(3)]
    assert ok == [200, 200, 200]
    refused = api.post("/api/ask", json={"question": "What is CPT?"}, headers={"Origin": ALLOWED})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    assert "try again" in refused.json()["error"]


# ------------------------------------------------------------- 7. health after ingest
def test_healthz_checks_for_a_new_index_before_reporting(tmp_path: Path) -> None:
    class Reloading(FakeChain):
        fail = False

        def reload(self, force: bool = False) -> bool:
            if self.fail:
                raise OSError("manifest unreadable")
            self.manifest = SimpleNamespace(generation="gen-2", model="fake")
            return True

    settings = Settings(data_dir=tmp_path)
    chain = Reloading(settings)
    api = TestClient(create_server(chain, settings, mount_ui=False))
    assert api.get("/healthz").json()["generation"] == "gen-2"  # swapped in by ingest
    chain.fail = True
    res = api.get("/healthz")
    assert res.status_code == 200
    assert res.json()["status"] == "ok" and res.json()["generation"] == "gen-2"

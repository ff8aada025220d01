"""The HTTP transport under hostile clients, with no proxy in front: request heads are
bounded in size, in header count and in the time they take to arrive. Real uvicorn
(``uvicorn_server``, as app.py serves it) on a loopback port, spoken to with raw sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.answer.extractive import Answer
from bot.config import Settings
from bot.serve.server import create_server, uvicorn_server
from tests.conftest import free_port, running

HEAD_TIMEOUT = 1.0  # FAQBOT_HEADER_TIMEOUT for these tests: small, so they run quickly
GIVE_UP = 20.0  # how long a test waits for the server before it fails instead of hanging


class SlowChain:
    """Answers once ``gate`` is set: a response that takes longer than the head timeout."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate
        self.manifest: Any = SimpleNamespace(generation="gen-1", model="fake")
        self.chunk_count = 1

    def ask(self, question: object, history: object = (), *_: object) -> Answer:
        self.gate.wait(timeout=GIVE_UP)
        return Answer(f"Answer to {question}")


@pytest.fixture(scope="module")
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory, gate: threading.Event) -> Iterator[int]:
    data: Path = tmp_path_factory.mktemp("transport")
    settings = Settings(data_dir=data, header_timeout=HEAD_TIMEOUT, rate_per_minute=1000)
    app = create_server(SlowChain(gate), settings, mount_ui=False)
    with running(uvicorn_server(app, "127.0.0.1", free_port(), settings)) as server:
        yield server.config.port
        gate.set()  # a held answer lets go before the server stops


@contextlib.contextmanager
def connection(port: int) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
    try:
        yield sock
    finally:
        sock.close()


def send(sock: socket.socket, data: bytes) -> bool:
    """Send; False once the server has closed the connection."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection ("" if it sent nothing)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def status(data: bytes) -> int | None:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def head(*headers: str) -> bytes:
    lines = ["GET /healthz HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.integration
def test_a_plain_request_still_works(port: int) -> None:
    with connection(port) as sock:
        sock.sendall(head("User-Agent: test"))
        assert status(reply(sock)) == 200


@pytest.mark.integration
def test_an_oversized_header_is_refused_not_served(port: int) -> None:
    # 2 MB arrives over many reads: the server stops buffering it and answers an error.
    with connection(port) as sock:
        send(sock, head("X-Big: " + "a" * 2_000_000))
        answered = status(reply(sock))
    assert answered in (None, 400, 431)  # closed, or refused: never served
    # 40 kB can arrive in one read, whole: still over the limit (16 kB by default).
    with connection(port) as sock:
        sock.sendall(head("X-Big: " + "a" * 40_000))
        got = reply(sock)
    assert status(got) == 431 and b"too large" in got
    assert b"x-content-type-options: nosniff" in got.lower()  # our refusal, with our headers


@pytest.mark.integration
def test_too_many_headers_are_refused(port: int) -> None:
    with connection(port) as sock:
        sock.sendall(head(*(f"X-H{i}: 1" for i in range(150))))
        assert status(reply(sock)) == 431
    with connection(port) as sock:
        sock.sendall(head(*(f"X-H{i}: 1" for i in range(50))))
        assert status(reply(sock)) == 200


@pytest.mark.integration
def test_a_slowloris_head_is_cut_off(port: int) -> None:
    # One header line every 0.2 s, never finishing: closed after FAQBOT_HEADER_TIMEOUT.
    with connection(port) as sock:
        open_ = send(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for i in range(int(GIVE_UP / 0.2)):
            time.sleep(0.2)
            open_ = send(sock, f"X-Drip-{i}: 1\r\n".encode())
            if not open_:
                break
        assert not open_ or reply(sock) == b"", "the dripping head was never cut off"


@pytest.mark.integration
def test_an_idle_connection_is_closed(port: int) -> None:
    with connection(port) as sock:  # connects, sends nothing
        assert reply(sock) == b""  # closed by the server (a timeout here raises instead)


@pytest.mark.integration
def test_a_slowloris_after_a_kept_alive_request_is_cut_off_too(port: int) -> None:
    with connection(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        open_ = True
        for i in range(int(GIVE_UP / 0.2)):
            open_ = send(sock, b"GET /healthz HTTP/1.1\r\n" if i == 0 else b"X-Drip: 1\r\n")
            if not open_:
                break
            time.sleep(0.2)
        assert not open_ or reply(sock) == b""


@pytest.mark.integration
def test_a_slow_answer_is_not_cut_off_by_the_head_timeout(port: int, gate: threading.Event) -> None:
    body = b'{"question": "What is CPT?"}'
    with connection(port) as sock:
        sock.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        time.sleep(HEAD_TIMEOUT * 2)  # the answer takes longer than a head may
        gate.set()
        got = reply(sock)
    assert status(got) == 200 and b"Answer to What is CPT?" in got

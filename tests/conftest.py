"""Shared fakes: a bag-of-words embedder (fast, deterministic, similar texts → similar
vectors) and a chain over a temporary index built from the real corpus."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.index.text import tokenize

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "corpus" / "cpt-credential-guide.txt"


def free_port() -> int:
    """A loopback port nobody listens on, for servers the tests start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(server: Any, what: str = "the server") -> Iterator[Any]:
    """A ``uvicorn.Server`` serving in a thread from its start until the block ends."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class HashingEmbeddings(Embeddings):
    """Hashed bag of stemmed words and letter trigrams, unit length. Stands in for MiniLM
    in unit tests: deterministic, fast, and similar texts get similar vectors."""

    name = "fake-hashing"
    dims = 1024

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        vec = np.zeros(self.dims, dtype=np.float32)
        for token in tokenize(text):
            # The word, and more faintly its letter trigrams: misspellings land close by.
            grams = [token] + [f"#{token}#"[i : i + 3] for i in range(len(token))]
            for n, gram in enumerate(grams):
                h = int(hashlib.md5(gram.encode()).hexdigest(), 16)
                vec[h % self.dims] += (1.0 if n == 0 else 0.3) * (1 if (h >> 12) % 2 else -1)
        norm = float(np.linalg.norm(vec))
        if norm == 0:
            vec[0] = 1.0
            norm = 1.0
        return (vec / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def fake_embeddings() -> HashingEmbeddings:
    return HashingEmbeddings()


@pytest.fixture
def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(GUIDE, corpus / GUIDE.name)
    return corpus


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings(
        corpus_dir=corpus_dir,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        # Fake vectors are weaker evidence than MiniLM's: a lower bar keeps answers flowing.
        min_evidence=0.2,
    )


@pytest.fixture
def ingested(settings: Settings, fake_embeddings: HashingEmbeddings) -> Settings:
    from bot.ingest.pipeline import ingest

    ingest(settings, fake_embeddings)
    return settings


@pytest.fixture
def chain(ingested: Settings, fake_embeddings: HashingEmbeddings):  # type: ignore[no-untyped-def]
    from bot.answer.chain import FaqChain

    return FaqChain(ingested, fake_embeddings)


# ----------------------------------------------------------------------------- question log
@pytest.fixture
def question_log(settings: Settings) -> Iterator[Any]:
    """The question log of ``settings`` (SQLite in its data folder), closed afterwards."""
    from bot.insights.logstore import LogStore
    from bot.insights.questionlog import QuestionLog

    log = QuestionLog(lambda: LogStore(settings.log_url), feedback_dir=settings.data_dir)
    yield log
    log.close()


def logged(app_or_log: Any) -> Any:
    """The store behind a server's (``app.state.questions``) or a handler's question log,
    after everything logged so far is written."""
    log = getattr(getattr(app_or_log, "state", None), "questions", app_or_log)
    assert log.flush(), "the question log did not catch up"
    return log.store()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server (Debian's package; `make test` installs it) in a throwaway
    cluster on a free port; yields its base URL. Skipped where the package is absent, except
    in CI, where that is a failure."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: `make postgres` installs it")
        pytest.skip("PostgreSQL is not installed (`make postgres` installs Debian's package)")
    root = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as Debian's postgres user
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "faqbot", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "start")  # fmt: skip
    try:
        yield f"postgresql://faqbot@127.0.0.1:{port}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty database on the test server."""
    import psycopg

    name = f"t{os.urandom(6).hex()}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs against SQLite and against a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'questions.db'}"
    return str(request.getfixturevalue("postgres_url"))


# ------------------------------------------------------------------------------------ redis
@contextlib.contextmanager
def redis_process(port: int) -> Iterator[str]:
    """A throwaway redis-server (Debian's package; `make redis` installs it) on loopback
    ``port``, keeping nothing on disk, until the block ends; yields its URL. Skipped where
    the package is absent, except in CI, where that is a failure."""
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: `make redis` installs it")
        pytest.skip("redis-server is not installed (`make redis` installs Debian's package)")
    with tempfile.TemporaryDirectory(prefix="faqbot-redis-") as workdir:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, f"redis-server on port {port} exited at start"
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                assert time.monotonic() < deadline, f"redis-server on port {port} did not start"
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server for the whole session (tests keep apart by key prefix)."""
    with redis_process(free_port()) as url:
        yield url


CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"chroma run did not start on port {port}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)

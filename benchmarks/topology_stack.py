"""The replica topology of the compose file, started from local processes on loopback (these
machines have no Docker): ``chroma run``, Debian's redis-server and nginx, two ``app.py``
replicas sharing one Chroma server, one question log and one Redis, and the one-shot ingest
job. Used by tests/topology/ and benchmarks/topology.py; every process is started here and
stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import ROOT, free_port

CHROMA = Path(sys.executable).with_name("chroma")
START_TIMEOUT_S = 180.0  # an app replica loads the model and calibrates; 2 shared cores
STOP_TIMEOUT_S = 30.0
# The shipped nginx config (compose.yaml runs it too), so the tested topology is the shipped
# one; only the process plumbing around it (paths, pid, user) is written here.
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
NGINX_UPSTREAM = "server {address} max_fails=1 fail_timeout=5s;"
NGINX_MAIN = """\
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
{user}
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {site};
}}
"""


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not listen on port {port} in {timeout:.0f} s")
        time.sleep(0.1)


@dataclass
class Process:
    """One server process: a command, its port and log; start, stop, SIGKILL, start again."""

    name: str
    command: list[str]
    port: int
    log: Path
    env: dict[str, str] | None = None
    health: str = ""  # a path answering 200 once ready (else: the port accepts)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not running"
        return self.proc.pid

    def start(self) -> Process:
        return self.launch().ready()

    def launch(self) -> Process:
        """Start the process without waiting (replicas load their models side by side)."""
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def ready(self) -> Process:
        """Wait until it listens (and is healthy); stopped if it never gets there."""
        assert self.proc is not None, f"{self.name} was not launched"
        try:
            wait_for_port(self.port, self.proc, self.name, START_TIMEOUT_S)
            if self.health:
                self._wait_healthy()
        except Exception:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}: see {self.log}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self.health, timeout=5).status_code == 200:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} was not healthy in {START_TIMEOUT_S:.0f} s: {self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when a machine or container dies."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server",) if os.access(p, os.X_OK)), None
    )


def chroma(root: Path) -> Process:
    port = free_port()
    data = root / "chroma"
    data.mkdir(exist_ok=True)
    cmd = [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    return Process("chroma", cmd, port, root / "chroma.log")


def redis(root: Path) -> Process:
    binary = redis_binary()
    assert binary, "redis-server is not installed (`make redis` installs Debian's)"
    port = free_port()
    cmd = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
           "--appendonly", "no", "--dir", str(root)]  # fmt: skip
    return Process("redis", cmd, port, root / "redis.log")


def render_nginx_site(upstreams: Sequence[str], listen: str) -> str:
    """deploy/nginx.conf with its two placeholders filled: the replicas (``host:port``
    each) and where nginx listens (``port`` or ``address:port``)."""
    if not upstreams:
        raise ValueError("nginx needs at least one replica to proxy to")
    servers = "\n    ".join(NGINX_UPSTREAM.format(address=a) for a in upstreams)
    text = NGINX_SITE.read_text("utf-8")
    text = text.replace("${NGINX_UPSTREAMS}", servers).replace("${NGINX_LISTEN}", listen)
    if "${" in text:  # a placeholder added to the template but not filled here
        raise ValueError(f"{NGINX_SITE} has a placeholder besides NGINX_UPSTREAMS/NGINX_LISTEN")
    return text


def write_nginx_config(prefix: Path, upstreams: Sequence[str], listen: str) -> Path:
    """A whole nginx config under ``prefix`` (the shipped site inside an ``http`` block
    whose files all live there), for ``nginx -p prefix -c`` the returned path."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)  # the workers run as nobody when the master is root
    site = prefix / "faqbot.conf"
    site.write_text(render_nginx_site(upstreams, listen), "utf-8")
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_MAIN.format(root=prefix, user=user, site=site), "utf-8")
    return conf


def nginx_command(binary: str, prefix: Path, conf: Path) -> list[str]:
    return [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"),
            "-g", "daemon off;"]  # fmt: skip


def nginx(root: Path, upstreams: list[int]) -> Process:
    """nginx in front of the app replicas on ``upstreams``, running deploy/nginx.conf."""
    binary = nginx_binary()
    assert binary, "nginx is not installed (`make nginx` installs Debian's)"
    prefix = root / "nginx"
    port = free_port()
    conf = write_nginx_config(prefix, [f"127.0.0.1:{p}" for p in upstreams], f"127.0.0.1:{port}")
    return Process("nginx", nginx_command(binary, prefix, conf), port, root / "nginx.log")


def app_replica(name: str, root: Path, env: Mapping[str, str]) -> Process:
    """``python app.py`` (as ``make run`` serves) on its own port, its own data folder."""
    port = free_port()
    data = root / name
    data.mkdir(exist_ok=True)
    replica_env = {
        **env,
        "FAQBOT_HOST": "127.0.0.1",
        "FAQBOT_PORT": str(port),
        "FAQBOT_DATA_DIR": str(data),
        "FAQBOT_INDEX_DIR": str(data / "index"),
    }
    cmd = [sys.executable, "app.py"]
    return Process(name, cmd, port, root / f"{name}.log", env=replica_env, health="/healthz")


def run_ingest(env: Mapping[str, str], root: Path, timeout: float = 300.0) -> str:
    """The one-shot ingest job (``python -m bot.ingest``); its output, or why it failed."""
    job_env = {**env, "FAQBOT_INDEX_DIR": str(root / "job-index"),
               "FAQBOT_DATA_DIR": str(root / "job-data")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bot.ingest"], cwd=ROOT, env=job_env,
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the ingest job failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


@dataclass
class Topology:
    """Chroma, Redis (when the app has the setting), two replicas and nginx in front."""

    root: Path
    env: dict[str, str]
    chroma: Process
    replicas: list[Process]
    nginx: Process
    redis: Process | None = None
    started: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.nginx.url

    def stop(self) -> None:
        for process in reversed(self.started):
            process.stop()


def base_env(corpus: Path, collection: str = "topology") -> dict[str, str]:
    """What every process of the topology shares (the caller adds the shared services)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env.update(
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        GRADIO_ANALYTICS_ENABLED="False",
        FAQBOT_CORPUS_DIR=str(corpus),
        FAQBOT_COLLECTION=collection,
        # nginx reaches the replicas from loopback: its X-Forwarded-For is believed.
        FAQBOT_TRUSTED_PROXIES="127.0.0.1/32",
    )
    return env


@contextlib.contextmanager
def topology(
    corpus: Path,
    replicas: int = 2,
    log_db_url: str = "",
    redis_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Topology]:
    """The whole topology over ``corpus``, ingested by the job before the replicas start.
    ``redis_url``: a Redis to use; None starts one here when the app reads FAQBOT_REDIS_URL
    (shared per-client limits), "" none. ``env``: more FAQBOT_* settings for every process."""
    from bot.config import Settings

    root = Path(tempfile.mkdtemp(prefix="faqbot-topology-"))
    shared = base_env(corpus)
    shared.update(env or {})
    started: list[Process] = []
    try:
        store = chroma(root).start()
        started.append(store)
        shared["FAQBOT_CHROMA_URL"] = store.url
        if log_db_url:
            shared["FAQBOT_LOG_DB_URL"] = log_db_url
        cache = None
        if redis_url is None and "redis_url" in Settings.__dataclass_fields__:
            cache = redis(root).start()
            started.append(cache)
            redis_url = f"redis://127.0.0.1:{cache.port}/0"
        if redis_url:
            shared["FAQBOT_REDIS_URL"] = redis_url
        run_ingest(shared, root)
        apps = [app_replica(f"replica-{n + 1}", root, shared) for n in range(replicas)]
        for app in apps:
            started.append(app.launch())
        for app in apps:
            app.ready()
        front = nginx(root, [app.port for app in apps]).start()
        started.append(front)
        yield Topology(root, shared, store, apps, front, cache, started)
    finally:
        for process in reversed(started):
            process.stop()
        shutil.rmtree(root, ignore_errors=True)

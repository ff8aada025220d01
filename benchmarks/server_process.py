"""The serving process the benchmarks drive: ``benchmarks.serve`` (the real host app, Gradio
chat and all, over a temporary index) in its own process on a free loopback port, its RSS and
peak RSS (VmHWM) read from /proc, its CPU time from /proc/PID/stat."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, free_port, proc_status_kb


class ServerProcess:
    """``benchmarks.serve`` on a free loopback port, stopped (by its own pid) on exit."""

    def __init__(
        self,
        settings: Any,
        backend: str = "auto",
        log: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.extra_args = extra_args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    def __enter__(self) -> ServerProcess:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            GRADIO_ANALYTICS_ENABLED="False",
            FAQBOT_CORPUS_DIR=str(self.settings.corpus_dir),
            FAQBOT_INDEX_DIR=str(self.settings.index_dir),
            FAQBOT_DATA_DIR=str(self.settings.data_dir),
            FAQBOT_RATE_PER_MINUTE="1000000",
            FAQBOT_RATE_PER_DAY="1000000",
            FAQBOT_QUEUE_SIZE="1024",
        )
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "benchmarks.serve", "--port", str(self.port)]
        cmd += ["--backend", self.backend, *self.extra_args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)
        self._wait_ready(timeout=180)
        self.start_seconds = time.perf_counter() - started
        return self

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"the server did not answer on {self.url} in {timeout:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def cpu_seconds(self) -> tuple[float, float]:
        """User + system CPU used so far by the server's main thread (its event loop: HTTP,
        routing, Gradio's queue) and by all its other threads (handlers, ONNX), from /proc."""
        main = rest = 0.0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread may end while this reads
                fields = (task / "stat").read_text("utf-8").rsplit(")", 1)[1].split()
                used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                if task.name == str(self.pid):
                    main += used
                else:
                    rest += used
        return main, rest

    def rss_mb(self) -> float:
        return round(proc_status_kb(self.pid, "VmRSS") / 1024, 1)

    def peak_mb(self) -> float:
        return round(proc_status_kb(self.pid, "VmHWM") / 1024, 1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

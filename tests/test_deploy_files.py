"""The deploy files (issue #26): compose.yaml, the Dockerfile, deploy/nginx.conf and
deploy/env.example, checked without Docker; and the claim the runtime image rests on, that
the app ingests and serves with torch, sentence-transformers, transformers and onnx absent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from benchmarks.topology_stack import (
    Process,
    nginx_binary,
    nginx_command,
    render_nginx_site,
    write_nginx_config,
)
from bot.config import Settings
from tests.conftest import ROOT, free_port

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
SHARED = ("chroma", "postgres", "redis")
# What the runtime image does not carry (the Dockerfile uninstalls them after the export).
ABSENT = ("torch", "sentence_transformers", "transformers", "onnx")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def interpolated(value: object, env: dict[str, str]) -> str:
    """A compose value with ${VAR}, ${VAR:-default} and ${VAR:?message} filled from ``env``."""
    return INTERPOLATION.sub(lambda m: env.get(m.group(1), ""), str(value))


def read_settings() -> set[str]:
    """Every FAQBOT_* name Settings.from_env reads (it reads them all, set or not)."""

    class Recording(dict[str, str]):
        def __init__(self) -> None:
            super().__init__()
            self.names: set[str] = set()

        def get(self, key: str, default: Any = None) -> Any:
            self.names.add(key)
            return super().get(key, default)

        def __getitem__(self, key: str) -> str:
            self.names.add(key)
            return super().__getitem__(key)

        def __contains__(self, key: object) -> bool:
            self.names.add(str(key))
            return super().__contains__(key)

    recording = Recording()
    Settings.from_env(recording)
    return {n for n in recording.names if n.startswith("FAQBOT_")}


def stages(dockerfile: str) -> list[str]:
    """The Dockerfile's stages, each from its FROM line on (line continuations joined)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    return re.split(r"^(?=FROM\s)", text, flags=re.MULTILINE)[1:]


def app_services(services: dict[str, Any]) -> list[str]:
    """The services serving the app: the project's image, its default command."""
    image = services["ingest"]["image"]
    return [n for n, s in services.items() if s.get("image") == image and "command" not in s]


# ------------------------------------------------------------------------------- compose
def test_compose_runs_two_replicas_behind_nginx_on_shared_services() -> None:
    services = compose()["services"]
    assert {"nginx", "ingest", *SHARED} <= set(services)
    replicas = app_services(services)
    assert len(replicas) == 2, replicas
    upstreams = services["nginx"]["environment"]["NGINX_UPSTREAMS"]
    for name in replicas:
        assert f"server {name}:7860 " in upstreams, f"nginx does not proxy to {name}"
        waits = services[name]["depends_on"]
        assert waits["ingest"]["condition"] == "service_completed_successfully"
        for shared in SHARED:
            assert waits[shared]["condition"] == "service_healthy", (name, shared)
        for shared in SHARED:
            assert "healthcheck" in services[shared], f"{name} waits on {shared}'s health"
    assert services["ingest"]["command"] == ["python", "-m", "bot.ingest"]
    assert services["ingest"].get("restart") == "no"
    assert services["chroma"]["command"][:2] == ["chroma", "run"]
    published = [s for s, spec in services.items() if spec.get("ports")]
    assert published == ["nginx"], "only nginx faces the network"


def test_compose_sets_only_real_settings_and_they_parse() -> None:
    """Every FAQBOT_* name compose.yaml or the Dockerfile sets is one bot/config.py reads,
    and the replicas' settings (secrets filled in as from .env) are valid."""
    known = read_settings()
    services = compose()["services"]
    dockerfile_names = set(re.findall(r"\b(FAQBOT_[A-Z_]+)=", DOCKERFILE.read_text("utf-8")))
    set_names = {k for s in services.values() for k in (s.get("environment") or {})}
    unknown = sorted(n for n in (set_names | dockerfile_names) if n.startswith("FAQBOT_"))
    unknown = [n for n in unknown if n not in known]
    assert unknown == [], f"not settings of bot/config.py: {unknown}"
    secrets = {"POSTGRES_PASSWORD": "a" * 48, "REDIS_PASSWORD": "b" * 48}
    for name in app_services(services):
        env = {k: interpolated(v, secrets) for k, v in services[name]["environment"].items()}
        settings = Settings.from_env(env)
        assert settings.chroma_url and settings.redis_url
        assert settings.log_db_url.startswith("postgresql://")
        assert settings.host == "0.0.0.0" and settings.trusted_proxies
        nginx_address = services["nginx"]["networks"]["default"]["ipv4_address"]
        assert settings.trusted_proxies == (f"{nginx_address}/32",)


def test_env_example_names_every_variable_compose_needs_and_no_secret() -> None:
    needed = set(INTERPOLATION.findall(COMPOSE.read_text("utf-8")))
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert needed <= set(example), f"missing from deploy/env.example: {needed - set(example)}"
    for name, value in example.items():
        if "PASSWORD" in name or "TOKEN" in name:
            assert value == "" or value.startswith("change-me"), f"{name} holds a real value"


# ---------------------------------------------------------------------------- Dockerfile
def test_dockerfile_runtime_stage_is_non_root_and_carries_no_torch() -> None:
    build, runtime = stages(DOCKERFILE.read_text("utf-8"))[-2:]
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0", "0:0"), users
    runtime_installs = [r for r in re.findall(r"^RUN\s.*$", runtime, re.MULTILINE) if "pip" in r]
    assert not any("torch" in r or "sentence-transformers" in r for r in runtime_installs)
    # What the runtime stage copies from the build stage is the venv after the uninstall.
    uninstall = re.search(r"pip uninstall -y (.*)", build)
    assert uninstall and {"torch", "sentence-transformers"} <= set(uninstall.group(1).split())
    assert "download.pytorch.org/whl/cpu" in build, "torch must come from the CPU index"
    assert re.search(r"^HEALTHCHECK\s.*healthcheck\.py", runtime, flags=re.MULTILINE)
    assert "/healthz" in HEALTHCHECK.read_text("utf-8")


# --------------------------------------------------------------------------------- nginx
def test_nginx_template_renders_with_its_two_placeholders() -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", NGINX_SITE.read_text("utf-8")))
    assert placeholders == {"NGINX_UPSTREAMS", "NGINX_LISTEN"}
    nginx_service = compose()["services"]["nginx"]
    assert placeholders <= set(nginx_service["environment"]), "compose fills every placeholder"
    mounts = [v.split(":") for v in nginx_service["volumes"]]
    assert ["./deploy/nginx.conf", "/etc/nginx/templates/default.conf.template", "ro"] in mounts
    text = render_nginx_site(["127.0.0.1:9001", "127.0.0.1:9002"], "127.0.0.1:9000")
    assert "${" not in text
    assert "server 127.0.0.1:9001 max_fails=1" in text and "server 127.0.0.1:9002 " in text
    assert "listen 127.0.0.1:9000;" in text
    with pytest.raises(ValueError, match="at least one replica"):
        render_nginx_site([], "9000")


def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    binary = nginx_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: `make nginx` installs it")
        pytest.skip("nginx is not installed (`make nginx` installs Debian's package)")
    prefix = tmp_path / "nginx"
    conf = write_nginx_config(prefix, ["127.0.0.1:9001", "127.0.0.1:9002"], "127.0.0.1:9000")
    command = [a for a in nginx_command(binary, prefix, conf) if a not in ("-g", "daemon off;")]
    done = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


# ---------------------------------------------------------------- serving without torch
# Run a module or script with the packages the runtime image lacks made unimportable.
WITHOUT = f"""
import runpy, sys
for name in {ABSENT!r}:
    sys.modules[name] = None  # import raises ImportError; find_spec finds nothing
target = sys.argv[1]
sys.argv = sys.argv[1:]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""

LIBRARY_FAQ = """# Library FAQ

## How many books can I borrow?

Students can borrow up to 25 books at a time for four weeks.

## Where do I print?

Printers are on the second floor next to the help desk; printing costs 10 cents a page.
"""


@pytest.mark.integration
def test_ingest_and_serve_without_torch_answer_with_onnx(tmp_path: Path) -> None:
    """What the runtime image runs: the ingest job and app.py with torch and its kin
    unimportable (so the torch backend cannot load: an answer means ONNX served it)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "library.md").write_text(LIBRARY_FAQ, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env.update(
        PYTHONPATH=str(ROOT), GRADIO_ANALYTICS_ENABLED="False",
        FAQBOT_CORPUS_DIR=str(corpus), FAQBOT_INDEX_DIR=str(tmp_path / "index"),
        FAQBOT_DATA_DIR=str(tmp_path / "data"), FAQBOT_PORT=str(port),
    )  # fmt: skip
    # The image's build stage: the export, made with torch where it is not cached yet.
    export = (
        "from bot.index.embedding import MiniLMEmbeddings as M; M(backend='onnx').embed_query('x')"
    )
    subprocess.run([sys.executable, "-c", export], cwd=ROOT, env=env, check=True, timeout=300)
    ingest = subprocess.run(
        [sys.executable, "-c", WITHOUT, "bot.ingest"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    app = Process("app", [sys.executable, "-c", WITHOUT, "app.py"], port,
                  tmp_path / "app.log", env=env, health="/healthz")  # fmt: skip
    check = [sys.executable, "-c", WITHOUT, str(HEALTHCHECK)]
    app.start()
    try:
        reply = httpx.post(f"{app.url}/api/ask", json={"question": "How many books can I borrow?"},
                           timeout=60)  # fmt: skip
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not body["abstained"] and "25 books" in body["answer"]
        assert body["citations"][0]["source"] == "library.md"
        healthy = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, timeout=60)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        app.stop()
    down = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "unhealthy" in down.stderr

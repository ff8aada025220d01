"""The widget's files as served: the launcher, the /embed/ page filled from the profile,
its long-cached assets, and the strict CSP that keeps profile text and answers inert."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from fastapi.testclient import TestClient

from bot.answer.chain import FaqChain
from bot.config import Profile
from bot.serve.server import create_server
from bot.serve.widget import json_literal

COLLEGE = "https://www.example-college.edu"
HOSTILE_TITLE = 'Ask us</title><script>alert("t")</script>'


@pytest.fixture
def client(chain: FaqChain) -> TestClient:
    profile = Profile(
        widget_title=HOSTILE_TITLE,
        greeting="Hi </script><img src=x onerror=alert(1)>",
        suggestions=("Where is the office?", "When are <b>fees</b> due?"),
    )
    settings = chain.settings.with_(profile=profile, allowed_origins=(COLLEGE,))
    served = FaqChain(settings, chain.embeddings)  # the chain offers the profile's suggestions
    return TestClient(create_server(served, settings, mount_ui=False))


def config_of(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="faq-config">(.*?)</script>', page)
    assert found, "the page carries its settings in a JSON data block"
    return dict(json.loads(found[1]))


def test_the_embed_page_carries_the_profile_as_text_and_data(client: TestClient) -> None:
    res = client.get("/embed/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    page = res.text
    assert "<title>Ask us&lt;/title&gt;&lt;script&gt;" in page
    assert page.count("<script") == 2  # the page's own script tag and the data block
    config = config_of(page)
    assert config["title"] == HOSTILE_TITLE
    assert config["greeting"] == "Hi </script><img src=x onerror=alert(1)>"
    assert config["suggestions"] == ["Where is the office?", "When are <b>fees</b> due?"]
    assert config["max_question_chars"] == 2000
    assert "__" not in page  # every placeholder filled


def test_the_embed_page_runs_only_its_own_files_and_frames_only_for_listed_sites(
    client: TestClient,
) -> None:
    res = client.get("/embed/")
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe" not in csp and "connect-src 'self'" in csp
    assert f"frame-ancestors 'self' {COLLEGE}" in csp
    assert res.headers["cache-control"] == "no-cache"
    urls = re.findall(r'(?:src|href)="([^"]+)"', res.text)
    assert urls and all(u.startswith(("chat.", "data:")) for u in urls)  # nothing elsewhere


def test_assets_are_long_cached_by_content_and_gzipped_on_request(client: TestClient) -> None:
    page = client.get("/embed/").text
    (version,) = set(re.findall(r"\?v=([0-9a-f]+)", page))
    for name, kind in (("chat.js", "text/javascript"), ("chat.css", "text/css")):
        plain = client.get(f"/embed/{name}?v={version}", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and plain.headers["content-type"].startswith(kind)
        assert "immutable" in plain.headers["cache-control"]
        packed = client.get(f"/embed/{name}", headers={"Accept-Encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.content == plain.content  # the client decodes it back
        assert len(gzip.compress(plain.content)) < len(plain.content)
    assert client.get("/embed/nothing.js").status_code == 404
    assert client.get("/embed/../server.py").status_code == 404


def test_the_bare_embed_path_redirects_and_keeps_its_query(client: TestClient) -> None:
    res = client.get("/embed?greeting=Hi", follow_redirects=False)
    assert res.status_code == 308 and res.headers["location"] == "embed/?greeting=Hi"


def test_json_in_a_page_cannot_close_its_script_block() -> None:
    text = json_literal({"q": "</script><!-- -->"})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"q": "</script><!-- -->"}

"""The public host app: API, health, widget script, origins, rate limits, size caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.answer.chain import FaqChain
from bot.config import Profile, Settings
from bot.serve.server import create_server

ALLOWED = "https://www.example-college.edu"
EVIL = "https://evil.example"


@pytest.fixture
def client(chain: FaqChain) -> TestClient:
    settings = chain.settings.with_(allowed_origins=(ALLOWED,), rate_per_minute=20)
    return TestClient(create_server(chain, settings, mount_ui=False))


def test_ask_returns_answer_citations_and_abstained(client: TestClient) -> None:
    res = client.post("/api/ask", json={"question": "How much does the full CPT cost?"})
    assert res.status_code == 200
    body = res.json()
    assert "360" in body["answer"] and body["abstained"] is False
    assert body["citations"][0]["n"] == 1 and body["citations"][0]["quote"]
    assert res.headers["x-content-type-options"] == "nosniff"


def test_bad_questions_are_clear_4xx(client: TestClient) -> None:
    assert client.post("/api/ask", json={"question": "  "}).status_code == 400
    too_long = client.post("/api/ask", json={"question": "x" * 3000})
    assert too_long.status_code == 400 and "limit is 2,000" in too_long.json()["error"]
    huge = client.post("/api/ask", json={"question": "x" * 100_000})
    assert huge.status_code == 413 and "too large" in huge.json()["error"]
    assert client.post("/api/ask", json={"history": []}).status_code == 422
    assert client.get("/healthz").status_code == 200  # and the server is still up


def test_health_reports_the_index(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["index_loaded"] is True and body["chunks"] > 0 and body["model"]


def test_widget_script_is_served_as_javascript(client: TestClient) -> None:
    res = client.get("/widget.js")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/javascript")  # RFC 9239
    assert "attachShadow" in res.text and "window.FaqWidget" in res.text
    assert "__DEFAULT_TITLE__" not in res.text


def test_the_widget_default_title_is_the_profile_s_and_cannot_break_out(chain: FaqChain) -> None:
    profile = Profile(widget_title='Ask HVCC</script><script>alert("x")')
    settings = chain.settings.with_(profile=profile)
    js = TestClient(create_server(chain, settings, mount_ui=False)).get("/widget.js").text
    assert '"Ask HVCC\\u003c/script\\u003e\\u003cscript\\u003ealert(\\"x\\")"' in js
    assert "</script><script>alert" not in js


def test_cors_preflight_only_for_allowed_origins(client: TestClient) -> None:
    ok = client.options(
        "/api/ask", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    bad = client.options(
        "/api/ask", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    post = client.post("/api/ask", json={"question": "What is CPT?"}, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in post.headers  # never echoed


def test_the_21st_ask_in_a_minute_is_refused_even_with_spoofed_forwarding(
    client: TestClient,
) -> None:
    for i in range(20):
        spoof = {"X-Forwarded-For": f"203.0.113.{i}"}
        assert (
            client.post("/api/ask", json={"question": "What is CPT?"}, headers=spoof).status_code
            == 200
        )
    res = client.post(
        "/api/ask", json={"question": "What is CPT?"}, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert res.status_code == 429 and res.headers["retry-after"] == "60"
    assert "try again" in res.json()["error"]


def chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """A body sent with chunked transfer encoding, so without a Content-Length header."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


def test_a_streamed_body_over_the_cap_is_refused_too(client: TestClient) -> None:
    body = b'{"question": "' + b"x" * 100_000 + b'"}'
    json_type = {"content-type": "application/json"}
    res = client.post("/api/ask", content=chunks(body), headers=json_type)
    assert "content-length" not in res.request.headers
    assert res.status_code == 413 and "limit is 65,536 bytes" in res.text
    ok = client.post("/api/ask", content=chunks(b'{"question": "What is CPT?"}'), headers=json_type)
    assert ok.status_code == 200  # a small streamed body is fine


@pytest.mark.integration
def test_embed_is_frameable_only_by_allowed_origins_and_gradio_api_is_capped(
    chain: FaqChain,
) -> None:
    settings: Settings = chain.settings.with_(allowed_origins=(ALLOWED,))
    client = TestClient(create_server(chain, settings))
    embed = client.get("/embed/")
    assert embed.status_code == 200
    csp = embed.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {ALLOWED}" in csp and EVIL not in csp
    assert client.get("/").headers["content-security-policy"] == "frame-ancestors 'self'"
    huge = client.post("/gradio_api/queue/join", json={"data": ["x" * 100_000]})
    assert huge.status_code == 413
    for path in ("/gradio_api/queue/join", "/api/chat", "/api/ask"):
        streamed = client.post(path, content=chunks(b'{"data": ["' + b"x" * 100_000 + b'"]}'))
        assert streamed.status_code == 413, path  # no Content-Length: counted as it arrives
        assert "limit is 65,536 bytes" in streamed.text


def test_api_citations_carry_the_web_address_and_pdf_pages() -> None:
    from bot.answer.extractive import Answer, Citation
    from bot.serve.api import to_response

    web = Citation(
        1,
        "https://hv.example/aid",
        "Aid > Fees?",
        "No fee.",
        0,
        7,
        url="https://hv.example/aid#fees",
    )
    pdf = Citation(2, "aid.pdf", "Loans", "Repay later.", 9, 21, pages="3-4")
    body = to_response(Answer("No fee. [1] Repay later. [2]", [web, pdf])).model_dump()
    first, second = body["citations"]
    assert first["url"] == "https://hv.example/aid#fees" and first["pages"] == ""
    assert second["url"] == "" and second["pages"] == "3-4"


@pytest.mark.integration
def test_the_chat_page_previews_as_the_college_s_and_names_no_other_host(
    chain: FaqChain,
) -> None:
    profile = Profile(name="Harbor Valley Assistant", about="Answers from our admissions pages.")
    client = TestClient(create_server(chain, chain.settings.with_(profile=profile)))
    page = client.get("/")
    assert page.status_code == 200
    head = page.text.split("</head>")[0]
    assert '<meta property="og:title" content="Harbor Valley Assistant" />' in head
    about = "Answers from our admissions pages."
    assert f'<meta name="twitter:description" content="{about}" />' in head
    assert "Click to try out" not in head and "@Gradio" not in head
    assert "githubusercontent" not in page.text
    assert int(page.headers["content-length"]) == len(page.content)


@pytest.mark.integration
def test_every_response_carries_a_frame_policy(chain: FaqChain) -> None:
    settings = chain.settings.with_(allowed_origins=(ALLOWED,), rate_per_minute=3)
    client = TestClient(create_server(chain, settings))  # Gradio's routes too
    ask, preflight = {"question": "What is CPT?"}, {"Origin": ALLOWED}
    never_framed = {  # data and script: no page frames them
        "/api/ask": client.post("/api/ask", json=ask),
        "/api/chat": client.post("/api/chat", json=ask),
        "/api/feedback 422": client.post("/api/feedback", json={}),
        "/api/ask 413": client.post("/api/ask", content=b"x" * 70_000),
        "/api/ask 429": [client.post("/api/ask", json=ask) for _ in range(3)][-1],
        "/api/nothing 404": client.get("/api/nothing"),
        "/api/ask preflight": client.options("/api/ask", headers=preflight),
        "/widget.js": client.get("/widget.js"),
    }
    assert never_framed["/api/ask 429"].status_code == 429
    for what, res in never_framed.items():
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"], what
        assert res.headers["x-frame-options"] == "DENY", what
    same_site = {  # our own pages may frame these, no one else
        path: client.get(path)
        for path in ("/healthz", "/", "/nothing", "/docs", "/gradio_api/info", "/config")
    }
    assert same_site["/nothing"].status_code == 404
    for what, res in same_site.items():
        assert "frame-ancestors 'self'" in res.headers["content-security-policy"], what
        assert res.headers["x-frame-options"] == "SAMEORIGIN", what
    for path in ("/embed/", "/embed/chat.js", "/embed/nothing"):  # the widget's frame
        res = client.get(path)
        assert f"frame-ancestors 'self' {ALLOWED}" in res.headers["content-security-policy"]
        assert "x-frame-options" not in res.headers, path  # it would forbid the college

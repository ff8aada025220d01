"""The widget benchmark's Chromium parts (``benchmarks.widget``, sections 1 and 2): the
weight of ``/embed/`` from a cold cache, from the DevTools protocol's Network events, and
the time from a click on the demo college page's launcher to a focused input in the
cross-origin chat iframe, from stamps an init script leaves in both frames."""

from __future__ import annotations

import importlib.util
import re
import threading
import time
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, percentile
from benchmarks.widget_load import load_average

PAGE_BUDGET_BYTES, PAGE_BUDGET_REQUESTS = 60_000, 5
FOCUS_BUDGET_MS, FOCUS_REPEATS = 300.0, 10
QUIET_S, QUIET_CAP_S = 1.0, 20.0
HOVER_LEAD_MS = 500
DEMO = ROOT / "examples" / "college-site"
URL_FIELDS = ("url", "status", "type", "transferred", "decoded", "content_length",
              "content_encoding", "cache_control")  # fmt: skip

# Runs in every frame before its own scripts. The top frame stamps the (only) click; the
# chat iframe stamps every focus on a text field (composedPath: a field in a shadow root
# counts too). Epoch milliseconds, so the two frames' clocks compare.
STAMP_JS = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  if (window === window.top) {
    addEventListener("click", () => {
      if (window.__faqClickAt === undefined) window.__faqClickAt = now();
    }, true);
    return;
  }
  window.__faqFocusins = [];
  window.__faqFrame = { start: performance.timeOrigin };
  addEventListener("DOMContentLoaded", () => { window.__faqFrame.ready = now(); });
  addEventListener("load", () => { window.__faqFrame.loaded = now(); });
  addEventListener("focusin", (event) => {
    const target = event.composedPath()[0];
    if (target && /^(TEXTAREA|INPUT)$/.test(target.tagName)) window.__faqFocusins.push(now());
  }, true);
})();"""
FOCUSED_IN_FIELD_JS = "() => /^(TEXTAREA|INPUT)$/.test((document.activeElement || {}).tagName)"


# ----------------------------------------------------------------------------- page weight
class NetworkLog:
    """Every request of one page, from the DevTools protocol's Network events."""

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.last_event = time.monotonic()

    def on(self, method: str, params: dict[str, Any]) -> None:
        self.last_event = time.monotonic()
        rid = params.get("requestId", "")
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url.startswith("data:"):
                return  # inline (the favicon): no request goes anywhere
            entry = self.requests.setdefault(rid, {"url": url, "transferred": 0, "decoded": 0})
            entry["url"] = url  # a redirect keeps its id; the last URL is the one served
        found = self.requests.get(rid)
        if found is None:
            return
        entry = found
        if method == "Network.responseReceived":
            response = params["response"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            entry["status"] = response.get("status")
            entry["type"] = params.get("type", "")
            length = headers.get("content-length", "")
            entry["content_length"] = int(length) if str(length).isdigit() else None
            entry["content_encoding"] = headers.get("content-encoding", "")
            entry["cache_control"] = headers.get("cache-control", "")
        elif method == "Network.dataReceived":
            entry["decoded"] += int(params.get("dataLength", 0))
        elif method == "Network.loadingFinished":
            entry["transferred"] = int(params.get("encodedDataLength", 0))
            entry["finished"] = True
        elif method == "Network.loadingFailed":
            entry["failed"] = params.get("errorText", "failed")

    def summary(self) -> dict[str, Any]:
        entries = list(self.requests.values())
        by_type: dict[str, dict[str, int]] = {}
        for e in entries:
            kind = by_type.setdefault(e.get("type") or "Other", {"requests": 0, "transferred": 0})
            kind["requests"] += 1
            kind["transferred"] += e["transferred"]
        return {
            "requests": len(entries),
            "transferred_bytes": sum(e["transferred"] for e in entries),
            "decoded_bytes": sum(e["decoded"] for e in entries),
            "content_length_bytes": sum(e.get("content_length") or 0 for e in entries),
            "unfinished": [e["url"] for e in entries if not e.get("finished")],
            "failed": sum(1 for e in entries if e.get("failed")),
            "hosts": sorted({urlsplit(e["url"]).netloc for e in entries}),
            "by_type": by_type,
            "by_url": [{k: e.get(k) for k in URL_FIELDS} for e in entries],
        }


NETWORK_EVENTS = (
    "Network.requestWillBeSent",
    "Network.responseReceived",
    "Network.dataReceived",
    "Network.loadingFinished",
    "Network.loadingFailed",
)


def page_weight(browser: Any, url: str) -> dict[str, Any]:
    """Every request ``url`` makes until the network is quiet, from a cold cache."""
    context = browser.new_context()  # a fresh context has an empty cache
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        log = NetworkLog()
        for method in NETWORK_EVENTS:
            cdp.on(method, lambda params, m=method: log.on(m, params))
        cdp.send("Network.enable")
        started = time.perf_counter()
        page.goto(url, wait_until="load", timeout=60_000)
        loaded_ms = (time.perf_counter() - started) * 1000
        # Not "networkidle": the Gradio page keeps a heartbeat stream open for good. Quiet
        # = no network event for QUIET_S (the stream stays listed as unfinished).
        deadline = time.monotonic() + QUIET_CAP_S
        while time.monotonic() < deadline and time.monotonic() - log.last_event < QUIET_S:
            page.wait_for_timeout(100)
        return {**log.summary(), "load_event_ms": round(loaded_ms, 1)}
    finally:
        context.close()


def weigh_pages(browser: Any, url: str) -> dict[str, Any]:
    embed = page_weight(browser, f"{url}/embed/")
    gradio = page_weight(browser, f"{url}/")
    return {
        "embed": embed,
        "gradio_chat": gradio,
        "embed_vs_gradio": {
            "requests": [embed["requests"], gradio["requests"]],
            "transferred_bytes": [embed["transferred_bytes"], gradio["transferred_bytes"]],
            "decoded_bytes": [embed["decoded_bytes"], gradio["decoded_bytes"]],
        },
        "budget": {"transferred_bytes": PAGE_BUDGET_BYTES, "requests": PAGE_BUDGET_REQUESTS},
        "met": (
            embed["requests"] > 0
            and embed["failed"] == 0
            and all(e["status"] == 200 for e in embed["by_url"])
            and embed["transferred_bytes"] <= PAGE_BUDGET_BYTES
            and embed["requests"] <= PAGE_BUDGET_REQUESTS
        ),
    }


# ----------------------------------------------------------------------------- focus
def demo_module() -> Any:
    # examples/college-site is not a package (a hyphen): load its server by path.
    spec = importlib.util.spec_from_file_location("college_site_serve", DEMO / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def focus_delay_ms(click_at: float | None, focusins: list[float]) -> float | None:
    """ms from the click to the first focus on a text field after it (None: none came)."""
    if click_at is None:
        return None
    after = [t for t in focusins if t >= click_at]
    return round(min(after) - click_at, 1) if after else None


def third_hosts(urls: list[str], allowed: set[str]) -> list[str]:
    """The hosts (host:port) of http(s) ``urls`` that are not in ``allowed``."""
    hosts = {urlsplit(u).netloc for u in urls if urlsplit(u).scheme in ("http", "https")}
    return sorted(hosts - allowed)


def one_open(
    browser: Any, college: str, app: str, launcher_name: str, hover_ms: int
) -> dict[str, Any]:
    """Open the college page in a fresh context, click the launcher (after ``hover_ms`` with
    the pointer over it, or at once, like a tap), and time the focus in the chat."""
    context = browser.new_context()
    urls: list[str] = []
    try:
        context.add_init_script(STAMP_JS)
        context.on("request", lambda request: urls.append(request.url))
        page = context.new_page()
        page.goto(college, wait_until="load")
        launcher = page.get_by_role("button", name=launcher_name, exact=True)
        launcher.wait_for(state="visible", timeout=10_000)
        if hover_ms:
            launcher.hover()
            page.wait_for_timeout(hover_ms)
        launcher.click()
        frame, deadline = None, time.monotonic() + 10
        while frame is None and time.monotonic() < deadline:
            frame = next((f for f in page.frames if f.url.startswith(f"{app}/embed/")), None)
            if frame is None:
                page.wait_for_timeout(10)
        stamps: dict[str, Any] = {"focusins": [], "frame": {}, "in_field": False}
        if frame is not None:
            with suppress(Exception):  # no focus came: recorded as such, the run goes on
                frame.wait_for_function(
                    "() => (window.__faqFocusins || []).length > 0", timeout=5_000
                )
            stamps = frame.evaluate(
                "() => ({focusins: window.__faqFocusins || [], frame: window.__faqFrame || {},"
                f" in_field: ({FOCUSED_IN_FIELD_JS})()}})"
            )
        click_at = page.evaluate("() => window.__faqClickAt")
        return {
            "delay_ms": focus_delay_ms(click_at, stamps["focusins"]),
            "frame_ms": frame_stages_ms(click_at, stamps["frame"]),
            "focused_in_field": bool(stamps["in_field"]),
            "urls": urls,
        }
    finally:
        context.close()


def frame_stages_ms(click_at: float | None, frame: dict[str, float]) -> dict[str, float]:
    """When the chat iframe's navigation started, its DOM was ready and it had loaded,
    in ms after the click (negative: before it, the iframe was made on hover)."""
    if click_at is None:
        return {}
    return {k: round(frame[k] - click_at, 1) for k in ("start", "ready", "loaded") if k in frame}


def figures_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values, default=0.0), 1),
    }


def focus_series(opens: list[dict[str, Any]]) -> dict[str, Any]:
    delays = [o["delay_ms"] for o in opens if o["delay_ms"] is not None]
    stages = {
        k: figures_ms([o["frame_ms"][k] for o in opens if k in o["frame_ms"]])["p50"]
        for k in ("start", "ready", "loaded")
    }
    return {
        "click_to_focused_input_ms": figures_ms(delays),
        "delays_ms": [o["delay_ms"] for o in opens],
        "iframe_p50_ms_after_click": stages,
        "focused_in_field_at_end": sum(1 for o in opens if o["focused_in_field"]),
        "requests_per_open": round(sum(len(o["urls"]) for o in opens) / len(opens), 1),
    }


def launcher_focus(browser: Any, app: str, repeats: int) -> dict[str, Any]:
    """The click as a tap (no hover first: the iframe starts loading at the click) is the
    budget; with the pointer resting on the launcher first, the iframe is made on hover."""
    demo = demo_module()
    html = demo.page(app).decode()
    found = re.search(r'data-title="([^"]+)"', html)
    launcher_name = found[1] if found else "Ask"
    port = free_port()
    college = f"http://localhost:{port}"
    server = demo.html_server(port, html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = load_average()
    try:
        taps = [one_open(browser, college, app, launcher_name, 0) for _ in range(repeats)]
        hovers = [
            one_open(browser, college, app, launcher_name, HOVER_LEAD_MS) for _ in range(repeats)
        ]
    finally:
        server.shutdown()
        server.server_close()
    allowed = {urlsplit(college).netloc, urlsplit(app).netloc}
    others = third_hosts([u for o in taps + hovers for u in o["urls"]], allowed)
    tap = focus_series(taps)
    figures = tap["click_to_focused_input_ms"]
    return {
        "repeats": repeats,
        "college_page": college,
        "cache": "cold (a fresh browser context each open)",
        "load_average_before": before,
        "tap": tap,
        f"hover_{HOVER_LEAD_MS}ms_first": focus_series(hovers),
        "hosts": sorted(allowed),
        "third_hosts": others,
        "budget": {"tap_p95_ms": FOCUS_BUDGET_MS, "third_hosts": 0},
        "met": figures["n"] == repeats and figures["p95"] <= FOCUS_BUDGET_MS and not others,
    }


# ----------------------------------------------------------------------------- both
def browser_sections(url: str, repeats: int) -> dict[str, Any]:
    """Page weight and launcher focus, in one headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return {
                "page_weight": weigh_pages(browser, url),
                "launcher_focus": launcher_focus(browser, url, repeats),
            }
        finally:
            browser.close()

"""One server for every site of ``FAQBOT_SITES_DIR`` (bot/sites.py).

    /s/<name>/            the site's whole app (bot/serve/server.py): chat, /embed/,
                          /widget.js, /api/ask, /api/chat, /api/feedback, /admin, /healthz
    /healthz              every site, its generation, and the sites that are not served
    anything else         404 (an unknown site too)

Each site's app is built by :func:`bot.serve.server.create_server` from the site's settings, so
its origin policy, limits, question log rows and admin page are its own. The embedding model
(and the reader, and any LLM client) is loaded once and shared; so is the line of questions
waiting to be answered, so ten sites answer two at a time like one. A site that cannot be
served (bad name or profile, no corpus, no index yet) is logged and listed in /healthz with
its error; the others serve.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Settings
from bot.errors import FaqBotError
from bot.serve.guard import Guard, error_response
from bot.serve.ratelimit import AnswerQueue, RateLimiter
from bot.serve.server import (
    ANSWER_CONCURRENCY,
    GRADIO_EVENTS_PER_ASK,
    create_server,
    ingest_status,
    live_manifest,
)
from bot.sites import SiteConfig, SiteProblem, load_sites, site_path

log = logging.getLogger(__name__)
PREFIX = site_path("")  # "/s/"
NO_SITE = "No site {name!r} here: the sites served are listed at /healthz."


@dataclass(frozen=True)
class OpenSite:
    config: SiteConfig
    chain: Any  # its FaqChain


def open_sites(
    settings: Settings, embeddings: Any = None, reader: Any = None, chat_model: Any = None
) -> tuple[list[OpenSite], list[SiteProblem]]:
    """Every site of ``settings.sites_dir`` with its chain, one embedding model (and reader,
    and chat model) for all; and the sites that cannot be served, each logged with why."""
    from bot.answer.chain import FaqChain
    from bot.answer.llm import chat_model_from_settings

    configs, problems = load_sites(settings)
    if embeddings is None:
        from bot.index.embedding import MiniLMEmbeddings

        embeddings = MiniLMEmbeddings()
    if reader is None and settings.reader != "off":
        from bot.answer.reader import Reader

        reader = Reader()
    if chat_model is None:  # FAQBOT_LLM is the deployment's: built (or refused) once
        chat_model = chat_model_from_settings(settings)
    opened: list[OpenSite] = []
    for config in configs:
        try:
            chain = FaqChain(config.settings, embeddings, chat_model=chat_model, reader=reader)
        except FaqBotError as exc:
            problems.append(SiteProblem(config.name, _with_hint(config.name, str(exc))))
            continue
        except Exception as exc:  # one site's broken index must not stop the others
            log.exception("site %r could not be opened", config.name)
            problems.append(SiteProblem(config.name, _with_hint(config.name, repr(exc))))
            continue
        opened.append(OpenSite(config, chain))
    for problem in problems:
        log.error("not serving a site: %s", problem.error)
    return opened, sorted(problems, key=lambda p: p.name)


def _with_hint(name: str, error: str) -> str:
    return f"Site {name!r}: {error} To build this site's index: python -m bot.ingest --site {name}"


class SiteRouter:
    """``/s/<name>/...`` to that site's app, which sees the path below its prefix (and the
    prefix as its ``root_path``), so every route, check and header of the single-site app
    applies unchanged; everything else to the deployment's own app."""

    def __init__(
        self, parent: ASGIApp, sites: Mapping[str, ASGIApp], apps: Mapping[str, FastAPI]
    ) -> None:
        self.parent, self.sites = parent, dict(sites)
        self.site_apps = dict(apps)  # each site's own app (its state: its question log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and path.startswith(PREFIX):
            name, slash, rest = path[len(PREFIX) :].partition("/")
            app = self.sites.get(name)
            if app is not None and slash:
                root = scope.get("root_path", "") + site_path(name)
                await app({**scope, "path": "/" + rest, "root_path": root}, receive, send)
                return
        await self.parent(scope, receive, send)


def create_sites_server(
    settings: Settings,
    sites: list[OpenSite],
    problems: Sequence[SiteProblem] = (),
    mount_ui: bool = True,
) -> SiteRouter:
    """The deployment's app: each site's app under ``/s/<name>/``, /healthz for them all."""
    queue = AnswerQueue(ANSWER_CONCURRENCY, settings.queue_size)
    apps: dict[str, FastAPI] = {}
    for site in sites:
        # The deployment's token opens every site's admin page, as well as the site's own.
        apps[site.config.name] = create_server(
            site.chain, site.config.settings, mount_ui=mount_ui, answer_queue=queue,
            admin_tokens=(settings.admin_token,),
        )  # fmt: skip
    broken = {p.name: p.error for p in problems}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A mounted app's startup and shutdown (its Gradio queue, closing its question log)
        # run only when its parent enters them.
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    parent = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @parent.get("/healthz")
    def healthz() -> dict[str, Any]:
        served: dict[str, Any] = {}
        for site in sites:
            manifest = live_manifest(site.chain)
            served[site.config.name] = {
                "status": "ok" if manifest else "no index",
                "path": site_path(site.config.name) + "/",
                "generation": getattr(manifest, "generation", None),
                "chunks": getattr(site.chain, "chunk_count", 0),
                "ingest": ingest_status(manifest),
            }
        ok = not broken and all(s["status"] == "ok" for s in served.values())
        return {
            "status": "ok" if ok else "degraded",
            "sites": served,
            "not_served": broken,  # name: the error, and what to do
            "api_waiting": queue.waiting,
        }

    @parent.get("/")
    def index() -> dict[str, Any]:
        return {"sites": {name: site_path(name) + "/" for name in apps}}

    @parent.api_route("/s/{name}", methods=["GET", "HEAD"])
    def site_home(name: str, request: Request) -> Any:
        if name not in apps:
            return error_response(404, NO_SITE.format(name=name[:40]))
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{site_path(name)}/{query}", status_code=308)

    @parent.exception_handler(404)
    def not_found(request: Request, _exc: Exception) -> JSONResponse:
        path = request.url.path
        if path.startswith(PREFIX):
            return error_response(404, NO_SITE.format(name=path[len(PREFIX) :].split("/")[0][:40]))
        return error_response(404, "Not found.")

    # The deployment's own routes get the same transport limits and headers as a site's.
    events = RateLimiter(
        settings.rate_per_minute * GRADIO_EVENTS_PER_ASK,
        settings.rate_per_day * GRADIO_EVENTS_PER_ASK,
        redis_url=settings.redis_url,
        site="deployment",
        name="events",
    )
    guarded = Guard(parent, settings=settings, events=events, check_event=lambda _p, _b: None)
    return SiteRouter(guarded, apps, apps)


def serve_sites(settings: Settings, mount_ui: bool = True) -> ASGIApp:
    """The app ``python app.py`` serves with FAQBOT_SITES_DIR set."""
    sites, problems = open_sites(settings)
    if not sites:
        log.error("no site of %s can be served; see the errors above", settings.sites_dir)
    return create_sites_server(settings, sites, problems, mount_ui=mount_ui)

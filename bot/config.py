"""All settings, read from ``FAQBOT_*`` environment variables in this one place."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
PROFILE_NAME = "faqbot.toml"  # looked for beside the corpus when FAQBOT_PROFILE is unset
LOG_DB_NAME = "questions.db"  # the question log's SQLite file, in the data folder
MIN_TOKEN_CHARS = 16  # an admin token anyone could guess would open every logged question


def _int(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, raw, "a whole number") from None
    if value < low:
        raise ConfigError(name, raw, f"a whole number >= {low}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, above: float | None = None) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, raw, "a number") from None
    if above is not None and not value > above:  # also refuses nan
        raise ConfigError(name, raw, f"a number above {above:g}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, raw, "1/true/yes/on or 0/false/no/off")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in choices:
        raise ConfigError(name, raw, " or ".join(choices))
    return raw


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _region(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or "").strip().upper()
    if not raw:
        return default
    if len(raw) != 2 or not raw.isalpha():
        raise ConfigError(name, raw, "a two-letter country code such as US, GB or DE")
    return raw


def _token(env: Mapping[str, str], name: str) -> str:
    raw = (env.get(name) or "").strip()
    if raw and len(raw) < MIN_TOKEN_CHARS:
        raise ConfigError(
            name, "(hidden)", f"at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 24`)"
        )
    return raw


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def check_redis_url(raw: str, name: str = "FAQBOT_REDIS_URL") -> str:
    """A Redis address as given ("" = none), or a ConfigError naming the setting."""
    url = raw.strip()
    if url and not url.lower().startswith(REDIS_SCHEMES):
        shown = url.split("://")[0] + "://(rest hidden)" if "@" in url else url  # a password
        raise ConfigError(
            name, shown, "redis://host:port/db, rediss://... (TLS) or unix:///path/to/redis.sock, "
            "or empty to count limits in each process",
        )  # fmt: skip
    return url


@dataclass(frozen=True)
class Profile:
    """Everything the assistant says about itself, so one codebase serves any college.

    Set in a TOML file (``faqbot.toml`` beside the corpus, or the path in
    ``FAQBOT_PROFILE``) with these keys, or by ``FAQBOT_<KEY>`` variables, which win."""

    name: str = "FAQ Assistant"  # chat title, page title, API title
    about: str = "Answers questions from this site's pages, quoting the passage it used."
    subject: str = "this site's pages"  # what the pages are about, as the LLM prompt names it
    refusal: str = "I can't find that in the pages I answer from, so I won't guess."
    contact: str = ""  # where to ask instead: a sentence, an email address or a URL
    greeting: str = "Hi! Ask me a question and I'll answer from this site's pages."
    placeholder: str = "Type your question…"
    widget_title: str = "Ask a question"
    suggestions: tuple[str, ...] = ()  # empty: drawn from the corpus (its FAQ questions)

    KEYS = ("name", "about", "subject", "refusal", "contact", "greeting", "placeholder",
            "widget_title", "suggestions")  # fmt: skip

    @property
    def not_covered(self) -> str:
        """The whole refusal: what the assistant can't do, and where to ask instead."""
        if not self.contact:
            return self.refusal
        return f"{self.refusal} For this question, please ask {self.contact}."

    @classmethod
    def load(cls, env: Mapping[str, str], default_dir: Path) -> Profile:
        path = Path(env.get("FAQBOT_PROFILE", "") or default_dir / PROFILE_NAME)
        values: dict[str, object] = {}
        if env.get("FAQBOT_PROFILE") or path.is_file():
            values = _read_profile(path)
        for key in cls.KEYS:
            raw = env.get(f"FAQBOT_{key.upper()}")
            if raw is not None and raw.strip():
                values[key] = raw.split("|") if key == "suggestions" else raw
        if "name" not in values and env.get("FAQBOT_TITLE", "").strip():
            values["name"] = env["FAQBOT_TITLE"]  # the older name of the setting
        return cls.of(values)

    @classmethod
    def of(cls, values: Mapping[str, object]) -> Profile:
        """A profile from checked values (as ``read_profile`` gives them)."""
        listed = values.get("suggestions", [])
        asked = tuple(q.strip() for q in listed if q.strip()) if isinstance(listed, list) else ()
        texts: dict[str, Any] = {
            k: str(v).strip() for k, v in values.items() if k in cls.KEYS and k != "suggestions"
        }
        return cls(**texts, suggestions=asked)


def _read_profile(path: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """The profile file's keys, checked; ``extra``: more keys allowed (a site's settings),
    returned as read for the caller to check."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("FAQBOT_PROFILE", str(path), "an existing TOML file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("FAQBOT_PROFILE", str(path), f"a readable TOML file ({exc})") from None
    unknown = sorted(set(data) - set(Profile.KEYS) - set(extra))
    if unknown:
        raise ConfigError(
            "FAQBOT_PROFILE",
            str(path),
            f"only the keys {', '.join((*Profile.KEYS, *extra))} (not {', '.join(unknown)})",
        )
    suggestions = data.get("suggestions", [])
    if not isinstance(suggestions, list) or not all(isinstance(q, str) for q in suggestions):
        raise ConfigError("FAQBOT_PROFILE", str(path), "suggestions as a list of strings")
    bad = [k for k, v in data.items() if k in Profile.KEYS and k != "suggestions"
           and not isinstance(v, str)]  # fmt: skip
    if bad:
        raise ConfigError("FAQBOT_PROFILE", str(path), f"text values for {', '.join(bad)}")
    return dict(data)


def read_profile(path: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """A profile file's values, checked (ConfigError naming the file otherwise), without
    the FAQBOT_<KEY> variables: a site's own file (``extra``: its other keys)."""
    return _read_profile(path, extra)


def token_from_env(name: str, env: Mapping[str, str] | None = None) -> str:
    """The admin token in the environment variable ``name`` ("" if unset), checked like
    FAQBOT_ADMIN_TOKEN: a site's profile names the variable, never the token itself."""
    return _token(os.environ if env is None else env, name)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".faqbot/index")
    data_dir: Path = Path(".faqbot/data")
    chroma_url: str = ""  # empty: embedded PersistentClient under index_dir
    collection: str = "faqbot"
    chunk_chars: int = 1000
    top_k: int = 5
    # Below this best-sentence score the bot says the guide does not cover the question.
    min_evidence: float = 0.26
    # The trained reader (bot/answer/reader.py): off, rank (reorders the candidates), gate
    # (abstains below its threshold) or on (both).
    reader: str = "off"
    # The evidence bar also sits no lower than the corpus's noise floor less this margin
    # (bot/index/calibration.py): a long handbook's chance matches score higher than a short FAQ's.
    noise_margin: float = 0.075
    llm: str = ""  # e.g. "openai:gpt-4o-mini"; empty = extractive answers only
    # The chat model's server (empty: the provider's own default, e.g. OPENAI_BASE_URL) and the
    # seconds it has to connect and for each part of its reply; past that, the extractive answer.
    llm_base_url: str = ""
    llm_timeout: float = 30.0
    max_question_chars: int = 2000
    max_history_turns: int = 20
    host: str = "127.0.0.1"
    port: int = 7860
    profile: Profile = field(default_factory=Profile)
    rate_per_minute: int = 20
    rate_per_day: int = 200
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    queue_size: int = 64
    # The HTTP request head (bot/serve/server.py, guard.py): seconds a client has to send it
    # whole (a slowloris or idle connection is closed after that), and its size at most.
    header_timeout: float = 10.0
    max_header_bytes: int = 16 * 1024
    # The question log (bot/insights/questionlog.py): on unless turned off; SQLite in
    # data_dir unless a database URL is given (postgresql://... for several replicas); rows
    # older than log_retention_days are purged. phone_region: how national phone numbers are written
    # in the questions to scrub (an ISO country code).
    question_log: bool = True
    log_db_url: str = ""
    log_retention_days: int = 90
    phone_region: str = "US"
    admin_token: str = ""  # empty: no /admin page
    # Many sites in one deployment (bot/sites.py): the folder of site folders (None: one
    # site, as configured here), and the name of the site these settings are for ("": the
    # single site); it namespaces the site's log rows and limits.
    sites_dir: Path | None = None
    site: str = ""
    # Per-client budgets in Redis, shared by every replica (bot/serve/ratelimit.py); empty:
    # counted in each process, as for one server process.
    redis_url: str = ""
    # Per corpus file: 2 MB of text is ~120 times the bundled 16 KB guide (a 300-page
    # catalogue is ~1 MB) and embeds in minutes; a 20 MB file held the lock for 40 minutes.
    max_file_bytes: int = 2_000_000
    # Web pages by address (bot/ingest/fetch.py). Pages fetched per ingest run, listed, sitemap
    # and crawled ones together; later ones are skipped and named.
    fetch_max_pages: int = 2_000  # a whole college site (issue #25: 1,000 pages) with room
    fetch_max_bytes: int = 20_000_000  # per page; a larger one is skipped, not truncated
    fetch_timeout: float = 15.0  # seconds per request (connect, each read, the whole body)
    fetch_budget: float = 600.0  # seconds for the whole fetch; later pages are skipped
    fetch_crawl_depth: int = 0  # 0: listed and sitemap URLs only; n: same-host links n deep
    # Private/loopback/link-local addresses are refused unless the listed URL is on one;
    # true allows them for every host (an intranet whose names resolve to 10.x addresses).
    fetch_allow_private: bool = False
    # Requests at once per host (one at a time, the delay apart, where robots.txt sets a
    # Crawl-delay): 1,000 pages one by one spend most of their time waiting on round trips.
    fetch_concurrency: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        corpus_dir = Path(env.get("FAQBOT_CORPUS_DIR", str(d.corpus_dir)))
        return cls(
            corpus_dir=corpus_dir,
            index_dir=Path(env.get("FAQBOT_INDEX_DIR", str(d.index_dir))),
            data_dir=Path(env.get("FAQBOT_DATA_DIR", str(d.data_dir))),
            chroma_url=env.get("FAQBOT_CHROMA_URL", "").strip(),
            collection=env.get("FAQBOT_COLLECTION", d.collection),
            chunk_chars=_int(env, "FAQBOT_CHUNK_CHARS", d.chunk_chars, low=100),
            top_k=_int(env, "FAQBOT_TOP_K", d.top_k),
            min_evidence=_float(env, "FAQBOT_MIN_EVIDENCE", d.min_evidence),
            reader=_choice(env, "FAQBOT_READER", d.reader, ("off", "rank", "gate", "on")),
            noise_margin=_float(env, "FAQBOT_NOISE_MARGIN", d.noise_margin),
            llm=env.get("FAQBOT_LLM", "").strip(),
            llm_base_url=env.get("FAQBOT_LLM_BASE_URL", "").strip(),
            llm_timeout=_float(env, "FAQBOT_LLM_TIMEOUT", d.llm_timeout, above=0),
            max_question_chars=_int(env, "FAQBOT_MAX_QUESTION_CHARS", d.max_question_chars),
            max_history_turns=_int(env, "FAQBOT_MAX_HISTORY_TURNS", d.max_history_turns),
            host=env.get("FAQBOT_HOST", d.host),
            port=_int(env, "FAQBOT_PORT", d.port),
            profile=Profile.load(env, corpus_dir),
            rate_per_minute=_int(env, "FAQBOT_RATE_PER_MINUTE", d.rate_per_minute),
            rate_per_day=_int(env, "FAQBOT_RATE_PER_DAY", d.rate_per_day),
            allowed_origins=_list(env, "FAQBOT_ALLOWED_ORIGINS"),
            trusted_proxies=_list(env, "FAQBOT_TRUSTED_PROXIES"),
            queue_size=_int(env, "FAQBOT_QUEUE_SIZE", d.queue_size),
            header_timeout=_float(env, "FAQBOT_HEADER_TIMEOUT", d.header_timeout, above=0),
            max_header_bytes=_int(env, "FAQBOT_MAX_HEADER_BYTES", d.max_header_bytes, low=1024),
            question_log=_bool(env, "FAQBOT_QUESTION_LOG", d.question_log),
            log_db_url=env.get("FAQBOT_LOG_DB_URL", "").strip(),
            log_retention_days=_int(env, "FAQBOT_LOG_RETENTION_DAYS", d.log_retention_days),
            phone_region=_region(env, "FAQBOT_PHONE_REGION", d.phone_region),
            admin_token=_token(env, "FAQBOT_ADMIN_TOKEN"),
            sites_dir=Path(env["FAQBOT_SITES_DIR"]) if env.get("FAQBOT_SITES_DIR") else None,
            redis_url=check_redis_url(env.get("FAQBOT_REDIS_URL", "")),
            max_file_bytes=_int(env, "FAQBOT_MAX_FILE_BYTES", d.max_file_bytes),
            fetch_max_pages=_int(env, "FAQBOT_FETCH_MAX_PAGES", d.fetch_max_pages),
            fetch_max_bytes=_int(env, "FAQBOT_FETCH_MAX_BYTES", d.fetch_max_bytes),
            fetch_timeout=_float(env, "FAQBOT_FETCH_TIMEOUT", d.fetch_timeout),
            fetch_budget=_float(env, "FAQBOT_FETCH_BUDGET", d.fetch_budget),
            fetch_crawl_depth=_int(env, "FAQBOT_FETCH_CRAWL_DEPTH", d.fetch_crawl_depth, low=0),
            fetch_allow_private=_bool(env, "FAQBOT_FETCH_ALLOW_PRIVATE", d.fetch_allow_private),
            fetch_concurrency=_int(env, "FAQBOT_FETCH_CONCURRENCY", d.fetch_concurrency, low=1),
        )

    @property
    def title(self) -> str:
        return self.profile.name

    @property
    def log_url(self) -> str:
        """The question log's database: the one given, else SQLite in the data folder."""
        return self.log_db_url or f"sqlite:///{(self.data_dir / LOG_DB_NAME).resolve()}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

"""All settings, read from ``FAQBOT_*`` environment variables in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.errors import ConfigError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


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


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(name, raw, "a number") from None


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".faqbot/index")
    data_dir: Path = Path(".faqbot/data")
    chroma_url: str = ""  # empty: embedded PersistentClient under index_dir
    collection: str = "cpt-faq"
    chunk_chars: int = 1000
    top_k: int = 5
    # Below this best-sentence score the bot says the guide does not cover the question.
    min_evidence: float = 0.26
    llm: str = ""  # e.g. "openai:gpt-4o-mini"; empty = extractive answers only
    max_question_chars: int = 2000
    max_history_turns: int = 20
    host: str = "127.0.0.1"
    port: int = 7860
    title: str = "CPT Credential Assistant"
    greeting: str = (
        "Hi! Ask me about the MSSC Certified Production Technician (CPT) credential: "
        "modules, exams, cost, funding, prep time and careers."
    )
    rate_per_minute: int = 20
    rate_per_day: int = 200
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    queue_size: int = 64
    feedback_max_bytes: int = 5_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            corpus_dir=Path(env.get("FAQBOT_CORPUS_DIR", str(d.corpus_dir))),
            index_dir=Path(env.get("FAQBOT_INDEX_DIR", str(d.index_dir))),
            data_dir=Path(env.get("FAQBOT_DATA_DIR", str(d.data_dir))),
            chroma_url=env.get("FAQBOT_CHROMA_URL", "").strip(),
            collection=env.get("FAQBOT_COLLECTION", d.collection),
            chunk_chars=_int(env, "FAQBOT_CHUNK_CHARS", d.chunk_chars, low=100),
            top_k=_int(env, "FAQBOT_TOP_K", d.top_k),
            min_evidence=_float(env, "FAQBOT_MIN_EVIDENCE", d.min_evidence),
            llm=env.get("FAQBOT_LLM", "").strip(),
            max_question_chars=_int(env, "FAQBOT_MAX_QUESTION_CHARS", d.max_question_chars),
            max_history_turns=_int(env, "FAQBOT_MAX_HISTORY_TURNS", d.max_history_turns),
            host=env.get("FAQBOT_HOST", d.host),
            port=_int(env, "FAQBOT_PORT", d.port),
            title=env.get("FAQBOT_TITLE", d.title),
            greeting=env.get("FAQBOT_GREETING", d.greeting),
            rate_per_minute=_int(env, "FAQBOT_RATE_PER_MINUTE", d.rate_per_minute),
            rate_per_day=_int(env, "FAQBOT_RATE_PER_DAY", d.rate_per_day),
            allowed_origins=_list(env, "FAQBOT_ALLOWED_ORIGINS"),
            trusted_proxies=_list(env, "FAQBOT_TRUSTED_PROXIES"),
            queue_size=_int(env, "FAQBOT_QUEUE_SIZE", d.queue_size),
            feedback_max_bytes=_int(env, "FAQBOT_FEEDBACK_MAX_BYTES", d.feedback_max_bytes),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

"""Settings come from FAQBOT_* variables, read in one place, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError


def test_defaults_bind_locally() -> None:
    settings = Settings.from_env({})
    assert settings.host == "127.0.0.1" and settings.port == 7860
    assert settings.chroma_url == "" and settings.max_question_chars == 2000


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "FAQBOT_INDEX_DIR": "/srv/idx",
            "FAQBOT_CHROMA_URL": " http://127.0.0.1:8000 ",
            "FAQBOT_PORT": "8080",
            "FAQBOT_MIN_EVIDENCE": "0.5",
            "FAQBOT_ALLOWED_ORIGINS": "https://a.edu, https://b.edu,",
        }
    )
    assert settings.index_dir == Path("/srv/idx")
    assert settings.chroma_url == "http://127.0.0.1:8000"
    assert settings.port == 8080 and settings.min_evidence == 0.5
    assert settings.allowed_origins == ("https://a.edu", "https://b.edu")


@pytest.mark.parametrize(
    ("name", "value"),
    [("FAQBOT_PORT", "http"), ("FAQBOT_TOP_K", "0"), ("FAQBOT_MIN_EVIDENCE", "high")],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})

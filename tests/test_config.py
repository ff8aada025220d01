"""Settings come from FAQBOT_* variables, read in one place, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Profile, Settings
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
    [
        ("FAQBOT_PORT", "http"),
        ("FAQBOT_TOP_K", "0"),
        ("FAQBOT_MIN_EVIDENCE", "high"),
        # 0 or less would close every connection before its first byte
        ("FAQBOT_HEADER_TIMEOUT", "0"),
        ("FAQBOT_HEADER_TIMEOUT", "nan"),
        ("FAQBOT_MAX_HEADER_BYTES", "100"),
        ("FAQBOT_LLM_TIMEOUT", "0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_the_site_profile_comes_from_the_toml_beside_the_corpus(tmp_path: Path) -> None:
    (tmp_path / "faqbot.toml").write_text(
        'name = "Harbor Valley Help"\ncontact = "admissions@hv.example"\n'
        'suggestions = ["How do I apply?", "When is the deadline?"]\n',
        encoding="utf-8",
    )
    profile = Settings.from_env({"FAQBOT_CORPUS_DIR": str(tmp_path)}).profile
    assert profile.name == "Harbor Valley Help"
    assert profile.suggestions == ("How do I apply?", "When is the deadline?")
    assert profile.not_covered.endswith("please ask admissions@hv.example.")
    assert profile.placeholder == Profile().placeholder  # unset keys keep the generic default


def test_profile_variables_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "faqbot.toml").write_text('name = "From the file"\n', encoding="utf-8")
    env = {"FAQBOT_CORPUS_DIR": str(tmp_path), "FAQBOT_NAME": "From the env",
           "FAQBOT_SUGGESTIONS": "One?|Two?"}  # fmt: skip
    profile = Settings.from_env(env).profile
    assert profile.name == "From the env" and profile.suggestions == ("One?", "Two?")


def test_the_generic_profile_names_no_corpus(tmp_path: Path) -> None:
    profile = Settings.from_env({"FAQBOT_CORPUS_DIR": str(tmp_path)}).profile
    said = " ".join(str(getattr(profile, k)) for k in Profile.KEYS)
    assert "CPT" not in said and "MSSC" not in said


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('name = "x"\ncolour = "red"\n', "not colour"),
        ("name = [1]\n", "text values for name"),
        ('suggestions = "one"\n', "suggestions as a list"),
        ("name = \n", "readable TOML"),
    ],
)
def test_a_bad_profile_file_says_what_is_wrong(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env({"FAQBOT_PROFILE": str(path)})


def test_a_missing_profile_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FAQBOT_PROFILE"):
        Settings.from_env({"FAQBOT_PROFILE": str(tmp_path / "nope.toml")})


def test_the_question_log_settings(tmp_path: Path) -> None:
    default = Settings.from_env({"FAQBOT_DATA_DIR": str(tmp_path)})
    assert default.question_log and default.log_retention_days == 90
    assert default.log_url == f"sqlite:///{tmp_path.resolve() / 'questions.db'}"
    assert default.admin_token == "" and default.phone_region == "US"
    chosen = Settings.from_env(
        {
            "FAQBOT_QUESTION_LOG": "off",
            "FAQBOT_LOG_DB_URL": " postgresql://faq@db/faq ",
            "FAQBOT_LOG_RETENTION_DAYS": "30",
            "FAQBOT_PHONE_REGION": "gb",
            "FAQBOT_ADMIN_TOKEN": "a" * 32,
        }
    )
    assert not chosen.question_log and chosen.log_url == "postgresql://faq@db/faq"
    assert (chosen.log_retention_days, chosen.phone_region) == (30, "GB")
    assert chosen.admin_token == "a" * 32


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FAQBOT_ADMIN_TOKEN", "short", "at least 16 characters"),
        ("FAQBOT_PHONE_REGION", "USA", "two-letter country code"),
        ("FAQBOT_LOG_RETENTION_DAYS", "0", ">= 1"),
        ("FAQBOT_QUESTION_LOG", "maybe", "yes/on or 0/false"),
    ],
)
def test_bad_question_log_settings_say_what_to_set(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)
    assert "short" not in str(caught.value)  # a token is never echoed

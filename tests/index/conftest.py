"""Fixtures of the index tests: the same tests on embedded Chroma and a `chroma run` server."""

from __future__ import annotations

import time

import pytest

from bot.config import Settings


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.integration)])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        # A fresh collection name per test keeps server-side state apart.
        return settings.with_(chroma_url=url, collection=f"t{time.time_ns()}")
    return settings

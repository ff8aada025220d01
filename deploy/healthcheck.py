"""The image's HEALTHCHECK: exit 0 when this container's app answers ``/healthz`` with 200.

The port comes from the settings (``bot/config.py`` reads the environment), so a container
run with another ``FAQBOT_PORT`` is still checked where it listens."""

from __future__ import annotations

import sys
import urllib.request

from bot.config import Settings

TIMEOUT_S = 5.0
ANY_ADDRESS = ("", "0.0.0.0", "::")  # bound to every interface: ask over loopback


def main() -> int:
    settings = Settings.from_env()
    host = "127.0.0.1" if settings.host in ANY_ADDRESS else settings.host
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    try:
        with urllib.request.urlopen(f"http://{host}:{settings.port}/healthz", timeout=TIMEOUT_S):
            return 0  # urlopen raises on anything but 2xx/3xx
    except OSError as exc:  # URLError and HTTPError are OSErrors
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

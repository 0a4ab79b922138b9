"""Reading settings from the environment.

Every variable the project reads is listed in README.md ("Configuration"). When
DATABASE_URL or REDIS_URL is missing we fall back to the embedded servers that
`scripts/devstack.py` started (it writes their URLs to `.local/services.env`).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SERVICES_ENV = BASE_DIR / ".local" / "services.env"


def _embedded_services() -> dict[str, str]:
    values: dict[str, str] = {}
    if SERVICES_ENV.exists():
        for line in SERVICES_ENV.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def service_url(name: str) -> str:
    """DATABASE_URL / REDIS_URL from the environment, else the embedded server's."""
    value = os.environ.get(name) or _embedded_services().get(name, "")
    if not value:
        raise RuntimeError(
            f"{name} is not set and no embedded server is running. "
            "Run `make run` (or `.venv/bin/python scripts/devstack.py up`) "
            f"or set {name}."
        )
    return value

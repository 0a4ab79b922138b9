"""The test suite: real PostgreSQL and Redis, fast hashing, mail kept in memory."""

from urllib.parse import urlsplit, urlunsplit

from config.env import env_int

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, REDIS_URL

_channel_config: dict = CHANNEL_LAYERS["default"]["CONFIG"]  # type: ignore[assignment]

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tests flush their Redis database between tests, so they get one of their own
# (TEST_REDIS_DB, default 15) and never touch a developer's data in database 0.
_parts = urlsplit(REDIS_URL)
REDIS_URL = urlunsplit(_parts._replace(path=f"/{env_int('TEST_REDIS_DB', 15)}"))
CACHES["default"]["LOCATION"] = REDIS_URL
CACHES["default"]["KEY_PREFIX"] = "stocksense-test"
_channel_config["hosts"] = [{**_channel_config["hosts"][0], "address": REDIS_URL}]
# Pub/sub ignores the database number: tests need their own channel names.
_channel_config["prefix"] = f"stocksense-test-{env_int('TEST_REDIS_DB', 15)}:asgi"
REALTIME_CHANNEL_PREFIX = f"stocksense-test-{env_int('TEST_REDIS_DB', 15)}:rt"
ALERTS_CHANNEL = f"stocksense-test-{env_int('TEST_REDIS_DB', 15)}:alerts:rules"
ALERTS_STREAM = f"stocksense-test-{env_int('TEST_REDIS_DB', 15)}:alerts:ticks"
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

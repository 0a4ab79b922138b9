"""The test suite: real PostgreSQL and Redis, fast hashing, mail kept in memory."""

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A separate key space so tests never read a developer's cached data.
CACHES["default"]["KEY_PREFIX"] = "stocksense-test"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "stocksense-test:asgi"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

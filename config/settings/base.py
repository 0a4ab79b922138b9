"""Settings shared by every environment. Environments differ only by env values."""

from __future__ import annotations

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env_bool, env_int, env_list, env_str, service_url

# Lets admin/queryset classes be subscripted for typing at runtime.
django_stubs_ext.monkeypatch()

SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-change-me-7b1c0e9f4a2d")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies in front of `web` that append to X-Forwarded-For (client IP for audit, throttles).
NUM_PROXIES = env_int("NUM_PROXIES", 0)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "apps.core",
    "apps.accounts",
    "apps.realtime",
    "apps.market",
    "apps.watchlists",
    "apps.charts",
    "apps.notifications",
    "apps.alerts",
    "apps.portfolios",
    "apps.rooms",
    "apps.signals",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "apps.accounts.middleware.UserPreferencesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.site",
            ],
        },
    },
]

# --- Data stores: PostgreSQL everywhere, one Redis for channels, Celery and the cache ---
DATABASES = {
    "default": dj_database_url.parse(
        service_url("DATABASE_URL"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = service_url("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "stocksense"),
        "TIMEOUT": 300,
    }
}
# Rooms, user and watchlist events (not quotes: apps/realtime/hub.py). The pub/sub layer,
# not the core one: one SUBSCRIBE per group per process instead of a Redis sorted set per
# group plus a BZPOPMIN loop per consumer; 3 KB less per idle socket and faster group sends
# (docs/realtime.md). Delivery is at most once, which suits events: every frame carries a
# sequence number and clients re-fetch over REST when they miss one.
# apps/realtime/layer.py swaps its per-channel asyncio.Queue (3.3 KB a socket) for a lighter one.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "apps.realtime.layer.PubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    # redis-py 8 caps a pool at 100 connections and raises beyond.
                    "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 2000),
                }
            ],
            "prefix": "stocksense:asgi",
        },
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "landing"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[StockSense] "
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # e-mail and password changes ask again
ACCOUNT_EMAIL_NOTIFICATIONS = True
# allauth's rate limits are on by default; named here so they are reviewable.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "20/m/ip",
    "confirm_email": "1/180s/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "StockSense"
USERSESSIONS_TRACK_ACTIVITY = True

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "600/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "StockSense API",
    "DESCRIPTION": "Real-time stock analysis for NSE/BSE investors. Prices in INR.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind` field with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "InstrumentKindEnum": "apps.market.models.InstrumentKind",
        "DrawingKindEnum": "apps.charts.models.DrawingKind",
        "CorporateActionKindEnum": "apps.market.models.CorporateActionKind",
        "DestinationKindEnum": "apps.notifications.models.DestinationKind",
        "DeliveryStatusEnum": "apps.notifications.models.DeliveryStatus",
        "AttemptStatusEnum": "apps.notifications.models.AttemptStatus",
        "NotificationPriorityEnum": "apps.notifications.models.Priority",
        "TimeframeEnum": "apps.market.models.Timeframe",
        "NotificationChannelEnum": "apps.alerts.serializers.CHANNEL_CHOICES",
        "TransactionKindEnum": "apps.portfolios.models.TransactionKind",
        "SignalFollowKindEnum": "apps.signals.models.FollowKind",
        "BacktestRunKindEnum": "apps.signals.models.RunKind",
        "BacktestRunStatusEnum": "apps.signals.models.RunStatus",
        "SignalActionEnum": "apps.signals.models.Action",
    },
}

# --- Celery (broker and results in the same Redis) ---
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = "Asia/Kolkata"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240

# --- E-mail and SMS ---
SENDGRID_API_KEY = env_str("SENDGRID_API_KEY")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "StockSense <no-reply@stocksense.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Mail is handed to a Celery task so a slow provider never blocks a request.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "apps.core.mail.backends.QueuedEmailBackend")
EMAIL_DELIVERY_BACKEND = (
    "apps.core.mail.backends.SendGridEmailBackend"
    if SENDGRID_API_KEY
    else "apps.core.mail.backends.MarkedConsoleEmailBackend"
)
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
OUTBOUND_HTTP_TIMEOUT = float(env_str("OUTBOUND_HTTP_TIMEOUT", "10"))

# --- Notifications (docs/notifications.md) ---
# Self-hosting: let webhook and push URLs reach private/loopback addresses (off: SSRF guard).
NOTIFICATIONS_ALLOW_PRIVATE_URLS = env_bool("NOTIFICATIONS_ALLOW_PRIVATE_URLS", False)
# The site's public origin, for provider callbacks (Twilio status); empty = no callbacks.
NOTIFICATIONS_PUBLIC_URL = env_str("NOTIFICATIONS_PUBLIC_URL", "")
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 5)
NOTIFICATIONS_RETRY_BASE = env_int("NOTIFICATIONS_RETRY_BASE", 30)  # seconds, doubled per try
# A delivery `sending` longer than this was lost with its worker (> CELERY_TASK_TIME_LIMIT).
NOTIFICATIONS_LEASE_SECONDS = env_int("NOTIFICATIONS_LEASE_SECONDS", 360)
SENDGRID_WEBHOOK_PUBLIC_KEY = env_str("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY", "")
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:admin@stocksense.local")

# --- Alerts (docs/alerts.md) ---
# Active rules per user; an AlertQuota row overrides it per user (or plan).
ALERTS_MAX_ACTIVE_PER_USER = env_int("ALERTS_MAX_ACTIVE_PER_USER", 200)
ALERTS_STREAM = env_str("ALERTS_STREAM", "stocksense:alerts:ticks")
ALERTS_STREAM_MAXLEN = env_int("ALERTS_STREAM_MAXLEN", 10_000)  # batches kept
ALERTS_CHANNEL = env_str("ALERTS_CHANNEL", "stocksense:alerts:rules")
ALERTS_ENGINE_SHARDS = env_int("ALERTS_ENGINE_SHARDS", 1)
ALERTS_ENGINE_SHARD = env_int("ALERTS_ENGINE_SHARD", 0)

# --- Portfolios (docs/portfolios.md) ---
# Annual risk-free rate for Sharpe/Sortino/alpha: the RBI 91-day T-bill cut-off yield.
PORTFOLIO_RISK_FREE_RATE = env_str("PORTFOLIO_RISK_FREE_RATE", "0.0550")
PORTFOLIO_DEFAULT_BENCHMARK = env_str("PORTFOLIO_DEFAULT_BENCHMARK", "NIFTY 50")
PORTFOLIO_MAX_STOCK_WEIGHT = env_str("PORTFOLIO_MAX_STOCK_WEIGHT", "0.20")  # warn above
PORTFOLIO_MAX_SECTOR_WEIGHT = env_str("PORTFOLIO_MAX_SECTOR_WEIGHT", "0.40")  # warn above
PORTFOLIO_IMPORT_MAX_ROWS = env_int("PORTFOLIO_IMPORT_MAX_ROWS", 100_000)
# Live `portfolio.update` pushes: at most one per portfolio per this many seconds.
PORTFOLIO_LIVE_INTERVAL = env_int("PORTFOLIO_LIVE_INTERVAL", 1)
# Listed equity capital gains (sections 111A/112A), by the date of the sale. Long-term after
# more than PORTFOLIO_LTCG_MONTHS months; the exemption is per financial year.
PORTFOLIO_LTCG_MONTHS = 12
PORTFOLIO_EQUITY_TAX_RATES = [
    {"from": "2018-04-01", "stcg": "0.15", "ltcg": "0.10", "ltcg_exemption": "100000"},
    {"from": "2024-07-23", "stcg": "0.20", "ltcg": "0.125", "ltcg_exemption": "125000"},
]

# --- Rooms (docs/rooms.md) ---
# Flood limit per user per room: sustained messages a second, and the burst allowed.
ROOMS_MESSAGE_RATE = float(env_str("ROOMS_MESSAGE_RATE", "1"))
ROOMS_MESSAGE_BURST = env_int("ROOMS_MESSAGE_BURST", 10)
# Presence (Redis): a connection not refreshed for TTL seconds is offline; each `ws` process
# refreshes its connections every HEARTBEAT, sweeps expired ones every SWEEP and announces a
# room's presence at most once per DEBOUNCE seconds.
ROOMS_PRESENCE_TTL_SECONDS = float(env_str("ROOMS_PRESENCE_TTL_SECONDS", "25"))
ROOMS_PRESENCE_HEARTBEAT_SECONDS = float(env_str("ROOMS_PRESENCE_HEARTBEAT_SECONDS", "10"))
ROOMS_PRESENCE_SWEEP_SECONDS = float(env_str("ROOMS_PRESENCE_SWEEP_SECONDS", "5"))
ROOMS_PRESENCE_DEBOUNCE_SECONDS = float(env_str("ROOMS_PRESENCE_DEBOUNCE_SECONDS", "0.5"))

# --- Live signals (docs/signals.md) ---
# Timeframes signals are issued on (each has its bar-close beat schedule).
SIGNALS_TIMEFRAMES = env_list("SIGNALS_TIMEFRAMES", ["1d", "15m"])
SIGNALS_HISTORY_BARS = env_int("SIGNALS_HISTORY_BARS", 600)  # closed bars the strategies see
SIGNALS_ATR_PERIOD = env_int("SIGNALS_ATR_PERIOD", 14)
SIGNALS_STOP_ATR = float(env_str("SIGNALS_STOP_ATR", "2.0"))  # stop = entry -/+ this x ATR
SIGNALS_TARGET_R = float(env_str("SIGNALS_TARGET_R", "2.0"))  # target = entry +/- this x risk
SIGNALS_EXPIRY_BARS = env_int("SIGNALS_EXPIRY_BARS", 20)  # open this long -> "expired"
SIGNALS_EVIDENCE_BARS = env_int("SIGNALS_EVIDENCE_BARS", 5000)  # bars an evidence backtest reads
SIGNALS_EVIDENCE_MAX_AGE_HOURS = env_int("SIGNALS_EVIDENCE_MAX_AGE_HOURS", 24)
SIGNALS_MIN_EVIDENCE_TRADES = env_int("SIGNALS_MIN_EVIDENCE_TRADES", 10)  # fewer: no confidence
# Live vs backtested hit rate: flagged as drifting from this many resolved live signals on,
# when the two differ by at least the threshold.
SIGNALS_DRIFT_MIN_LIVE = env_int("SIGNALS_DRIFT_MIN_LIVE", 10)
SIGNALS_DRIFT_THRESHOLD = float(env_str("SIGNALS_DRIFT_THRESHOLD", "0.15"))

# --- Market data (filled by the market data issue) ---
MARKET_DATA_PROVIDER = env_str("MARKET_DATA_PROVIDER", "simulated")
MARKET_FETCH_INTERVAL = env_int("MARKET_FETCH_INTERVAL", 5)  # seconds between quote polls
# Demo mode: the simulated feed moves outside market hours too (on in local settings).
MARKET_SIMULATED_ALWAYS_OPEN = env_bool("MARKET_SIMULATED_ALWAYS_OPEN", False)
MARKET_MINUTE_RETENTION_DAYS = env_int("MARKET_MINUTE_RETENTION_DAYS", 400)
MARKET_CSV_DIR = env_str("MARKET_CSV_DIR", str(BASE_DIR / ".local" / "market-csv"))
MARKET_STALE_AFTER = env_int("MARKET_STALE_AFTER", 60)  # seconds without quotes = stale
MARKET_BREAKER_FAILURES = env_int("MARKET_BREAKER_FAILURES", 3)
MARKET_BREAKER_COOLDOWN = env_int("MARKET_BREAKER_COOLDOWN", 30)  # seconds

# --- Real time ---
# Where the browser opens its WebSocket: empty = same origin (behind a load balancer that
# routes /ws/ to the `ws` process); locally `make run` serves /ws/ on WS_PORT.
WS_PORT = env_int("WS_PORT", 8001)
WS_URL = env_str("WS_URL", "")
# Redis pub/sub channels carrying quote ticks to `ws` processes start with this.
REALTIME_CHANNEL_PREFIX = env_str("REALTIME_CHANNEL_PREFIX", "stocksense:rt")
# A WebSocket whose frame could not be written for this long (the client stopped reading)
# is disconnected (close code 4408).
REALTIME_SLOW_CLIENT_SECONDS = env_int("REALTIME_SLOW_CLIENT_SECONDS", 10)

# --- i18n / time ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("hi", _("Hindi"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

# --- Static files: plain ES modules and CSS from frontend/, hashed by collectstatic ---
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend"]

# --- Operations ---
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_PUBLIC = True
PROMETHEUS_EXPORT_MIGRATIONS = False
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

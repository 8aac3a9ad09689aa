"""Settings, all from the environment, with defaults that make a fresh checkout work on SQLite."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import NoReturn

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers

from runs.version import package_version

BASE_DIR = Path(__file__).resolve().parent.parent


def _refuse(name: str, accepts: str, raw: str) -> NoReturn:
    """Stop start-up with one line naming the variable and what it accepts (no traceback)."""
    raise SystemExit(f"Configuration error: {name} must be {accepts}, got {raw!r}.")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    _refuse(name, "true or false (also 1/0, yes/no, on/off)", raw)


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().replace("_", "")
    if not text.isdigit() or int(text) < minimum:
        _refuse(name, f"a whole number ≥ {minimum} (digits only, e.g. {default})", raw)
    return int(text)


def _env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip() == "":
        _refuse(name, "a directory path", raw)
    return Path(raw)


def _env_list(name: str, sep: str = ",") -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(sep) if item.strip()]


def _env_origins(name: str) -> list[str]:
    origins = _env_list(name)
    for origin in origins:
        if not re.fullmatch(r"https?://[^/\s?#]+", origin):
            _refuse(
                name, "comma-separated origins such as https://ui.example or http://localhost:5173", origin
            )
    return origins


DEBUG = _env_bool("DEBUG", False)

VAR_DIR = BASE_DIR / "var"


def _secret_key() -> str:
    configured = os.environ.get("SECRET_KEY", "")
    if configured:
        return configured
    if DEBUG:
        return "flowtime-dev-only-insecure-secret-key"  # a known value, acceptable only with DEBUG on
    # Not DEBUG and nothing configured (a local `make run`): a random key kept under var/, so it is
    # never a value anyone else knows, and sessions survive restarts. Deployments set SECRET_KEY.
    key_file = VAR_DIR / "secret_key"
    try:
        return key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        import secrets

        VAR_DIR.mkdir(exist_ok=True)
        key = secrets.token_urlsafe(50)
        staged = VAR_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        try:
            os.link(staged, key_file)  # atomic: of two processes starting at once, one key wins
        except FileExistsError:
            pass
        finally:
            staged.unlink()
        return key_file.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "templates_catalog",
    "runs",
    "telemetry",
]

MIDDLEWARE = [
    "flowtime_site.middleware.RequestIdMiddleware",
    "flowtime_site.middleware.ChunkedBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Admin and API-docs assets without a separate web server, DEBUG on or off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "flowtime_site.urls"
WSGI_APPLICATION = "flowtime_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    # SQLite creates its file but not the folder; a fresh checkout has no var/ yet.
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'flowtime.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (API threads, commands) share one file. IMMEDIATE takes the write lock when a
    # transaction starts, so a writer waits (up to the timeout) instead of failing at once when two
    # readers both try to upgrade; the default DEFERRED mode answers "database is locked" there.
    # SQLite keeps 2 MiB of pages per connection by default: a listing page deep in 100,000 runs walks
    # more index than that and read every page back from the OS (B2b: 1.56× slower than at 1,000
    # runs; 1.12–1.20× with 64 MiB). The cache only grows as pages are read, per open connection.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": f"PRAGMA cache_size = -{64 * 1024}"}
    )
    # Tests use a file too: the in-memory shared-cache database fails concurrent writers at once
    # ("database table is locked") instead of waiting, which live-server tests would hit.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = _env_path("FLOWTIME_STATIC_ROOT", VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even when still empty
# Serve straight from the apps' static folders (no collectstatic step for `make run`); a deployment
# may still run collectstatic and let WhiteNoise serve STATIC_ROOT with long cache headers.
WHITENOISE_USE_FINDERS = True

# Bodies over 1 MiB are refused by the API's parser with request_too_large (spec 05 §2).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- FlowTime ---------------------------------------------------------------------------------
# Every FLOWTIME_* variable is read and validated here, once, at start-up (docs/operations.md lists
# them); a bad value stops start-up with one line. Nothing else reads FLOWTIME_* from the environment.
FLOWTIME_DATA_DIR = _env_path("FLOWTIME_DATA_DIR", VAR_DIR / "data")
FLOWTIME_TEMPLATES_DIR = _env_path("FLOWTIME_TEMPLATES_DIR", BASE_DIR / "templates_catalog" / "catalog")
FLOWTIME_TELEMETRY_ROOTS = os.environ.get("FLOWTIME_TELEMETRY_ROOTS", "")
FLOWTIME_MAX_BINS = _env_int("FLOWTIME_MAX_BINS", 10000, minimum=1)
FLOWTIME_STATE_MAX_WINDOW_BINS = _env_int("FLOWTIME_STATE_MAX_WINDOW_BINS", 500, minimum=1)
FLOWTIME_SERIES_CACHE_MAX_VALUES = _env_int("FLOWTIME_SERIES_CACHE_MAX_VALUES", 50_000_000)
FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES = _env_int(
    "FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES", 256 * 1024 * 1024
)
FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS = _env_int("FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS", 64)
FLOWTIME_ALLOW_ANONYMOUS_WRITES = _env_bool("FLOWTIME_ALLOW_ANONYMOUS_WRITES", False)
FLOWTIME_REQUIRE_AUTH_FOR_READS = _env_bool("FLOWTIME_REQUIRE_AUTH_FOR_READS", False)
# Build facts shown by GET /v1/healthz (spec 07 §3.2); empty means "not known".
FLOWTIME_COMMIT = os.environ.get("FLOWTIME_COMMIT", "")
FLOWTIME_BUILD_TIME = os.environ.get("FLOWTIME_BUILD_TIME", "")
FLOWTIME_ENVIRONMENT = os.environ.get("FLOWTIME_ENVIRONMENT", "")

# /metrics counts every process on this host that shares the data root (gunicorn workers, manage.py
# create_run): prometheus_client's multiprocess mode keeps one file per process in this directory, and
# /metrics adds them up. "" turns it off (per-process metrics). It must be in the environment before
# prometheus_client is first imported, hence here. The pytest process keeps per-process metrics: its
# settings load before a test points the data root elsewhere, and tests never touch the real one.
FLOWTIME_METRICS_DIR = os.environ.get("FLOWTIME_METRICS_DIR", str(FLOWTIME_DATA_DIR / ".metrics"))
if "pytest" in sys.modules and "FLOWTIME_METRICS_DIR" not in os.environ:
    FLOWTIME_METRICS_DIR = ""
if FLOWTIME_METRICS_DIR:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", FLOWTIME_METRICS_DIR)
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

CORS_ALLOWED_ORIGINS = _env_origins("FLOWTIME_CORS_ORIGINS")
CORS_EXPOSE_HEADERS = ["Location", "X-Request-ID", "Idempotent-Replayed"]
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-request-id")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A session only when the request needs one: with anonymous writes on, a POST without an
        # Authorization header is anonymous and so needs no CSRF token (spec 07 §2.4).
        "flowtime_site.api.SessionUnlessAnonymousWrite",
        "rest_framework.authentication.TokenAuthentication",
    ],
    # JSON stays the default; a browser (Accept: text/html) or ?format=api gets DRF's browsable API.
    "DEFAULT_RENDERER_CLASSES": [
        "flowtime_site.renderers.FastJSONRenderer",
        "flowtime_site.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["flowtime_site.api.LimitedJSONParser"],
    # Every API view: writes need a user (or FLOWTIME_ALLOW_ANONYMOUS_WRITES), reads are open unless
    # FLOWTIME_REQUIRE_AUTH_FOR_READS; bodies are JSON of at most 1 MiB.
    "DEFAULT_PERMISSION_CLASSES": ["flowtime_site.api.FlowtimeAccess"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "flowtime_site.problems.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FlowTime runs API",
    "DESCRIPTION": "Create, list and replay FlowTime runs.",
    "VERSION": package_version(),
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids come from the path after this prefix; /api/v1/ (the FlowTime UI facade)
    # would otherwise shorten the common prefix to "/" and rename every /v1 operation.
    "SCHEMA_PATH_PREFIX": r"/(api/)?v1",
    # Swagger UI from our own static files, not a CDN: /v1/docs works on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flowtime_site.openapi_hooks.problem_json_responses",
        "flowtime_site.openapi_hooks.anonymous_reads",
        "flowtime_site.openapi_hooks.strict_request_bodies",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "runs.observability.JsonLineFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "flowtime": {
            "handlers": ["console"],
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "propagate": True,
        },
    },
    "root": {"handlers": [], "level": "WARNING"},
}

"""Settings come from the environment (issue: DEBUG, SECRET_KEY, CORS, data dir, DATABASE_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'key': s.SECRET_KEY, 'data': str(s.FLOWTIME_DATA_DIR), "
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'cors': s.CORS_ALLOWED_ORIGINS, 'maxBins': s.FLOWTIME_MAX_BINS}))"
)


def probe(tmp_path: Path, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "DATABASE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "flowtime_site.settings", **env})
    base.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_settings_from_environment(tmp_path: Path) -> None:
    got = probe(
        tmp_path,
        SECRET_KEY="from-env",
        FLOWTIME_DATA_DIR=str(tmp_path / "d"),
        FLOWTIME_CORS_ORIGINS="http://localhost:5173, https://ui.example",
        FLOWTIME_MAX_BINS="20000",
    )
    assert got["key"] == "from-env"
    assert got["data"] == str(tmp_path / "d")
    assert got["cors"] == ["http://localhost:5173", "https://ui.example"]
    assert got["maxBins"] == 20000
    assert got["debug"] is False


def test_debug_gets_a_dev_key_and_postgres_url_is_understood(tmp_path: Path) -> None:
    got = probe(tmp_path, DEBUG="true", DATABASE_URL="postgres://u:p@127.0.0.1:5432/flowtime")
    assert got["debug"] is True
    assert got["key"] == "flowtime-dev-only-insecure-secret-key"
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["name"] == "flowtime"


def test_bad_boolean_is_refused(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        probe(tmp_path, DEBUG="maybe")
    assert "DEBUG must be true or false" in info.value.stderr


@pytest.mark.django_db
def test_cors_origins_from_settings(settings: object) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["http://ui.test"]  # type: ignore[attr-defined]
    allowed = Client().get("/v1/runs", HTTP_ORIGIN="http://ui.test")
    assert allowed["Access-Control-Allow-Origin"] == "http://ui.test"
    other = Client().get("/v1/runs", HTTP_ORIGIN="http://evil.test")
    assert "Access-Control-Allow-Origin" not in other


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "DATABASE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "flowtime_site.settings", **env})
    base.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return subprocess.run(
        [sys.executable, "-c", CACHE_PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


CACHE_PROBE = (
    "import json, django; django.setup(); from runs.replay.rendered import RENDERED_CACHE; "
    "from runs.replay.series_cache import SERIES_CACHE; from runs.replay.loading import RUN_CACHE; "
    "print(json.dumps([SERIES_CACHE.max_size, RENDERED_CACHE.max_size, RUN_CACHE.max_size]))"
)

WHOLE = "a whole number ≥ {minimum} (digits only, e.g. {default})"


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES", "1e6", WHOLE.format(minimum=0, default=268435456)),
        ("FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS", "many", WHOLE.format(minimum=0, default=64)),
        ("FLOWTIME_SERIES_CACHE_MAX_VALUES", "lots", WHOLE.format(minimum=0, default=50000000)),
        ("FLOWTIME_SERIES_CACHE_MAX_VALUES", "-1", WHOLE.format(minimum=0, default=50000000)),
        ("FLOWTIME_MAX_BINS", "0", WHOLE.format(minimum=1, default=10000)),
        ("FLOWTIME_STATE_MAX_WINDOW_BINS", "5.5", WHOLE.format(minimum=1, default=500)),
        ("FLOWTIME_ALLOW_ANONYMOUS_WRITES", "sure", "true or false (also 1/0, yes/no, on/off)"),
        ("FLOWTIME_REQUIRE_AUTH_FOR_READS", "2", "true or false (also 1/0, yes/no, on/off)"),
        ("FLOWTIME_DATA_DIR", " ", "a directory path"),
        (
            "FLOWTIME_CORS_ORIGINS",
            "ui.example",
            "comma-separated origins such as https://ui.example or http://localhost:5173",
        ),
    ],
)
def test_a_bad_value_stops_start_up_with_one_line(
    tmp_path: Path, name: str, value: str, accepts: str
) -> None:
    done = start(tmp_path, **{name: value})

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"Configuration error: {name} must be {accepts}, got {value!r}.\n"


def test_cache_bounds_come_from_settings(tmp_path: Path) -> None:
    done = start(
        tmp_path,
        FLOWTIME_SERIES_CACHE_MAX_VALUES="1_000",
        FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES="0",
        FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS="2",
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [1000, 0, 2]


def test_cache_bounds_default(tmp_path: Path) -> None:
    done = start(tmp_path)

    assert json.loads(done.stdout.strip().splitlines()[-1]) == [50_000_000, 256 * 1024 * 1024, 64]


SOURCE_DIRS = ("flowtime_site", "runs", "templates_catalog", "telemetry")


def test_only_settings_reads_flowtime_variables_and_the_guide_lists_them_all() -> None:
    import re

    readers = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "flowtime_site" / "settings.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"(os\.environ|getenv)[^\n]*FLOWTIME_", text):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []

    settings_text = (ROOT / "flowtime_site" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'"(FLOWTIME_[A-Z_]+)"', settings_text))
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert len(names) >= 11
    assert sorted(name for name in names if f"`{name}`" not in guide) == []


@pytest.mark.django_db
def test_sqlite_connections_keep_a_page_cache_large_enough_for_deep_listing_pages() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a SQLite pragma")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -64 * 1024  # KiB: 64 MiB instead of SQLite's 2 MiB

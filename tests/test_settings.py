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

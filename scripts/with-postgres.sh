#!/usr/bin/env bash
# Runs a command against PostgreSQL: DATABASE_URL when it already names a postgres:// database,
# otherwise a throw-away PostgreSQL cluster started here (initdb into a temporary folder, a free
# loopback port, as an unprivileged user because postgres refuses to run as root) and removed on
# exit, also when the command fails or is interrupted.
#
#   bash scripts/with-postgres.sh .venv/bin/pytest        (what `make test-postgres` runs)
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

export FLOWTIME_EXPECT_DATABASE=postgresql
if [[ "${DATABASE_URL:-}" == postgres://* || "${DATABASE_URL:-}" == postgresql://* ]]; then
  echo "with-postgres: using DATABASE_URL from the environment" >&2
  exec "$@"
fi

find_bin_dir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return
  fi
  # Debian's packages keep the server binaries off PATH.
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return
    fi
  done
}

PG_BIN="$(find_bin_dir)"
if [[ -z "$PG_BIN" ]]; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "with-postgres: PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN="$(find_bin_dir)"
  fi
  if [[ -z "$PG_BIN" ]]; then
    echo "with-postgres: PostgreSQL 15 server binaries (initdb, pg_ctl) are not installed." >&2
    echo "Install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15)" >&2
    echo "or set DATABASE_URL=postgres://USER@HOST:PORT/DB to use a server you already run." >&2
    exit 1
  fi
fi

BASE="$(mktemp -d "${TMPDIR:-/tmp}/flowtime-pg-XXXXXX")"
chmod 755 "$BASE"
as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
  owner=postgres
  id -u "$owner" >/dev/null 2>&1 || owner=nobody
  chown "$owner" "$BASE"
  as_owner=(runuser -u "$owner" --)
fi

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
stop_cluster() {
  "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$BASE/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$BASE"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$PG_BIN/initdb" -D "$BASE/data" -A trust -U flowtime -E UTF8 >"$BASE/initdb.log" 2>&1 || {
  cat "$BASE/initdb.log" >&2
  exit 1
}
"${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$BASE/data" -l "$BASE/server.log" -w \
  -o "-p $PORT -k $BASE -c listen_addresses=127.0.0.1 -c max_connections=200 -F" start >/dev/null || {
  cat "$BASE/server.log" >&2
  exit 1
}
echo "with-postgres: $("$PG_BIN/postgres" --version) on 127.0.0.1:$PORT" >&2

# Django's test runner makes its own test_postgres database beside this one and drops it afterwards.
export DATABASE_URL="postgres://flowtime@127.0.0.1:$PORT/postgres"
"$@"

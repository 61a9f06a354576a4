#!/usr/bin/env bash
# Runs the whole test suite: brings up what the tests need, then `mvn verify`.
#
# PostgreSQL: the local server at 127.0.0.1:5432 is used when it answers; a stopped local cluster is
# started; with no server installed at all, the tests start an embedded PostgreSQL themselves
# (io.zonky.test:embedded-postgres), so this passes on a bare machine too.
set -euo pipefail
cd "$(dirname "$0")/.."

postgres_up() {
  command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q
}

ensure_postgres() {
  if postgres_up; then
    echo "PostgreSQL: running at 127.0.0.1:5432"
    return
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "PostgreSQL: starting local cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
      postgres_up && { echo "PostgreSQL: up"; return; }
      sleep 1
    done
    echo "PostgreSQL: local cluster did not come up" >&2
  fi
  echo "PostgreSQL: no local server; the tests will start an embedded PostgreSQL"
}

ensure_postgres
exec mvn -B -ntp verify "$@"

#!/usr/bin/env bash
# Runs the whole test suite: brings up what the tests need, then `mvn verify`.
#
# PostgreSQL: the local server at 127.0.0.1:5432 is used when it answers; a stopped local cluster is
# started; with no server installed at all, the tests start an embedded PostgreSQL themselves: epidemic-core's
# a 15 from io.zonky binaries that its build unpacks (as it does 14, 17 and 18, which its capture suites always
# run on), the other modules' io.zonky's EmbeddedPostgres (which initdb refuses to run as root).
# MariaDB: the server at 127.0.0.1:3306 (root, no password) is used; it is started when down and installed
# when missing; a MariaDB that cannot be brought up fails the run.
# The brokers of the sink modules (NATS with JetStream at 4222, RabbitMQ at 5672 as guest/guest, Redis at
# 6379): each is started when down and installed from Debian's packages when missing; one that cannot be
# brought up fails the run. Kafka has no server here: its tests start a broker from Maven artifacts.
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

mariadb_up() {
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
  fi
}

# MariaDB: the shared behaviour suite runs on it too. A server that is down is started; a missing one is
# installed (Debian's mariadb-server). If it still does not answer, the run fails: it never skips.
ensure_mariadb() {
  if mariadb_up; then
    echo "MariaDB: running at 127.0.0.1:3306"
    return
  fi
  if [ ! -x /usr/sbin/mariadbd ]; then
    echo "MariaDB: not installed; installing mariadb-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq mariadb-server >/dev/null
  fi
  echo "MariaDB: starting /usr/sbin/mariadbd"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    mariadb_up && { echo "MariaDB: up"; return; }
    sleep 1
  done
  echo "MariaDB: did not come up at 127.0.0.1:3306; the suite needs it" >&2
  exit 1
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ensure_service NAME PORT EXECUTABLE DEBIAN_PACKAGE START_COMMAND...
ensure_service() {
  local name=$1 port=$2 executable=$3 package=$4
  shift 4
  if port_open "$port"; then
    echo "$name: running at 127.0.0.1:$port"
    return
  fi
  if [ ! -x "$executable" ]; then
    echo "$name: not installed; installing $package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "$package" >/dev/null
  fi
  echo "$name: starting"
  "$@" || true
  for _ in $(seq 1 90); do
    port_open "$port" && { echo "$name: up"; return; }
    sleep 1
  done
  echo "$name: did not come up at 127.0.0.1:$port; the suite needs it" >&2
  exit 1
}

ensure_postgres
ensure_mariadb
mkdir -p /var/lib/nats-server /var/lib/redis /var/log/redis
ensure_service NATS 4222 /usr/sbin/nats-server nats-server \
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
ensure_service RabbitMQ 5672 /usr/sbin/rabbitmq-server rabbitmq-server rabbitmq-server -detached
ensure_service Redis 6379 /usr/bin/redis-server redis-server \
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
exec mvn -B -ntp verify "$@"

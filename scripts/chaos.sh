#!/usr/bin/env bash
# The chaos run: 8 writers, the consumer killed with kill -9, its connections terminated, the server
# restarted (only one the harness started), its handler failing at random; then a verdict with figures.
# The table holds 200,000 rows before the consumer exists (--backfill-rows N, 0 for none): a backfill JVM,
# killed with kill -9 among the faults and resumed, delivers them, and the verdict says whether the replica
# materialized from the deliveries equals the table (PostgreSQL; MariaDB once Epidemic backfills there).
# Exit 0 only when nothing committed was lost, nothing rolled back was delivered and nothing came out of order.
#
#   scripts/chaos.sh                   # the full run: 10 minutes against an embedded PostgreSQL it owns
#   scripts/chaos.sh --seconds 60      # a short one
#   scripts/chaos.sh --url 'jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres'
#                                      # against that server instead (a database of its own; never restarted)
#   scripts/chaos.sh --url 'jdbc:mariadb://127.0.0.1:3306/?user=root'   (or: --mariadb)
#                                      # against MariaDB: databases and a consumer user of its own, no TRUNCATE
#
# See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=epidemic-chaos/target/epidemic-chaos-all.jar
if [ ! -f "$jar" ] || [ -n "$(find epidemic-core/src epidemic-chaos/src -newer "$jar" -type f | head -n 1)" ]; then
  echo "chaos: building $jar" >&2
  mvn -q -B -ntp -DskipTests -pl epidemic-chaos -am package >&2
fi
exec java -jar "$jar" "$@"

#!/usr/bin/env bash
# Runs the benchmark (docs/benchmarks.md) against PostgreSQL: prints the table, writes results.json and
# PNG charts to epidemic-bench/target/bench-results (or --out DIR).
#
#   scripts/bench.sh                      full run on a fresh database "epidemic_bench" at 127.0.0.1:5432 (~25 min)
#   scripts/bench.sh --smoke              the same at tiny sizes, one round (~15 s; the test suite runs it too)
#   scripts/bench.sh --only backfill      only some parts: writers, drain, latency, backfill (comma-separated)
#   scripts/bench.sh JDBC_URL [...]       another database (it creates bench_* tables and drops the epidemic schema)
#   ... --debezium-url JDBC_URL           run the Debezium part on another server (one with wal_level=logical)
#
# Debezium needs wal_level=logical. If the local server lacks it, the full run sets it with ALTER SYSTEM and
# restarts the local cluster (pg_ctlcluster), saying so; the smoke run never changes a server.
set -euo pipefail
cd "$(dirname "$0")/.."

url=""
args=()
previous=""
for arg in "$@"; do
  if [ -z "$url" ] && [[ "$arg" == jdbc:postgresql:* ]] && [ "$previous" != "--debezium-url" ]; then
    url="$arg"
  else
    args+=("$arg")
  fi
  previous="$arg"
done
if [ -z "$url" ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS epidemic_bench WITH (FORCE)" -c "CREATE DATABASE epidemic_bench" postgres
  url="jdbc:postgresql://127.0.0.1:5432/epidemic_bench?user=postgres"
fi

# Builds core, the CLI jar (epidemic tail runs as a separate process) and the bench, without installing anything.
mvn -q -B -ntp -DskipTests -pl epidemic-bench -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime >&2
exec java -Xmx2g -Djava.awt.headless=true -cp "epidemic-bench/target/classes:$(cat epidemic-bench/target/classpath.txt)" \
  dev.epidemic.bench.Benchmark "$url" ${args[@]+"${args[@]}"}

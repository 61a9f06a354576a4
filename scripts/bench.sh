#!/usr/bin/env bash
# Runs the benchmarks against a PostgreSQL database (default: a fresh database "epidemic_bench" on the
# local server) and prints the figures. Usage: scripts/bench.sh [JDBC_URL] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:-}"
if [ -z "$url" ] || [ "$url" = "--smoke" ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS epidemic_bench" -c "CREATE DATABASE epidemic_bench" postgres
  url="jdbc:postgresql://127.0.0.1:5432/epidemic_bench?user=postgres"
else
  shift
fi
mvn -q -B -ntp -DskipTests -pl epidemic-bench -am install >&2
mvn -q -B -ntp -pl epidemic-bench dependency:build-classpath -Dmdep.outputFile="$PWD/epidemic-bench/target/classpath.txt" >&2
exec java -cp "epidemic-bench/target/classes:$(cat epidemic-bench/target/classpath.txt)" dev.epidemic.bench.Benchmark "$url" "$@"

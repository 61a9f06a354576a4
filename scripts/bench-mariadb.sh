#!/usr/bin/env bash
# Runs the MariaDB benchmarks (issue 4's targets) against a MariaDB database (default: a fresh database
# "epidemic_bench" on the local server at 127.0.0.1:3306, user root) and prints the figures.
# Usage: scripts/bench-mariadb.sh [JDBC_URL] [--smoke] [--only backfill]. Builds from this reactor; installs nothing in ~/.m2.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:-}"
if [[ "$url" == jdbc:mariadb:* ]]; then
  shift
else
  mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS epidemic_bench; CREATE DATABASE epidemic_bench"
  url="jdbc:mariadb://127.0.0.1:3306/epidemic_bench?user=root"
fi
# One reactor run: epidemic-core resolves from its target/ (the last module, epidemic-bench, writes the file last).
mvn -q -B -ntp -DskipTests -Dmaven.test.skip.exec=true -pl epidemic-bench -am package dependency:build-classpath \
  -Dmdep.includeScope=runtime -Dmdep.outputFile="$PWD/epidemic-bench/target/classpath.txt" >&2
cp="epidemic-bench/target/classes:$(cat epidemic-bench/target/classpath.txt)"
exec java -cp "$cp" dev.epidemic.bench.MariaDbBenchmark "$url" "$@"

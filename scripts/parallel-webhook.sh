#!/usr/bin/env bash
# Parallel delivery to a slow webhook (issue 14's case): N pending changes, a local webhook server that
# answers every request after DELAY ms, and `epidemic run` with a webhook sink at each parallelism given;
# prints changes/s from the daemon's start to the last request received.
#
# Usage: scripts/parallel-webhook.sh [--changes N] [--delay-ms D] [--parallelism "1 8 32"]
# Uses a fresh database "epidemic_parallel" on 127.0.0.1:5432 (user postgres), python3 for the server.
set -euo pipefail
cd "$(dirname "$0")/.."
changes=2000
delay=20
levels="1 8 32"
while [ $# -gt 0 ]; do
  case "$1" in
    --changes) changes="$2"; shift 2 ;;
    --delay-ms) delay="$2"; shift 2 ;;
    --parallelism) levels="$2"; shift 2 ;;
    *) echo "parallel-webhook.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
db=epidemic_parallel
url="jdbc:postgresql://127.0.0.1:5432/$db?user=postgres"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/server.py" <<PY
import http.server, os, time, threading
count = 0
lock = threading.Lock()
class Slow(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as real webhook receivers do
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        time.sleep($delay / 1000)
        with lock:
            count += 1
            with open('$work/count.tmp', 'w') as f: f.write(str(count))
            os.replace('$work/count.tmp', '$work/count')
        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # Python's default listen backlog of 5 drops concurrent connects
Server(('127.0.0.1', $port), Slow).serve_forever()
PY
echo 0 > "$work/count"
python3 "$work/server.py" &
echo "$changes pending changes, a webhook answering after $delay ms, one change per request"
for p in $levels; do
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" postgres
  psql -h 127.0.0.1 -U postgres -qd "$db" -c "CREATE TABLE item (id int PRIMARY KEY, v int)"
  ./epidemic watch item --url "$url" >/dev/null
  psql -h 127.0.0.1 -U postgres -qd "$db" -c "INSERT INTO item SELECT g, g FROM generate_series(1, $changes) g"
  baseline=$(cat "$work/count" 2>/dev/null || echo 0)  # the server counts every request it ever received
  cat > "$work/config.yaml" <<YAML
database: {url: '$url'}
consumers:
  - name: webhook
    parallelism: $p
    tables:
      - table: item
        sink: {webhook: {url: 'http://127.0.0.1:$port/hook'}}
YAML
  start=$(date +%s%N)
  ./epidemic run --config "$work/config.yaml" > "$work/run.log" 2>&1 &
  daemon=$!
  while [ "$(cat "$work/count")" -lt $((baseline + changes)) ]; do sleep 0.05; done
  end=$(date +%s%N)
  kill "$daemon"; wait "$daemon" 2>/dev/null || true
  echo "parallelism $p: $(awk -v n="$changes" -v ns=$((end - start)) 'BEGIN { printf "%.0f changes/s (%.1f s, JVM start included)", n / (ns / 1e9), ns / 1e9 }')"
done

#!/usr/bin/env bash
# What capture costs a writer's statement on the server, by parts (issue 12's "per-statement backend CPU"
# method): each variant of the INSERT trigger runs N single-row INSERTs in one DO loop (no client round
# trips, no commits), and the backend's own CPU time (utime + stime from /proc/PID/stat, so the server must
# be local) is divided by N. Variants alternate within each round; on a busy machine read the minimum.
#
# Usage: scripts/writer-cost.sh [--rounds R] [--statements N] [--variants "none epidemic ..."]
# Uses a fresh database "epidemic_writer_cost" on 127.0.0.1:5432 (user postgres) and ./epidemic to watch.
# Variants:
#   none                 no trigger
#   epidemic             Epidemic's generated capture, as `epidemic watch` installs it
#   stmt_empty           a statement trigger with a transition table and an empty body (the machinery)
#   stmt_empty_pinned    the same, SECURITY DEFINER with SET search_path (what pinning costs per call)
#   epidemic_no_state    Epidemic's INSERT without its read of log_state and waiting
#   epidemic_no_jsonb    Epidemic's INSERT logging no jsonb
#   row_plain            a plain row trigger: INSERT ... VALUES (..., to_jsonb(NEW)) into the log
#   row_plain_pinned     the same, SECURITY DEFINER with SET search_path
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
cd "$(dirname "$0")/.."
rounds=5
statements=30000
variants="none epidemic stmt_empty stmt_empty_pinned epidemic_no_state epidemic_no_jsonb row_plain row_plain_pinned"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --statements) statements="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    *) echo "writer-cost.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
db=epidemic_writer_cost
psql_db=(psql -h 127.0.0.1 -U postgres -qAt -v ON_ERROR_STOP=1 -d "$db")
psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" postgres >/dev/null
"${psql_db[@]}" -c "CREATE TABLE t (id bigserial PRIMARY KEY, name text, qty int, at timestamptz DEFAULT now())"
./epidemic watch t --url "jdbc:postgresql://127.0.0.1:5432/$db?user=postgres" >/dev/null
table_id=$("${psql_db[@]}" -c "SELECT id FROM epidemic.watched_table WHERE table_name = 't'")
"${psql_db[@]}" >/dev/null <<SQL
DROP TRIGGER epidemic_capture_insert ON t;
CREATE FUNCTION epidemic.cost_empty() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_empty_pinned() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_no_state() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  SELECT 0, rows.*, nextval('epidemic.change_id_seq'::regclass) FROM (SELECT pg_current_xact_id(), $table_id, 'I'::"char",
    jsonb_build_object('id', x.j->'id'), NULL::jsonb, x.j, statement_timestamp() FROM (SELECT to_jsonb(r) AS j FROM epidemic_inserted r) x) rows;
  RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_no_jsonb() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  SELECT 0, pg_current_xact_id(), $table_id, 'I', NULL, NULL, NULL, statement_timestamp(), nextval('epidemic.change_id_seq'::regclass) FROM epidemic_inserted r;
  RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_row_plain() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  VALUES (0, pg_current_xact_id(), $table_id, 'I', jsonb_build_object('id', NEW.id), NULL, to_jsonb(NEW), statement_timestamp(), nextval('epidemic.change_id_seq'));
  RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_row_plain_pinned() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  VALUES (0, pg_current_xact_id(), $table_id, 'I', jsonb_build_object('id', NEW.id), NULL, to_jsonb(NEW), statement_timestamp(), nextval('epidemic.change_id_seq'));
  RETURN NULL; END \$\$;
SQL

use_variant() {
  "${psql_db[@]}" -c "DROP TRIGGER IF EXISTS cost_insert ON t" 2>/dev/null
  local statement="CREATE TRIGGER cost_insert AFTER INSERT ON t REFERENCING NEW TABLE AS epidemic_inserted FOR EACH STATEMENT EXECUTE FUNCTION"
  local row="CREATE TRIGGER cost_insert AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION"
  case "$1" in
    none) ;;
    epidemic) "${psql_db[@]}" -c "$statement epidemic.capture_$table_id()" ;;
    stmt_empty) "${psql_db[@]}" -c "$statement epidemic.cost_empty()" ;;
    stmt_empty_pinned) "${psql_db[@]}" -c "$statement epidemic.cost_empty_pinned()" ;;
    epidemic_no_state) "${psql_db[@]}" -c "$statement epidemic.cost_no_state()" ;;
    epidemic_no_jsonb) "${psql_db[@]}" -c "$statement epidemic.cost_no_jsonb()" ;;
    row_plain) "${psql_db[@]}" -c "$row epidemic.cost_row_plain()" ;;
    row_plain_pinned) "${psql_db[@]}" -c "$row epidemic.cost_row_plain_pinned()" ;;
    *) echo "writer-cost.sh: unknown variant $1" >&2; exit 2 ;;
  esac
}

# Microseconds of backend CPU per INSERT statement.
cost_per_statement() {
  local before after
  before=$(mktemp); after=$(mktemp)
  "${psql_db[@]}" >/dev/null <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND :pid
\! awk '{print \$14 + \$15}' /proc/\$BACKEND/stat > $before
DO \$\$ BEGIN FOR i IN 1..$statements LOOP INSERT INTO t (name, qty) VALUES ('x', i); END LOOP; END \$\$;
\! awk '{print \$14 + \$15}' /proc/\$BACKEND/stat > $after
SQL
  local ticks_per_second
  ticks_per_second=$(getconf CLK_TCK)
  awk -v a="$(cat "$after")" -v b="$(cat "$before")" -v n="$statements" -v hz="$ticks_per_second" 'BEGIN { printf "%.1f", (a - b) / hz * 1e6 / n }'
  rm -f "$before" "$after"
}

echo "backend CPU per single-row INSERT, microseconds ($statements statements per variant and round)"
for r in $(seq "$rounds"); do
  line="round $r:"
  for v in $variants; do
    use_variant "$v"
    line="$line $v=$(cost_per_statement)"
  done
  echo "$line"
  "${psql_db[@]}" -c "TRUNCATE t, epidemic.change_log_0"
done

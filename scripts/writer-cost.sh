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
#   lean_stmt            prototype: the statement trigger, SECURITY DEFINER without SET (every name qualified),
#                        slot and wake-up read from a sequence (one simple expression) instead of log_state
#   lean_row             prototype: the same as a row trigger
#   lean_min             prototype: the statement trigger's INSERT alone, qualified, SECURITY DEFINER, no SET
#   stmt_empty_definer   a statement trigger with a transition table, an empty body, SECURITY DEFINER, no SET
# With --transactions, each statement is its own transaction (autocommit, from psql), as in an application,
# so costs paid once per transaction count too (PL/pgSQL prepares its simple expressions, and locks are
# taken, once per transaction); without it, all statements run in one transaction, which isolates the
# per-statement part.
# With --update, each statement is a single-row UPDATE of one of 1,000 rows instead (UPDATE variants: none,
# epidemic, row_plain, row_plain_pinned, lean_row).
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
cd "$(dirname "$0")/.."
rounds=5
update=0
transactions=0
statements=30000
variants="none epidemic stmt_empty stmt_empty_pinned epidemic_no_state epidemic_no_jsonb row_plain row_plain_pinned"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --statements) statements="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    --update) update=1; shift ;;
    --transactions) transactions=1; shift ;;
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
  VALUES (0, pg_current_xact_id(), $table_id, left(TG_OP, 1)::"char", jsonb_build_object('id', NEW.id), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END, to_jsonb(NEW), statement_timestamp(), nextval('epidemic.change_id_seq'));
  RETURN NULL; END \$\$;
CREATE SEQUENCE epidemic.cost_hint MINVALUE 0 MAXVALUE 7;
SELECT setval('epidemic.cost_hint', 0, true);
CREATE FUNCTION epidemic.cost_lean_min() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  SELECT 0, pg_catalog.pg_current_xact_id(), $table_id, 'I', pg_catalog.jsonb_build_object('id', r.id), NULL, pg_catalog.to_jsonb(r), pg_catalog.statement_timestamp(),
    pg_catalog.nextval('epidemic.change_id_seq'::pg_catalog.regclass) FROM epidemic_inserted r;
  RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_empty_definer() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE FUNCTION epidemic.cost_lean_stmt() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
DECLARE
  hint bigint := pg_catalog.pg_sequence_last_value('epidemic.cost_hint'::pg_catalog.regclass);
  logged bigint;
BEGIN
  IF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 0 THEN
    INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
    SELECT 0, rows.*, pg_catalog.nextval('epidemic.change_id_seq'::pg_catalog.regclass) FROM (SELECT pg_catalog.pg_current_xact_id(), $table_id, 'I'::pg_catalog."char",
      pg_catalog.jsonb_build_object('id', x.j OPERATOR(pg_catalog.->) 'id'), NULL::pg_catalog.jsonb, x.j, pg_catalog.statement_timestamp()
      FROM (SELECT pg_catalog.to_jsonb(r) AS j FROM epidemic_inserted r) x) rows;
  ELSIF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 1 THEN
    INSERT INTO epidemic.change_log_1 (slot, txid, table_id, op, key, old, new, at, id)
    SELECT 1, rows.*, pg_catalog.nextval('epidemic.change_id_seq'::pg_catalog.regclass) FROM (SELECT pg_catalog.pg_current_xact_id(), $table_id, 'I'::pg_catalog."char",
      pg_catalog.jsonb_build_object('id', x.j OPERATOR(pg_catalog.->) 'id'), NULL::pg_catalog.jsonb, x.j, pg_catalog.statement_timestamp()
      FROM (SELECT pg_catalog.to_jsonb(r) AS j FROM epidemic_inserted r) x) rows;
  END IF;
  GET DIAGNOSTICS logged = ROW_COUNT;
  IF logged OPERATOR(pg_catalog.>) 0 THEN
    IF pg_catalog.currval('epidemic.change_id_seq'::pg_catalog.regclass) OPERATOR(pg_catalog.%) 4096 OPERATOR(pg_catalog.<) logged THEN
      PERFORM epidemic.log_tick(pg_catalog.currval('epidemic.change_id_seq'::pg_catalog.regclass));
    END IF;
    IF hint OPERATOR(pg_catalog.>=) 4 THEN PERFORM pg_catalog.pg_notify('epidemic', ''); END IF;
  END IF;
  RETURN NULL;
END \$\$;
CREATE FUNCTION epidemic.cost_lean_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
DECLARE
  hint bigint := pg_catalog.pg_sequence_last_value('epidemic.cost_hint'::pg_catalog.regclass);
  logged_id bigint := pg_catalog.nextval('epidemic.change_id_seq'::pg_catalog.regclass);
  o pg_catalog.jsonb;
  n pg_catalog.jsonb;
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
    n := pg_catalog.to_jsonb(NEW);
    IF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 0 THEN
      INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id) VALUES (0, pg_catalog.pg_current_xact_id(), $table_id, 'I',
        pg_catalog.jsonb_build_object('id', n OPERATOR(pg_catalog.->) 'id'), NULL, n, pg_catalog.statement_timestamp(), logged_id);
    ELSIF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 1 THEN
      INSERT INTO epidemic.change_log_1 (slot, txid, table_id, op, key, old, new, at, id) VALUES (1, pg_catalog.pg_current_xact_id(), $table_id, 'I',
        pg_catalog.jsonb_build_object('id', n OPERATOR(pg_catalog.->) 'id'), NULL, n, pg_catalog.statement_timestamp(), logged_id);
    END IF;
  ELSE
    o := pg_catalog.to_jsonb(OLD);
    n := pg_catalog.to_jsonb(NEW);
    IF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 0 THEN
      INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id) VALUES (0, pg_catalog.pg_current_xact_id(), $table_id, 'U',
        pg_catalog.jsonb_build_object('id', n OPERATOR(pg_catalog.->) 'id'), o, n, pg_catalog.statement_timestamp(), logged_id);
    ELSIF hint OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 1 THEN
      INSERT INTO epidemic.change_log_1 (slot, txid, table_id, op, key, old, new, at, id) VALUES (1, pg_catalog.pg_current_xact_id(), $table_id, 'U',
        pg_catalog.jsonb_build_object('id', n OPERATOR(pg_catalog.->) 'id'), o, n, pg_catalog.statement_timestamp(), logged_id);
    END IF;
  END IF;
  IF logged_id OPERATOR(pg_catalog.%) 4096 OPERATOR(pg_catalog.=) 0 THEN
    PERFORM epidemic.log_tick(logged_id);
  END IF;
  IF hint OPERATOR(pg_catalog.>=) 4 THEN PERFORM pg_catalog.pg_notify('epidemic', ''); END IF;
  RETURN NULL;
END \$\$;
CREATE FUNCTION epidemic.cost_row_plain_pinned() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN
  INSERT INTO epidemic.change_log_0 (slot, txid, table_id, op, key, old, new, at, id)
  VALUES (0, pg_current_xact_id(), $table_id, left(TG_OP, 1)::"char", jsonb_build_object('id', NEW.id), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END, to_jsonb(NEW), statement_timestamp(), nextval('epidemic.change_id_seq'));
  RETURN NULL; END \$\$;
SQL
if [ "$update" = 1 ]; then
  "${psql_db[@]}" -c "CREATE TRIGGER epidemic_capture_insert AFTER INSERT ON t REFERENCING NEW TABLE AS epidemic_inserted FOR EACH STATEMENT EXECUTE FUNCTION epidemic.capture_$table_id()" \
    -c "DROP TRIGGER epidemic_capture_update ON t" -c "INSERT INTO t (name, qty) SELECT 'x', g FROM generate_series(1, 1000) g"
fi

use_variant() {
  "${psql_db[@]}" -c "DROP TRIGGER IF EXISTS cost_insert ON t" 2>/dev/null
  local statement="CREATE TRIGGER cost_insert AFTER INSERT ON t REFERENCING NEW TABLE AS epidemic_inserted FOR EACH STATEMENT EXECUTE FUNCTION"
  local row="CREATE TRIGGER cost_insert AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION"
  if [ "$update" = 1 ]; then
    statement="$row"  # the UPDATE capture is a row trigger
    row="CREATE TRIGGER cost_insert AFTER UPDATE ON t FOR EACH ROW WHEN (OLD.* *<> NEW.*) EXECUTE FUNCTION"
    [ "$1" = epidemic ] && { "${psql_db[@]}" -c "$row epidemic.capture_$table_id()"; return; }
  fi
  case "$1" in
    none) ;;
    epidemic) "${psql_db[@]}" -c "$statement epidemic.capture_$table_id()" ;;
    stmt_empty) "${psql_db[@]}" -c "$statement epidemic.cost_empty()" ;;
    stmt_empty_pinned) "${psql_db[@]}" -c "$statement epidemic.cost_empty_pinned()" ;;
    epidemic_no_state) "${psql_db[@]}" -c "$statement epidemic.cost_no_state()" ;;
    epidemic_no_jsonb) "${psql_db[@]}" -c "$statement epidemic.cost_no_jsonb()" ;;
    row_plain) "${psql_db[@]}" -c "$row epidemic.cost_row_plain()" ;;
    row_plain_pinned) "${psql_db[@]}" -c "$row epidemic.cost_row_plain_pinned()" ;;
    lean_stmt) "${psql_db[@]}" -c "$statement epidemic.cost_lean_stmt()" ;;
    lean_row) "${psql_db[@]}" -c "$row epidemic.cost_lean_row()" ;;
    lean_min) "${psql_db[@]}" -c "$statement epidemic.cost_lean_min()" ;;
    stmt_empty_definer) "${psql_db[@]}" -c "$statement epidemic.cost_empty_definer()" ;;
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
$(if [ "$transactions" = 1 ]; then cat "$statement_file"; else echo "DO \$\$ BEGIN FOR i IN 1..$statements LOOP $one_statement; END LOOP; END \$\$;"; fi)
\! awk '{print \$14 + \$15}' /proc/\$BACKEND/stat > $after
SQL
  local ticks_per_second
  ticks_per_second=$(getconf CLK_TCK)
  awk -v a="$(cat "$after")" -v b="$(cat "$before")" -v n="$statements" -v hz="$ticks_per_second" 'BEGIN { printf "%.1f", (a - b) / hz * 1e6 / n }'
  rm -f "$before" "$after"
}

one_statement="INSERT INTO t (name, qty) VALUES ('x', i)"
[ "$update" = 1 ] && one_statement="UPDATE t SET qty = qty + 1 WHERE id = 1 + i % 1000"
statement_file=$(mktemp)
trap 'rm -f "$statement_file"' EXIT
if [ "$transactions" = 1 ]; then
  prepared="INSERT INTO t (name, qty) VALUES ('x', \$1)"
  [ "$update" = 1 ] && prepared="UPDATE t SET qty = qty + 1 WHERE id = 1 + \$1 % 1000"
  echo "PREPARE one(int) AS $prepared;" > "$statement_file"
  seq "$statements" | sed 's/.*/EXECUTE one(&);/' >> "$statement_file"
  echo "DEALLOCATE one;" >> "$statement_file"
fi
echo "backend CPU per single-row $( [ "$update" = 1 ] && echo UPDATE || echo INSERT ), microseconds ($statements statements per variant and round$( [ "$transactions" = 1 ] && echo ", each its own transaction"))"
for r in $(seq "$rounds"); do
  line="round $r:"
  for v in $variants; do
    use_variant "$v"
    line="$line $v=$(cost_per_statement)"
  done
  echo "$line"
  if [ "$update" = 1 ]; then "${psql_db[@]}" -c "TRUNCATE epidemic.change_log_0, epidemic.change_log_1"; else "${psql_db[@]}" -c "TRUNCATE t, epidemic.change_log_0, epidemic.change_log_1"; fi
done

#!/usr/bin/env bash
# What capture costs writers on MariaDB, and how much of it is the system-versioned log (the transaction
# registry row that transaction-precise versioning writes per transaction; issue 12). Tables alike, each
# with its own trigger:
#   none       no trigger
#   epidemic   watched by ./epidemic
#   plain      a copy of Epidemic's INSERT trigger writing to a log without system versioning (what a reader
#              of ids and gaps alone, without commit order from the transaction registry, would need)
#   nohandler  plain without the trigger's CONTINUE HANDLER (which keeps writes working through renames)
#   minimal    an unversioned log row with no JSON at all: the floor of any trigger that logs a row
# Each variant: S sessions at once, each CALLing a procedure that runs
# N single-row autocommit INSERTs; rows/s over the wall time. Variants alternate within each round.
#
# With --cpu, one session runs the INSERTs and the figure is the server's CPU time (utime + stime of mariadbd
# from /proc, so the server must be local) per INSERT, in microseconds: unlike rows/s it does not move with
# the disk's fsync latency, which makes the throughput figures of this machine vary by 2x between rounds.
#
# Usage: scripts/writer-cost-mariadb.sh [--rounds R] [--statements N] [--sessions S] [--cpu]
# Uses a fresh database "epidemic_writer_cost" on 127.0.0.1:3306 (user root).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
statements=8000
sessions=8
cpu=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --statements) statements="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --cpu) cpu=1; shift ;;
    *) echo "writer-cost-mariadb.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
db=epidemic_writer_cost
mysql_db=(mysql -h 127.0.0.1 -u root -N "$db")
mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
for table in t_none t_epidemic t_plain t_nohandler t_minimal; do
  "${mysql_db[@]}" -e "CREATE TABLE $table (id bigint AUTO_INCREMENT PRIMARY KEY, v int, s varchar(64))"
done
./epidemic watch t_epidemic --url "jdbc:mariadb://127.0.0.1:3306/$db?user=root" >/dev/null 2>&1
# The plain variant is the trigger Epidemic generates for t_epidemic, pointed at an unversioned log.
trigger=$("${mysql_db[@]}" -e "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
  WHERE TRIGGER_SCHEMA = '$db' AND EVENT_OBJECT_TABLE = 't_epidemic' AND EVENT_MANIPULATION = 'INSERT'")
trigger=${trigger//\`$db\`.\`epidemic_change_log\`/plain_log}
without_handler=$(sed 's/DECLARE CONTINUE HANDLER FOR 1054 [^;]*;//' <<<"$trigger")
"${mysql_db[@]}" <<SQL
CREATE TABLE plain_log (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, table_id int NOT NULL, op char(1) NOT NULL,
  \`key\` longtext, old longtext, new longtext, at decimal(17,6) NOT NULL, backfill_id int, filter_mask bigint);
DELIMITER //
CREATE TRIGGER plain_insert AFTER INSERT ON t_plain FOR EACH ROW $trigger//
CREATE TRIGGER nohandler_insert AFTER INSERT ON t_nohandler FOR EACH ROW $without_handler//
CREATE TRIGGER minimal_insert AFTER INSERT ON t_minimal FOR EACH ROW INSERT INTO plain_log (table_id, op, at) VALUES (9, 'I', 0)//
CREATE PROCEDURE insert_rows(p_table varchar(64), n int) BEGIN
  DECLARE i int DEFAULT 0;
  SET @sql = CONCAT('INSERT INTO ', p_table, ' (v, s) VALUES (?, ''x'')');
  PREPARE st FROM @sql;
  WHILE i < n DO SET @i = i; EXECUTE st USING @i; SET i = i + 1; END WHILE;
  DEALLOCATE PREPARE st;
END//
DELIMITER ;
SQL

server_cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$(pgrep -o -x mariadbd)/stat"
}

if [ "$cpu" = 1 ]; then
  echo "server CPU per single-row autocommit INSERT, microseconds, one session x $statements"
  for r in $(seq "$rounds"); do
    line="round $r:"
    for variant in none epidemic plain nohandler minimal; do
      before=$(server_cpu_ticks)
      "${mysql_db[@]}" -e "CALL insert_rows('t_$variant', $statements)"
      after=$(server_cpu_ticks)
      line="$line $variant=$(awk -v a="$after" -v b="$before" -v n="$statements" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (a - b) / hz * 1e6 / n }')"
    done
    echo "$line"
  done
  exit 0
fi

echo "single-row autocommit INSERTs per second, $sessions sessions x $statements each"
for r in $(seq "$rounds"); do
  line="round $r:"
  for variant in none epidemic plain nohandler minimal; do
    start=$(date +%s%N)
    for _ in $(seq "$sessions"); do "${mysql_db[@]}" -e "CALL insert_rows('t_$variant', $statements)" & done
    wait
    end=$(date +%s%N)
    line="$line $variant=$(( sessions * statements * 1000000000 / (end - start) ))"
  done
  echo "$line"
done

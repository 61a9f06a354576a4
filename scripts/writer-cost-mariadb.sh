#!/usr/bin/env bash
# What capture costs writers on MariaDB, and how much of it is the system-versioned log (the transaction
# registry row that transaction-precise versioning writes per transaction; issue 12). Three tables alike:
# none (no trigger), epidemic (watched by ./epidemic), plain (a copy of Epidemic's INSERT trigger writing
# to a log without system versioning). Each variant: S sessions at once, each CALLing a procedure that runs
# N single-row autocommit INSERTs; rows/s over the wall time. Variants alternate within each round.
#
# Usage: scripts/writer-cost-mariadb.sh [--rounds R] [--statements N] [--sessions S]
# Uses a fresh database "epidemic_writer_cost" on 127.0.0.1:3306 (user root).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
statements=8000
sessions=8
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --statements) statements="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    *) echo "writer-cost-mariadb.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
db=epidemic_writer_cost
mysql_db=(mysql -h 127.0.0.1 -u root -N "$db")
mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
for table in t_none t_epidemic t_plain; do
  "${mysql_db[@]}" -e "CREATE TABLE $table (id bigint AUTO_INCREMENT PRIMARY KEY, v int, s varchar(64))"
done
./epidemic watch t_epidemic --url "jdbc:mariadb://127.0.0.1:3306/$db?user=root" >/dev/null 2>&1
# The plain variant is the trigger Epidemic generates for t_epidemic, pointed at an unversioned log.
trigger=$("${mysql_db[@]}" -e "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS
  WHERE TRIGGER_SCHEMA = '$db' AND EVENT_OBJECT_TABLE = 't_epidemic' AND EVENT_MANIPULATION = 'INSERT'")
trigger=${trigger//\`$db\`.\`epidemic_change_log\`/plain_log}
"${mysql_db[@]}" <<SQL
CREATE TABLE plain_log (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, table_id int NOT NULL, op char(1) NOT NULL,
  \`key\` longtext, old longtext, new longtext, at decimal(17,6) NOT NULL, backfill_id int, filter_mask bigint);
DELIMITER //
CREATE TRIGGER plain_insert AFTER INSERT ON t_plain FOR EACH ROW $trigger//
CREATE PROCEDURE insert_rows(p_table varchar(64), n int) BEGIN
  DECLARE i int DEFAULT 0;
  SET @sql = CONCAT('INSERT INTO ', p_table, ' (v, s) VALUES (?, ''x'')');
  PREPARE st FROM @sql;
  WHILE i < n DO SET @i = i; EXECUTE st USING @i; SET i = i + 1; END WHILE;
  DEALLOCATE PREPARE st;
END//
DELIMITER ;
SQL

echo "single-row autocommit INSERTs per second, $sessions sessions x $statements each"
for r in $(seq "$rounds"); do
  line="round $r:"
  for variant in none epidemic plain; do
    start=$(date +%s%N)
    for _ in $(seq "$sessions"); do "${mysql_db[@]}" -e "CALL insert_rows('t_$variant', $statements)" & done
    wait
    end=$(date +%s%N)
    line="$line $variant=$(( sessions * statements * 1000000000 / (end - start) ))"
  done
  echo "$line"
done

#!/usr/bin/env bash
# A first example: watch a table, change some rows, and print what a consumer receives.
# Usage: scripts/example.sh   (the local server's database "test", as user postgres; psql writes the rows)
set -euo pipefail
cd "$(dirname "$0")/.."
export EPIDEMIC_URL="jdbc:postgresql://127.0.0.1:5432/test?user=postgres"
export PGOPTIONS="--client-min-messages=warning"
# The example keeps its log in a schema of its own, dropped at the end, so it leaves nothing behind.
epidemic() { ./epidemic --schema epidemic_example "$@"; }

sql() {
  local args=()
  for statement in "$@"; do args+=(-c "$statement"); done
  psql -X -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 "${args[@]}"
}

epidemic --help >/dev/null            # builds the jar on first use
echo "# a table of mail users"
sql "DROP TABLE IF EXISTS example_mail_users" \
    "CREATE TABLE example_mail_users (id int PRIMARY KEY, username text, quota_bytes bigint, last_login timestamptz)"
echo "# ./epidemic watch example_mail_users --columns username,quota_bytes"
epidemic watch example_mail_users --columns username,quota_bytes
echo "# three changes, one rolled back, one that touches no watched column"
sql "INSERT INTO example_mail_users VALUES (1, 'ann', 1000000, NULL)" \
    "BEGIN; INSERT INTO example_mail_users VALUES (2, 'never', 1, NULL); ROLLBACK" \
    "UPDATE example_mail_users SET last_login = now() WHERE id = 1" \
    "UPDATE example_mail_users SET quota_bytes = 2000000 WHERE id = 1" \
    "DELETE FROM example_mail_users WHERE id = 1"
echo "# ./epidemic tail --consumer example --table example_mail_users --idle-exit 1"
epidemic tail --consumer example --table example_mail_users --idle-exit 1
echo "# ./epidemic status"
epidemic status
sql "DROP TABLE example_mail_users" "DROP SCHEMA epidemic_example CASCADE"

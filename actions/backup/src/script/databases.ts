// The host scripts that dump, restore and count the rows of the `databases`: inside the service's
// own container (docker compose exec) for the live database, in a throw-away container of the
// service's image for verify's scratch restores. Host-side values are named variables (PROJECT,
// SERVICE, DATABASE, IN_CONTAINER, ...); what runs inside a container gets them as its positional
// parameters, never pasted into its text.
import { bash } from '../../../../lib/ssh/host-script.js';
import { BACKUP_SHELL, fromFile } from './shell.js';

/**
 * What runs inside a postgres service container to get credentials from the container's own
 * configuration (POSTGRES_PASSWORD_FILE, a secret file, or POSTGRES_PASSWORD): they stay in the
 * container, never on a command line. `$1` is the tool, `$2` the database, then its options.
 */
export const PG_IN_CONTAINER = bash`set -eu
tool=$1; db=$2; shift 2
if [ -n "$\{POSTGRES_PASSWORD_FILE:-}" ] && [ -r "$POSTGRES_PASSWORD_FILE" ]; then
  PGPASSWORD=$(cat "$POSTGRES_PASSWORD_FILE"); export PGPASSWORD
elif [ -n "$\{POSTGRES_PASSWORD:-}" ]; then
  PGPASSWORD=$POSTGRES_PASSWORD; export PGPASSWORD
fi
if [ -n "$\{PGPASSWORD:-}" ]; then set -- --host=127.0.0.1 "$@"; fi
exec "$tool" --username="$\{POSTGRES_USER:-postgres}" --dbname="$db" "$@"
`;

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER (PG_IN_CONTAINER): a custom-format pg_dump on stdout. */
export const PG_DUMP = bash`docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-pg pg_dump \
  "$DATABASE" --format=custom --no-owner --no-privileges
`;

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER, STAGED_FILE: restores the custom-format dump, in one transaction. */
export const PG_RESTORE =
  fromFile(bash`docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-pg \
  pg_restore "$DATABASE" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error
`);

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER, QUERY: the query's rows (psql -At). */
export const PG_QUERY = bash`docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-pg psql \
  "$DATABASE" -X -A -t -v ON_ERROR_STOP=1 -c "$QUERY"
`;

/** Exact row counts of every table, `schema.table|count` lines, ordered (run with psql -At). */
export const ROW_COUNTS_SQL =
  "SELECT format('%I.%I', table_schema, table_name) || '|' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/**
 * IMAGE (the service's own postgres image), QUERY, STAGED_FILE. Restores the custom-format dump into
 * a scratch cluster in a throw-away container with no network, and prints the query's rows.
 */
export const PG_SCRATCH_RESTORE =
  fromFile(bash`docker run --rm -i --network none --log-driver none --entrypoint sh -- "$IMAGE" -c '
set -eu
d=$(mktemp -d)
initdb -D "$d/data" -U postgres --auth=trust >/dev/null
pg_ctl -D "$d/data" -o "-c listen_addresses= -k $d" -w start >/dev/null
createdb -h "$d" -U postgres scratch
pg_restore -h "$d" -U postgres -d scratch --no-owner --no-privileges --exit-on-error
psql -h "$d" -U postgres -d scratch -X -A -t -v ON_ERROR_STOP=1 -c "$1"
pg_ctl -D "$d/data" -m fast -w stop >/dev/null
' berth-verify "$QUERY"
`);

// ---- MySQL / MariaDB ---------------------------------------------------------------------------

/**
 * What runs inside a mysql/mariadb service container: the credentials come from the container's own
 * configuration (the official images' *_ROOT_PASSWORD_FILE, *_ROOT_PASSWORD, or *_USER with
 * *_PASSWORD[_FILE]) and reach the client through a 0600 defaults file in the container's /tmp,
 * removed when the client ends: never a command line or the runner's environment. `$1` is `dump`
 * (mariadb-dump or mysqldump) or `client` (mariadb or mysql), `$2` the database, then the tool's options.
 */
export const MY_IN_CONTAINER = bash`set -eu
kind=$1; db=$2; shift 2
case $kind in dump) tools="mariadb-dump mysqldump" ;; *) tools="mariadb mysql" ;; esac
bin=
for t in $tools; do if command -v "$t" >/dev/null 2>&1; then bin=$t; break; fi; done
[ -n "$bin" ] || { echo "berth: neither of $tools is in the container" >&2; exit 127; }
secret() { if [ -n "$1" ] && [ -r "$1" ]; then cat "$1"; else printf '%s' "$2"; fi; }
user=root
password=$(secret "$\{MARIADB_ROOT_PASSWORD_FILE:-}" "$\{MARIADB_ROOT_PASSWORD:-}")
[ -n "$password" ] || password=$(secret "$\{MYSQL_ROOT_PASSWORD_FILE:-}" "$\{MYSQL_ROOT_PASSWORD:-}")
if [ -z "$password" ]; then
  for prefix in MARIADB MYSQL; do
    eval "u=\$\{$\{prefix}_USER:-}; f=\$\{$\{prefix}_PASSWORD_FILE:-}; p=\$\{$\{prefix}_PASSWORD:-}"
    if [ -n "$u" ]; then user=$u; password=$(secret "$f" "$p"); break; fi
  done
fi
umask 077
cnf=$(mktemp)
trap 'rm -f "$cnf"' EXIT
# Option-file syntax: a double-quoted value with \\ \" and \n escaped.
quote() { printf '%s' "$1" | sed ':a;$!{N;ba};s/\\/\\\\/g;s/"/\\"/g;s/\n/\\n/g'; }
printf '[client]\nuser="%s"\n' "$(quote "$user")" >"$cnf"
if [ -n "$password" ]; then printf 'password="%s"\n' "$(quote "$password")" >>"$cnf"; fi
"$bin" --defaults-extra-file="$cnf" "$@" "$db"
`;

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER (MY_IN_CONTAINER), COMPRESSION: a consistent SQL dump, compressed, on stdout. */
export const MY_DUMP = bash`${BACKUP_SHELL}
docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-my dump "$DATABASE" --single-transaction \
  --routines --triggers --events --hex-blob --default-character-set=utf8mb4 | compress "$COMPRESSION"
`;

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER, COMPRESSION, STAGED_FILE: restores the compressed SQL dump. */
export const MY_RESTORE = fromFile(bash`${BACKUP_SHELL}
decompress "$COMPRESSION" | docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-my client \
  "$DATABASE" --default-character-set=utf8mb4
`);

/** PROJECT, SERVICE, DATABASE, IN_CONTAINER, QUERY: the rows, tab-separated, no header. */
export const MY_QUERY = bash`docker compose -p "$PROJECT" exec -T "$SERVICE" sh -c "$IN_CONTAINER" berth-my client "$DATABASE" \
  -N -B -e "$QUERY"
`;

/** Exact row counts of every table of the current database, `table|count` lines, ordered (run with -N -B). */
export const MY_ROW_COUNTS_SQL =
  "SET SESSION group_concat_max_len = 4194304; SELECT GROUP_CONCAT(CONCAT('SELECT CONCAT(', QUOTE(table_name), ', ''|'', COUNT(*)) FROM `', REPLACE(table_name, '`', '``'), '`') ORDER BY table_name SEPARATOR ' UNION ALL ') INTO @berth_q FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'; SET @berth_q = COALESCE(@berth_q, 'SELECT 1 FROM DUAL WHERE FALSE'); PREPARE berth_s FROM @berth_q; EXECUTE berth_s; DEALLOCATE PREPARE berth_s;";

/**
 * IMAGE (the service's own mysql/mariadb image), COMPRESSION, QUERY, STAGED_FILE. Restores the
 * compressed SQL dump into a scratch server in a throw-away container with no network (a fresh data
 * directory, root by socket), and prints the query's rows.
 */
export const MY_SCRATCH_RESTORE = fromFile(bash`${BACKUP_SHELL}
decompress "$COMPRESSION" | docker run --rm -i --network none --user 0:0 --log-driver none --entrypoint sh -- "$IMAGE" -c '
set -eu
first() { for t in "$@"; do if command -v "$t" >/dev/null 2>&1; then echo "$t"; return 0; fi; done; echo "berth: none of $* in the image" >&2; return 127; }
server=$(first mariadbd mysqld)
client=$(first mariadb mysql)
d=$(mktemp -d)
mkdir "$d/data"
chown mysql "$d" "$d/data"
if command -v mariadb-install-db >/dev/null 2>&1; then
  mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" --skip-test-db >"$d/init.log" 2>&1
elif command -v mysql_install_db >/dev/null 2>&1 && [ "$server" = mariadbd ]; then
  mysql_install_db --no-defaults --user=mysql --datadir="$d/data" >"$d/init.log" 2>&1
else
  "$server" --no-defaults --initialize-insecure --user=mysql --datadir="$d/data" >"$d/init.log" 2>&1
fi
"$server" --no-defaults --user=mysql --datadir="$d/data" --socket="$d/sock" --skip-networking \
  --pid-file="$d/pid" >"$d/server.log" 2>&1 &
i=0
until "$client" --no-defaults --socket="$d/sock" -uroot -e "SELECT 1" >/dev/null 2>&1; do
  i=$((i + 1)); if [ "$i" -ge 240 ]; then cat "$d/server.log" >&2; exit 1; fi; sleep 0.5
done
"$client" --no-defaults --socket="$d/sock" -uroot -e "CREATE DATABASE scratch"
"$client" --no-defaults --socket="$d/sock" -uroot --default-character-set=utf8mb4 scratch
"$client" --no-defaults --socket="$d/sock" -uroot -N -B -e "$1" scratch
kill "$(cat "$d/pid")"
' berth-verify "$QUERY"
`);

// The commands berth/backup runs on the hosts. Every script body is static text; values reach it
// only as positional parameters (SshSession.script's `args`), so nothing from the inputs is ever
// parsed as shell. Scripts report through `::berth::key=value` lines on stdout where they need to.
import { BACKUP_ID_PATTERN, MANIFEST_FORMAT } from './constants.js';

/** Shared prelude: strict mode, a reporter, the compressions (`compression` input) as filters. */
const PRELUDE = String.raw`set -Eeuo pipefail
emit() { printf '::berth::%s=%s\n' "$1" "$2"; }
compress() {
  case "$1" in zstd) zstd -q -c -T0 ;; gzip) gzip -c ;; none) cat ;; *) echo "berth: unknown compression $1" >&2; return 2 ;; esac
}
decompress() {
  case "$1" in zstd) zstd -q -d -c ;; gzip) gzip -d -c ;; none) cat ;; *) echo "berth: unknown compression $1" >&2; return 2 ;; esac
}
# A FIFO that a helper container reads or writes its tar stream through (bind-mounted at
# /berth-pipe) instead of docker's attach, which copies every byte through dockerd and the
# containerd shim: two to three times slower, and dockerd busy. The directory is 0700, so only
# this user reaches the FIFO; the FIFO is 0666 so that a container root remapped by userns-remap
# can open it through the mount.
open_pipe() {
  pipe_dir=$(mktemp -d "$\{TMPDIR:-/tmp}/berth-pipe-XXXXXXXX")
  trap 'rm -rf -- "$pipe_dir"' EXIT
  pipe=$pipe_dir/p
  mkfifo -m 666 -- "$pipe"
}
# Runs the command (a docker run on the pipe) in the background as $helper. When it ends, the FIFO
# is opened and closed once, so that our end, if still waiting for the container to open it (the
# container failed first), is released instead of waiting forever.
run_on_pipe() {
  ( "$@" && rc=0 || rc=$?; { : <>"$pipe"; } 2>/dev/null; exit "$rc" ) &
  helper=$!
}
`.replaceAll('$\\{', '${');

/**
 * A script that reads its stdin from a file on the host: `$1` is the file, the script's own
 * parameters follow (for dumps staged on the host by restore and verify).
 */
export function fromFile(script: string): string {
  return `exec <"$1"\nshift\n${script}`;
}

/**
 * $1 project. Reports each named volume of the project (`volume=<docker name> <compose name>`) and
 * the image of one of its containers (`image=`), the default helper image.
 */
export const DISCOVER = String.raw`${PRELUDE}
docker volume ls --filter "label=com.docker.compose.project=$1" \
  --format '{{.Name}} {{.Label "com.docker.compose.volume"}}' | sort | while read -r name short; do
  emit volume "$name $short"
done
# The image id (not the name, which may not resolve on the host) of the first service's container.
container=$(docker ps -a --filter "label=com.docker.compose.project=$1" \
  --format '{{.Label "com.docker.compose.service"}} {{.ID}}' | sort | head -n 1 | cut -d' ' -f2)
if [ -n "$container" ]; then emit image "$(docker inspect -f '{{.Image}}' "$container")"; fi
`;

/**
 * $1 helper image: whether its containers can use a FIFO of ours (see open_pipe). Not where the
 * daemon cannot see this user's temp dir (a remote DOCKER_HOST, the snap's private /tmp): there
 * the tar streams go through docker's attach. Reports `transport=pipe` or `transport=attach`, and
 * `fifo=unseen` when a container ran but did not find the FIFO (a container that cannot run at all
 * says nothing of the FIFO: the step's next docker run reports why).
 */
export const PIPE_CHECK = String.raw`${PRELUDE}
open_pipe
seen=$(docker run --rm --network none --log-driver none -v "$pipe:/berth-pipe" --entrypoint sh -- "$1" \
  -c 'if [ -p /berth-pipe ]; then echo yes; else echo no; fi' 2>/dev/null) || seen=
case $seen in
  yes) emit transport pipe ;;
  no) emit transport attach; emit fifo unseen ;;
  *) emit transport attach ;;
esac
`;

/**
 * $1 helper image, $2 volume, $3 compression, $4 transport (PIPE_CHECK's): the volume as a
 * compressed tar stream on stdout.
 */
export const ARCHIVE_VOLUME = String.raw`${PRELUDE}
tar_of_volume=(docker run --rm --network none --user 0:0 --log-driver none -v "$2:/v:ro")
if [ "$4" = pipe ]; then
  open_pipe
  run_on_pipe "$\{tar_of_volume[@]}" -v "$pipe:/berth-pipe" --entrypoint tar -- "$1" \
    -C /v --numeric-owner -cf /berth-pipe .
  compress "$3" <"$pipe"
  wait "$helper"
else
  "$\{tar_of_volume[@]}" --entrypoint tar -- "$1" -C /v --numeric-owner -cf - . | compress "$3"
fi
`.replaceAll('$\\{', '${');

/**
 * What runs inside a postgres service container to get credentials from the container's own
 * configuration (POSTGRES_PASSWORD_FILE, a secret file, or POSTGRES_PASSWORD): they stay in the
 * container, never on a command line. Then `$@` (pg_dump or pg_restore arguments) runs.
 */
const PG_IN_CONTAINER = String.raw`set -eu
tool=$1; db=$2; shift 2
if [ -n "$\{POSTGRES_PASSWORD_FILE:-}" ] && [ -r "$POSTGRES_PASSWORD_FILE" ]; then
  PGPASSWORD=$(cat "$POSTGRES_PASSWORD_FILE"); export PGPASSWORD
elif [ -n "$\{POSTGRES_PASSWORD:-}" ]; then
  PGPASSWORD=$POSTGRES_PASSWORD; export PGPASSWORD
fi
if [ -n "$\{PGPASSWORD:-}" ]; then set -- --host=127.0.0.1 "$@"; fi
exec "$tool" --username="$\{POSTGRES_USER:-postgres}" --dbname="$db" "$@"
`.replaceAll('$\\{', '${');

/** $1 project, $2 service, $3 database: a custom-format pg_dump on stdout. */
export const PG_DUMP = String.raw`set -Eeuo pipefail
docker compose -p "$1" exec -T "$2" sh -c "$4" berth-pg pg_dump "$3" --format=custom --no-owner --no-privileges
`;

/** $1 project, $2 service, $3 database: restores the custom-format dump on stdin, in one transaction. */
export const PG_RESTORE = String.raw`set -Eeuo pipefail
docker compose -p "$1" exec -T "$2" sh -c "$4" berth-pg pg_restore "$3" --clean --if-exists --no-owner \
  --no-privileges --single-transaction --exit-on-error
`;

/** The arguments of PG_DUMP / PG_RESTORE. */
export function pgArgs(project: string, service: string, database: string): string[] {
  return [project, service, database, PG_IN_CONTAINER];
}

/** $1 project, $2 service, $3 timeout seconds: waits until the service's containers are healthy (or running without a health check). */
export const WAIT_HEALTHY = String.raw`${PRELUDE}
deadline=$(($(date +%s) + $3))
while :; do
  ids=$(docker ps -q --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2")
  ok=1
  [ -n "$ids" ] || ok=0
  for id in $ids; do
    state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
    case "$state" in healthy | running) ;; *) ok=0 ;; esac
  done
  [ "$ok" = 1 ] && exit 0
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "berth: service $2 is not healthy after $3 s" >&2; exit 1; fi
  sleep 1
done
`;

/**
 * $1 project, $2 label (berth.backup.stop=true), $3.. services. Stops the running containers of the
 * services and those with the label, says `stopped=`, then waits for stdin to close (the action is
 * done with the volumes, or its connection died) and starts them again, whatever happened.
 */
export const HOLD_STOPPED = String.raw`${PRELUDE}
project=$1 label=$2; shift 2
ids=()
while read -r id; do [ -n "$id" ] && ids+=("$id"); done < <({
  for service in "$@"; do
    docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$service"
  done
  docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=$label"
} | sort -u)
restart() {
  if [ "$\{#ids[@]}" -gt 0 ]; then docker start "$\{ids[@]}" >/dev/null; fi
  emit started "$\{#ids[@]}"
}
trap restart EXIT
trap 'exit 1' HUP INT TERM PIPE
if [ "$\{#ids[@]}" -gt 0 ]; then docker stop "$\{ids[@]}" >/dev/null; fi
emit stopped "$\{#ids[@]}"
cat >/dev/null
`.replaceAll('$\\{', '${');

/** $1 dir, $2 file name: stdin to dir/name, through name.part so a partial upload is never the file. */
export const WRITE_FILE = String.raw`set -Eeuo pipefail
umask 077
mkdir -p -- "$1"
cat >"$1/$2.part"
mv -f -- "$1/$2.part" "$1/$2"
`;

/** $1 dir, $2 file name: the file on stdout. */
export const READ_FILE = String.raw`set -Eeuo pipefail
exec cat -- "$1/$2"
`;

/**
 * $1 dir. One line per backup directory: `complete <id>` (it has Berth's manifest) or `partial <id>`
 * (an interrupted run). Anything whose name is not a backup id is not listed, so never touched.
 */
export const LIST_BACKUPS = String.raw`${PRELUDE}
[ -d "$1" ] || exit 0
for dir in "$1"/*/; do
  [ -d "$dir" ] || continue
  id=$(basename "$dir")
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || continue
  if [ -f "$dir/manifest.json" ] && grep -q '"format": *"${MANIFEST_FORMAT}"' "$dir/manifest.json"; then
    emit complete "$id"
  else
    emit partial "$id"
  fi
done
`;

/** $1 dir, $2.. backup ids to delete. */
export const REMOVE_BACKUPS = String.raw`set -Eeuo pipefail
dir=$1; shift
for id in "$@"; do
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || { echo "berth: refusing to delete $id" >&2; exit 2; }
  rm -rf -- "$dir/$id"
done
`;

/**
 * $1 helper image, $2 project, $3 compose volume name, $4 temp volume, $5 compression, $6 transport
 * (PIPE_CHECK's). Makes the temp volume and unpacks the compressed tar on stdin into it; the live
 * volume is not touched.
 */
export const UNPACK_TO_TEMP = String.raw`${PRELUDE}
docker volume create --label berth.restore-temp=1 --label "berth.restore-for=$2_$3" -- "$4" >/dev/null
# tar stops at the archive's end marker; the rest (padding) is read too, so the writer never
# sees a closed pipe for a good archive.
unpack='tar -C /v --numeric-owner -xpf - && cat >/dev/null'
untar=(docker run --rm --network none --user 0:0 --log-driver none -v "$4:/v")
if [ "$6" = pipe ]; then
  open_pipe
  run_on_pipe "$\{untar[@]}" -v "$pipe:/berth-pipe" --entrypoint sh -- "$1" -c "exec </berth-pipe; $unpack"
  decompress "$5" >"$pipe" && wrote=0 || wrote=$?
  wait "$helper"
  exit "$wrote"
else
  decompress "$5" | "$\{untar[@]}" -i --entrypoint sh -- "$1" -c "$unpack"
fi
`.replaceAll('$\\{', '${');

/**
 * $1 helper image, $2 project, $3 compose volume name, $4 temp volume. Stops the containers using the
 * project's volume, replaces its content with the temp volume's, starts them again (always), and
 * removes the temp volume. Creates the volume, with compose's labels, if it is missing.
 *
 * When both are `local` volumes in the same directory (/var/lib/docker/volumes), that directory is
 * mounted once and the temp volume's entries are renamed into the live one: no data is copied, so
 * the swap takes as long as deleting the old content. Otherwise the content is copied with tar.
 */
export const SWAP_IN = String.raw`${PRELUDE}
image=$1 project=$2 short=$3 temp=$4
target=$(docker volume ls -q --filter "label=com.docker.compose.project=$project" \
  --filter "label=com.docker.compose.volume=$short" | head -n 1)
if [ -z "$target" ]; then
  target="$\{project}_$short"
  docker volume create --label "com.docker.compose.project=$project" \
    --label "com.docker.compose.volume=$short" -- "$target" >/dev/null
fi
mapfile -t ids < <(docker ps -q --filter "volume=$target")
restart() {
  if [ "$\{#ids[@]}" -gt 0 ]; then docker start "$\{ids[@]}" >/dev/null; fi
  docker volume rm -f -- "$temp" >/dev/null 2>&1 || true
}
trap restart EXIT
if [ "$\{#ids[@]}" -gt 0 ]; then docker stop "$\{ids[@]}" >/dev/null; fi
from=$(docker volume inspect -f '{{.Driver}} {{.Mountpoint}}' -- "$temp")
to=$(docker volume inspect -f '{{.Driver}} {{.Mountpoint}}' -- "$target")
root=$(dirname -- "$(dirname -- "$\{to#local }")")
if [ "$\{from%% *}" = local ] && [ "$\{to%% *}" = local ] && [ "$\{from#local }" = "$root/$temp/_data" ] \
  && [ "$\{to#local }" = "$root/$target/_data" ]; then
  docker run --rm --network none --user 0:0 --log-driver none -v "$root:/volumes" --entrypoint sh -- "$image" -c '
    set -eu
    from=/volumes/$1/_data to=/volumes/$2/_data
    find "$to" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    find "$from" -mindepth 1 -maxdepth 1 -exec mv -- {} "$to/" \;
    chown "$(stat -c %u:%g "$from")" "$to"
    chmod "$(stat -c %a "$from")" "$to"' berth-swap "$temp" "$target"
  emit swapped rename
else
  docker run --rm --network none --user 0:0 --log-driver none -v "$temp:/from:ro" -v "$target:/to" \
    --entrypoint sh -- "$image" -c 'find /to -mindepth 1 -delete && tar -C /from -cf - . | tar -C /to --numeric-owner -xpf -'
  emit swapped copy
fi
emit restored "$target"
`.replaceAll('$\\{', '${');

/**
 * $1 temp volume: removes it (a restore that failed before the swap). A transfer that was cut off
 * may leave its unpacking container still running on the volume: such containers are ours (the
 * volume's name is random), so they are removed first.
 */
export const DROP_TEMP = String.raw`for i in 1 2 3 4 5 6 7 8 9 10; do
  docker volume rm -f -- "$1" >/dev/null 2>&1 && exit 0
  ids=$(docker ps -aq --filter "volume=$1")
  if [ -n "$ids" ]; then docker rm -f $ids >/dev/null 2>&1 || true; fi
  sleep 0.5
done
echo "berth: could not remove the temporary volume $1" >&2
`;

/**
 * The content of a volume as one digest: the sorted list of every path, then every file's hash,
 * hashed with sha256. $1 helper image, $2 volume, $3 the per-file hash tool: `b2sum` or
 * `sha256sum`, or empty to take b2sum when the image has it (coreutils' b2sum is about 3x faster
 * than its sha256sum, which has no SHA instructions). Reports `content=<file count> <sha256> <tool>`.
 */
export const VOLUME_DIGEST = String.raw`${PRELUDE}
out=$(docker run --rm --network none --user 0:0 --log-driver none -v "$2:/v:ro" --entrypoint sh -- "$1" -c '
  set -eu
  tool=$1
  if [ -z "$tool" ]; then
    if command -v b2sum >/dev/null 2>&1; then tool=b2sum; else tool=sha256sum; fi
  fi
  case $tool in b2sum | sha256sum) ;; *) echo "berth: unknown hash tool $tool" >&2; exit 2 ;; esac
  command -v "$tool" >/dev/null 2>&1 || { echo "berth: the helper image has no $tool (set helper-image)" >&2; exit 127; }
  cd /v
  n=$(find . -type f | wc -l)
  { find . | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0r "$tool"; } | sha256sum | {
    read -r sum _; echo "$n $sum $tool"; }' berth-digest "$3")
emit content "$out"
`;

/** Exact row counts of every table, `schema.table|count` lines, ordered (run with psql -At). */
export const ROW_COUNTS_SQL =
  "SELECT format('%I.%I', table_schema, table_name) || '|' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/** $1 project, $2 service, $3 database, $4 PG_IN_CONTAINER, $5 query: the query's rows (psql -At). */
export const PG_QUERY = String.raw`set -Eeuo pipefail
docker compose -p "$1" exec -T "$2" sh -c "$4" berth-pg psql "$3" -X -A -t -v ON_ERROR_STOP=1 -c "$5"
`;

/** $1 project, $2 service: the image id of the service's container. */
export const SERVICE_IMAGE = String.raw`${PRELUDE}
id=$(docker ps -aq --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" | head -n 1)
[ -n "$id" ] || { echo "berth: project $1 has no container for service $2" >&2; exit 3; }
emit image "$(docker inspect -f '{{.Image}}' "$id")"
`;

/**
 * $1 postgres image (the service's own), $2 query. Restores the custom-format dump on stdin into a
 * scratch cluster in a throw-away container with no network, and prints the query's rows.
 */
export const PG_SCRATCH_RESTORE = String.raw`set -Eeuo pipefail
docker run --rm -i --network none --log-driver none --entrypoint sh -- "$1" -c '
set -eu
d=$(mktemp -d)
initdb -D "$d/data" -U postgres --auth=trust >/dev/null
pg_ctl -D "$d/data" -o "-c listen_addresses= -k $d" -w start >/dev/null
createdb -h "$d" -U postgres scratch
pg_restore -h "$d" -U postgres -d scratch --no-owner --no-privileges --exit-on-error
psql -h "$d" -U postgres -d scratch -X -A -t -v ON_ERROR_STOP=1 -c "$1"
pg_ctl -D "$d/data" -m fast -w stop >/dev/null
' berth-verify "$2"
`;

// ---- MySQL / MariaDB ---------------------------------------------------------------------------

/**
 * What runs inside a mysql/mariadb service container: the credentials come from the container's own
 * configuration (the official images' *_ROOT_PASSWORD_FILE, *_ROOT_PASSWORD, or *_USER with
 * *_PASSWORD[_FILE]) and reach the client through a 0600 defaults file in the container's /tmp,
 * removed when the client ends: never a command line or the runner's environment. `$1` is `dump`
 * (mariadb-dump or mysqldump) or `client` (mariadb or mysql), `$2` the database, then the tool's options.
 */
const MY_IN_CONTAINER = String.raw`set -eu
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
`.replaceAll('$\\{', '${');

/** The arguments of the MY_* scripts. */
export function myArgs(project: string, service: string, database: string): string[] {
  return [project, service, database, MY_IN_CONTAINER];
}

/** $1 project, $2 service, $3 database, $4 MY_IN_CONTAINER, $5 compression: a consistent SQL dump, compressed, on stdout. */
export const MY_DUMP = String.raw`${PRELUDE}
docker compose -p "$1" exec -T "$2" sh -c "$4" berth-my dump "$3" --single-transaction --routines --triggers \
  --events --hex-blob --default-character-set=utf8mb4 | compress "$5"
`;

/** $1 project, $2 service, $3 database, $4 MY_IN_CONTAINER, $5 compression: restores the compressed SQL dump on stdin. */
export const MY_RESTORE = String.raw`${PRELUDE}
decompress "$5" | docker compose -p "$1" exec -T "$2" sh -c "$4" berth-my client "$3" --default-character-set=utf8mb4
`;

/** $1 project, $2 service, $3 database, $4 MY_IN_CONTAINER, $5 query: the rows, tab-separated, no header. */
export const MY_QUERY = String.raw`set -Eeuo pipefail
docker compose -p "$1" exec -T "$2" sh -c "$4" berth-my client "$3" -N -B -e "$5"
`;

/** Exact row counts of every table of the current database, `table|count` lines, ordered (run with -N -B). */
export const MY_ROW_COUNTS_SQL =
  "SET SESSION group_concat_max_len = 4194304; SELECT GROUP_CONCAT(CONCAT('SELECT CONCAT(', QUOTE(table_name), ', ''|'', COUNT(*)) FROM `', REPLACE(table_name, '`', '``'), '`') ORDER BY table_name SEPARATOR ' UNION ALL ') INTO @berth_q FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'; SET @berth_q = COALESCE(@berth_q, 'SELECT 1 FROM DUAL WHERE FALSE'); PREPARE berth_s FROM @berth_q; EXECUTE berth_s; DEALLOCATE PREPARE berth_s;";

/**
 * $1 mysql/mariadb image (the service's own), $2 compression, $3 query. Restores the compressed SQL
 * dump on stdin into a scratch server in a throw-away container with no network (a fresh data
 * directory, root by socket), and prints the query's rows.
 */
export const MY_SCRATCH_RESTORE = String.raw`${PRELUDE}
decompress "$2" | docker run --rm -i --network none --user 0:0 --log-driver none --entrypoint sh -- "$1" -c '
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
' berth-verify "$3"
`;

// ---- staging on the host ----------------------------------------------------------------------

/** A 0700 directory on the host for dumps being restored or verified; reports `dir=`. */
export const MAKE_STAGE = String.raw`${PRELUDE}
umask 077
emit dir "$(mktemp -d "$\{TMPDIR:-/tmp}/berth-restore-XXXXXXXX")"
`.replaceAll('$\\{', '${');

/** $1 file: stdin to it (0600). */
export const STAGE_FILE = String.raw`set -Eeuo pipefail
umask 077
cat >"$1"
`;

/** $1 stage directory: removes it. */
export const DROP_STAGE = String.raw`case "$1" in */berth-restore-*) rm -rf -- "$1" ;; esac
`;

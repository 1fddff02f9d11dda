// The host scripts that move volumes: a helper container (the `helper-image`) reads or writes each
// volume as a tar stream, through a FIFO or docker's attach (TRANSPORT, PIPE_CHECK's choice). Every
// value reaches them as a named variable (lib/ssh/host-script's runHostScript).
import { bash } from '../../../../lib/ssh/host-script.js';
import { BACKUP_SHELL } from './shell.js';

/**
 * IMAGE: whether its containers can use a FIFO of ours (see open_pipe). Not where the daemon cannot
 * see this user's temp dir (a remote DOCKER_HOST, the snap's private /tmp): there the tar streams go
 * through docker's attach. Reports `transport=pipe` or `transport=attach`, and `fifo=unseen` when a
 * container ran but did not find the FIFO (a container that cannot run at all says nothing of the
 * FIFO: the step's next docker run reports why).
 */
export const PIPE_CHECK = bash`${BACKUP_SHELL}
open_pipe
seen=$(docker run --rm --network none --log-driver none -v "$pipe:/berth-pipe" --entrypoint sh -- "$IMAGE" \
  -c 'if [ -p /berth-pipe ]; then echo yes; else echo no; fi' 2>/dev/null) || seen=
case $seen in
  yes) emit transport pipe ;;
  no) emit transport attach; emit fifo unseen ;;
  *) emit transport attach ;;
esac
`;

/** IMAGE, VOLUME, COMPRESSION, TRANSPORT: the volume as a compressed tar stream on stdout. */
export const ARCHIVE_VOLUME = bash`${BACKUP_SHELL}
tar_of_volume=(docker run --rm --network none --user 0:0 --log-driver none -v "$VOLUME:/v:ro")
if [ "$TRANSPORT" = pipe ]; then
  open_pipe
  run_on_pipe "$\{tar_of_volume[@]}" -v "$pipe:/berth-pipe" --entrypoint tar -- "$IMAGE" \
    -C /v --numeric-owner -cf /berth-pipe .
  compress "$COMPRESSION" <"$pipe"
  wait "$helper"
else
  "$\{tar_of_volume[@]}" --entrypoint tar -- "$IMAGE" -C /v --numeric-owner -cf - . | compress "$COMPRESSION"
fi
`;

/**
 * IMAGE, PROJECT, COMPOSE_VOLUME, TEMP_VOLUME, COMPRESSION, TRANSPORT. Makes the temp volume and
 * unpacks the compressed tar on stdin into it; the live volume is not touched.
 */
export const UNPACK_TO_TEMP = bash`${BACKUP_SHELL}
docker volume create --label berth.restore-temp=1 --label "berth.restore-for=$\{PROJECT}_$COMPOSE_VOLUME" \
  -- "$TEMP_VOLUME" >/dev/null
# tar stops at the archive's end marker; the rest (padding) is read too, so the writer never
# sees a closed pipe for a good archive.
unpack='tar -C /v --numeric-owner -xpf - && cat >/dev/null'
untar=(docker run --rm --network none --user 0:0 --log-driver none -v "$TEMP_VOLUME:/v")
if [ "$TRANSPORT" = pipe ]; then
  open_pipe
  run_on_pipe "$\{untar[@]}" -v "$pipe:/berth-pipe" --entrypoint sh -- "$IMAGE" -c "exec </berth-pipe; $unpack"
  decompress "$COMPRESSION" >"$pipe" && wrote=0 || wrote=$?
  wait "$helper"
  exit "$wrote"
else
  decompress "$COMPRESSION" | "$\{untar[@]}" -i --entrypoint sh -- "$IMAGE" -c "$unpack"
fi
`;

/**
 * IMAGE, PROJECT, COMPOSE_VOLUME, TEMP_VOLUME. Stops the containers using the project's volume,
 * replaces its content with the temp volume's, starts them again (always), and removes the temp
 * volume. Creates the volume, with compose's labels, if it is missing. Reports `swapped=rename` or
 * `swapped=copy`.
 *
 * When both are `local` volumes in the same directory (/var/lib/docker/volumes), that directory is
 * mounted once and the temp volume's entries are renamed into the live one: no data is copied, so
 * the swap takes as long as deleting the old content. Otherwise the content is copied with tar.
 */
export const SWAP_IN = bash`target=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.volume=$COMPOSE_VOLUME" | head -n 1)
if [ -z "$target" ]; then
  target="$\{PROJECT}_$COMPOSE_VOLUME"
  docker volume create --label "com.docker.compose.project=$PROJECT" \
    --label "com.docker.compose.volume=$COMPOSE_VOLUME" -- "$target" >/dev/null
fi
mapfile -t ids < <(docker ps -q --filter "volume=$target")
restart() {
  if [ "$\{#ids[@]}" -gt 0 ]; then docker start "$\{ids[@]}" >/dev/null; fi
  docker volume rm -f -- "$TEMP_VOLUME" >/dev/null 2>&1 || true
}
trap restart EXIT
if [ "$\{#ids[@]}" -gt 0 ]; then docker stop "$\{ids[@]}" >/dev/null; fi
from=$(docker volume inspect -f '{{.Driver}} {{.Mountpoint}}' -- "$TEMP_VOLUME")
to=$(docker volume inspect -f '{{.Driver}} {{.Mountpoint}}' -- "$target")
root=$(dirname -- "$(dirname -- "$\{to#local }")")
if [ "$\{from%% *}" = local ] && [ "$\{to%% *}" = local ] && [ "$\{from#local }" = "$root/$TEMP_VOLUME/_data" ] \
  && [ "$\{to#local }" = "$root/$target/_data" ]; then
  docker run --rm --network none --user 0:0 --log-driver none -v "$root:/volumes" --entrypoint sh -- "$IMAGE" -c '
    set -eu
    from=/volumes/$1/_data to=/volumes/$2/_data
    find "$to" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    find "$from" -mindepth 1 -maxdepth 1 -exec mv -- {} "$to/" \;
    chown "$(stat -c %u:%g "$from")" "$to"
    chmod "$(stat -c %a "$from")" "$to"' berth-swap "$TEMP_VOLUME" "$target"
  emit swapped rename
else
  docker run --rm --network none --user 0:0 --log-driver none -v "$TEMP_VOLUME:/from:ro" -v "$target:/to" \
    --entrypoint sh -- "$IMAGE" -c 'find /to -mindepth 1 -delete && tar -C /from -cf - . | tar -C /to --numeric-owner -xpf -'
  emit swapped copy
fi
emit restored "$target"
`;

/**
 * TEMP_VOLUME: removes it (a restore that failed before the swap); says so on stderr when it cannot,
 * and still succeeds (it runs while cleaning up after another failure). A transfer that was cut off
 * may leave its unpacking container still running on the volume: such containers are ours (the
 * volume's name is random), so they are removed first.
 */
export const DROP_TEMP = bash`for i in 1 2 3 4 5 6 7 8 9 10; do
  docker volume rm -f -- "$TEMP_VOLUME" >/dev/null 2>&1 && exit 0
  ids=$(docker ps -aq --filter "volume=$TEMP_VOLUME" 2>/dev/null) || ids=
  if [ -n "$ids" ]; then docker rm -f $ids >/dev/null 2>&1 || true; fi
  sleep 0.5
done
echo "berth: could not remove the temporary volume $TEMP_VOLUME" >&2
`;

/**
 * The content of a volume as one digest: the sorted list of every path, then every file's hash,
 * hashed with sha256. IMAGE, VOLUME, HASH_TOOL: the per-file hash tool, `b2sum` or `sha256sum`, or
 * empty to take b2sum when the image has it (coreutils' b2sum is about 3x faster than its sha256sum,
 * which has no SHA instructions). Reports `content=<file count> <sha256> <tool>`.
 */
export const VOLUME_DIGEST = bash`out=$(docker run --rm --network none --user 0:0 --log-driver none -v "$VOLUME:/v:ro" --entrypoint sh -- "$IMAGE" -c '
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
    read -r sum _; echo "$n $sum $tool"; }' berth-digest "$HASH_TOOL")
emit content "$out"
`;

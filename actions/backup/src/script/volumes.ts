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
 * IMAGE, PROJECT, COMPOSE_VOLUME, TEMP_VOLUME, COMPRESSION, TRANSPORT, NEED_KIB (optional: the space
 * the content takes, from the manifest). Makes the temp volume, refuses (exit 3) when its filesystem
 * has not NEED_KIB free, and unpacks the compressed tar on stdin into it; the live volume is not touched.
 */
export const UNPACK_TO_TEMP = bash`${BACKUP_SHELL}
docker volume create --label berth.restore-temp=1 --label "berth.restore-for=$\{PROJECT}_$COMPOSE_VOLUME" \
  -- "$TEMP_VOLUME" >/dev/null
if [ "$\{NEED_KIB:-0}" -gt 0 ]; then
  free=$(docker run --rm --network none --log-driver none -v "$TEMP_VOLUME:/v:ro" --entrypoint sh -- "$IMAGE" \
    -c 'df -Pk /v | tail -n 1 | tr -s " " | cut -d " " -f 4')
  if [ "$NEED_KIB" -ge "$free" ]; then
    echo "berth: volume $COMPOSE_VOLUME: its content takes $NEED_KIB KiB, the temporary volume's filesystem has $free KiB free; nothing was changed" >&2
    exit 3
  fi
fi
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
 * which has no SHA instructions). Reports `content=<file count> <sha256> <tool> <KiB on disk>`.
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
    read -r sum _; echo "$n $sum $tool $(du -sk . | cut -f1)"; }' berth-digest "$HASH_TOOL")
emit content "$out"
`;

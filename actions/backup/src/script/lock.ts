// The host scripts for berth/backup's locks: the project's lock on `<remote-dir>/.lock` (the very
// flock berth/deploy takes, fd 9, the holder's line in the file), and each `host:` destination's
// lock, held shared by every backup writing into the directory and exclusively by the removal of
// interrupted backups, so that a backup being written is never taken for an interrupted one.
import { bash } from '../../../../lib/ssh/host-script.js';
import { METRICS_DIR_CHECK } from '../../../../lib/ssh/textfile.js';
import { BACKUP_ID_PATTERN } from '../constants.js';

/** The lock file in a `host:` destination directory (its name is no backup id, so never listed). */
export const DESTINATION_LOCK = '.berth-backup.lock';

const REQUIRE_FLOCK = bash`command -v flock >/dev/null 2>&1 || { emit missing flock; exit 3; }
`;

/**
 * REMOTE_DIR, LOCK_TIMEOUT (seconds), HOLDER (one line), METRICS_DIR and METRICS_FILE (checked first,
 * `metrics-dir-blocked=` and nothing changed when unusable). Takes deploy's lock, says `waiting=<holder>`
 * when another holds it, `locked=` once held, then holds it until stdin closes (or the connection
 * dies). Fails with `missing=flock`, `blocked=<reason>` or, after LOCK_TIMEOUT, `lock-holder=`.
 */
export const HOLD_PROJECT_LOCK = bash`${REQUIRE_FLOCK}${METRICS_DIR_CHECK}[ -z "$metrics_blocked" ] || exit 4
if [ ! -d "$REMOTE_DIR" ]; then
  if [ -e "$REMOTE_DIR" ]; then emit blocked not-a-directory; exit 4; fi
  mkdir -p -- "$REMOTE_DIR" 2>/dev/null || { emit blocked not-creatable; exit 4; }
  emit created "$REMOTE_DIR"
fi
[ -w "$REMOTE_DIR" ] || { emit blocked not-writable; exit 4; }
cd -- "$REMOTE_DIR"
exec 9>>.lock
if ! flock -n 9; then
  emit waiting "$(head -c 400 .lock | tr '\n' ' ')"
  if ! flock -w "$LOCK_TIMEOUT" 9; then
    emit lock-holder "$(head -c 400 .lock | tr '\n' ' ')"
    exit 75
  fi
fi
printf '%s\n' "$HOLDER" >.lock
# Letting go empties the holder line first, as deploy's unlock does.
trap ': >.lock' EXIT
trap 'exit 1' HUP INT TERM PIPE
emit locked 1
cat >/dev/null 9>&-
`;

/**
 * DIRS, LOCK_TIMEOUT. Creates each destination directory and holds its lock shared (other writers
 * share it; only the removal of interrupted backups excludes them, briefly) until stdin closes.
 */
export const HOLD_WRITERS = bash`${REQUIRE_FLOCK}umask 077
for dir in "$\{DIRS[@]}"; do
  mkdir -p -- "$dir"
  exec {fd}>>"$dir/${DESTINATION_LOCK}"
  flock -s -w "$LOCK_TIMEOUT" "$fd" || { emit busy "$dir"; exit 75; }
done
trap 'exit 1' HUP INT TERM PIPE
emit locked 1
cat >/dev/null
`;

/**
 * DIR, IDS. Removes those interrupted backups only if no backup is being written into DIR (its lock
 * is free: `busy=` otherwise, nothing removed); never through a symlinked id (`symlink=<id>`), and
 * not one that got its manifest since it was listed. Reports `removed=<id>`.
 */
export const REMOVE_UNHELD = bash`[ -d "$DIR" ] || exit 0
${REQUIRE_FLOCK}exec 8>>"$DIR/${DESTINATION_LOCK}"
flock -n -x 8 || { emit busy 1; exit 0; }
for id in "$\{IDS[@]}"; do
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || { echo "berth: refusing to delete $id" >&2; exit 2; }
  if [ -L "$DIR/$id" ]; then emit symlink "$id"; continue; fi
  [ -d "$DIR/$id" ] && [ ! -e "$DIR/$id/manifest.json" ] || continue
  rm -rf -- "$DIR/$id"
  emit removed "$id"
done
`;

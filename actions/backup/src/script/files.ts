// The host scripts for files: a `host:` destination's backup directories, and the 0700 staging
// directory where restore and verify put dumps before they are restored.
import { bash } from '../../../../lib/ssh/host-script.js';
import { BACKUP_ID_PATTERN, MANIFEST_FORMAT } from '../constants.js';

/** DIR, NAME: stdin to DIR/NAME, through NAME.part so a partial upload is never the file. */
export const WRITE_FILE = bash`umask 077
mkdir -p -- "$DIR"
cat >"$DIR/$NAME.part"
mv -f -- "$DIR/$NAME.part" "$DIR/$NAME"
`;

/** DIR, NAME: the file on stdout. */
export const READ_FILE = bash`exec cat -- "$DIR/$NAME"
`;

/**
 * DIR. Reports each backup directory: `complete=<id>` (it has Berth's manifest) or `partial=<id>`
 * (an interrupted run). Anything whose name is not a backup id is not listed, so never touched.
 */
export const LIST_BACKUPS = bash`[ -d "$DIR" ] || exit 0
for dir in "$DIR"/*/; do
  [ -d "$dir" ] || continue
  id=$(basename "$dir")
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || continue
  if [ -L "$DIR/$id" ]; then emit symlink "$id"; continue; fi
  if [ -f "$dir/manifest.json" ] && grep -q '"format": *"${MANIFEST_FORMAT}"' "$dir/manifest.json"; then
    emit complete "$id"
  else
    emit partial "$id"
  fi
done
`;

/**
 * DIR, IDS, NAMES, MAX_BYTES: the small files NAMES (manifest, signature, mark) of every backup IDS, in
 * one round trip: `file=<id>/<name>` then its content base64 in `chunk=` lines. Symlinks are not read.
 */
export const READ_BACKUP_FILES = bash`for id in "$\{IDS[@]}"; do
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || continue
  for name in "$\{NAMES[@]}"; do
    f="$DIR/$id/$name"
    { [ -f "$f" ] && [ ! -L "$f" ] && [ ! -L "$DIR/$id" ]; } || continue
    emit file "$id/$name"
    head -c "$MAX_BYTES" -- "$f" | base64 -w 49152 | while IFS= read -r chunk; do emit chunk "$chunk"; done
  done
done
`;

/** DIR, IDS: deletes those backups (refusing anything that is not a backup id; a symlinked id is left alone: `symlink=`). */
export const REMOVE_BACKUPS = bash`for id in "$\{IDS[@]}"; do
  [[ "$id" =~ ^${BACKUP_ID_PATTERN}$ ]] || { echo "berth: refusing to delete $id" >&2; exit 2; }
  if [ -L "$DIR/$id" ]; then emit symlink "$id"; continue; fi
  rm -rf -- "$DIR/$id"
done
`;

/** A 0700 directory on the host for dumps being restored or verified; reports `dir=`. */
export const MAKE_STAGE = bash`umask 077
emit dir "$(mktemp -d "$\{TMPDIR:-/tmp}/berth-restore-XXXXXXXX")"
`;

/** STAGED_FILE: stdin to it (0600). */
export const STAGE_FILE = bash`umask 077
cat >"$STAGED_FILE"
`;

/** STAGE_DIR: removes it. */
export const DROP_STAGE = bash`case "$STAGE_DIR" in */berth-restore-*) rm -rf -- "$STAGE_DIR" ;; esac
`;

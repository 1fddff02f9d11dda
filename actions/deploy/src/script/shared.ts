// The deploy script's data directories: `<remote-dir>/shared/<path>` for each writable relative bind
// mount (the release's data override points there). Runs once the upload is in place, before config.
import { bash } from '../../../../lib/ssh/host-script.js';

export const SHARED = bash`# Created once and never changed afterwards (no chmod, chown or touch): the files in it belong to
# whoever wrote them. Retention and rollback never look in shared/.
for d in "$\{DATA_DIRS[@]}"; do
  if [ -e "shared/$d" ] || [ -L "shared/$d" ]; then continue; fi
  (umask 022 && mkdir -p "$(dirname "shared/$d")") || fail "cannot create $REMOTE_DIR/shared/$d"
  old="releases/$previous/$d"
  # Data written before this release lives in the previous release's directory: carried over once
  # (mv keeps the owners of what containers wrote); a symlink there keeps a rollback to it working.
  if [ -n "$previous" ] && [ -e "$old" ] && [ ! -L "$old" ] && mv "$old" "shared/$d"; then
    ln -s "$REMOTE_DIR/shared/$d" "$old" || true
    emit data-moved "$d"
  elif [ -e "$rel/$d" ]; then
    cp -a "$rel/$d" "shared/$d" || fail "cannot seed $REMOTE_DIR/shared/$d from the release"
  else
    (umask 022 && mkdir -p "shared/$d") || fail "cannot create $REMOTE_DIR/shared/$d"
  fi
done
`;

// The host scripts of restore's volume swap, one transaction over every volume of the restore: the
// live content is moved aside inside its own volume (renamed into a hidden entry, no copy), the
// restored content moved in, and the old content removed only once every volume is in. A journal in
// a 0700 directory on the host says what was moved where, so that a roll-back (run by the runner
// when the swap fails or dies, or by the next restore of the project) puts every volume back
// without relying on the failed script's own traps.
import { bash } from '../../../../lib/ssh/host-script.js';

/**
 * The journal and its steps, shared by SWAP and ROLLBACK. Each step runs in a helper container
 * labelled `berth.swap=<restore id>` (so that a roll-back can stop one a dead script left running)
 * as `sh -c <step> berth-swap <step name> <hidden entry> ...`. The journal of a restore is
 * `$HOME/.berth/restore/<project>/<restore id>/`: `image`, `containers` (stopped, to start again),
 * `v<i>` (`target temp how owner mode`), the markers `v<i>.aside` and `v<i>.in` (that step began)
 * and `committed` (every volume is in: finish, never undo).
 */
const SWAP_SHELL = bash`journals="$HOME/.berth/restore/$PROJECT"
step() {
  docker run --rm --network none --user 0:0 --log-driver none --label "berth.swap=$rid" "$@"
}
in_step() { # image how hidden temp target: the step that moves temp's content into target
  if [ "$2" = rename ]; then
    step -v "$root:/volumes" --entrypoint sh -- "$1" -c '
      set -eu
      from=/volumes/$3/_data to=/volumes/$4/_data
      find "$from" -mindepth 1 -maxdepth 1 -exec mv -- {} "$to/" \;
      chown "$(stat -c %u:%g "$from")" "$to"
      chmod "$(stat -c %a "$from")" "$to"' berth-swap in "$3" "$4" "$5"
  else
    step -v "$4:/from:ro" -v "$5:/to" --entrypoint sh -- "$1" -c '
      set -eu
      tar -C /from -cf - . | tar -C /to --numeric-owner -xpf -' berth-swap in "$3" "$4" "$5"
  fi
}
# Puts one volume back as the journal says: the restored entries out (back into the temp volume
# when they were renamed from it), then the old entries back from the hidden entry. Each marker
# goes only once its undo is complete, so a roll-back that is itself cut off can run again.
undo_volume() { # journal index
  local j=$1 i=$2 target temp how owner mode
  read -r target temp how owner mode <"$j/v$i"
  if [ -e "$j/v$i.in" ]; then
    if [ "$how" = rename ]; then
      step -v "$root:/volumes" --entrypoint sh -- "$image" -c '
        set -eu
        to=/volumes/$4/_data back=/volumes/$3/_data
        if [ -d "$back" ]; then
          find "$to" -mindepth 1 -maxdepth 1 ! -name "$2" -exec mv -- {} "$back/" \;
        else
          find "$to" -mindepth 1 -maxdepth 1 ! -name "$2" -exec rm -rf -- {} +
        fi
        chown "$5" "$to"
        chmod "$6" "$to"' berth-swap undo-in "$hidden" "$temp" "$target" "$owner" "$mode"
    else
      step -v "$target:/v" --entrypoint sh -- "$image" -c '
        set -eu
        find /v -mindepth 1 -maxdepth 1 ! -name "$2" -exec rm -rf -- {} +
        chown "$3" /v
        chmod "$4" /v' berth-swap undo-in "$hidden" "$owner" "$mode"
    fi
    rm -f -- "$j/v$i.in"
  fi
  if [ -e "$j/v$i.aside" ]; then
    step -v "$target:/v" --entrypoint sh -- "$image" -c '
      set -eu
      if [ -d "/v/$2" ]; then
        find "/v/$2" -mindepth 1 -maxdepth 1 -exec mv -- {} /v/ \;
        rmdir -- "/v/$2"
      fi' berth-swap undo-aside "$hidden"
    rm -f -- "$j/v$i.aside"
  fi
  emit rolled-back "$target $temp"
}
# Removes the old content of one volume and its (now spent) temp volume: the commit's work.
finish_volume() { # journal index
  local target temp how owner mode
  read -r target temp how owner mode <"$1/v$2"
  step -v "$target:/v" --entrypoint sh -- "$image" -c 'rm -rf -- "/v/$2"' berth-swap drop-old "$hidden"
  docker volume rm -f -- "$temp" >/dev/null
}
start_again() { # journal
  local ids
  [ -f "$1/containers" ] || return 0
  mapfile -t ids <"$1/containers"
  if [ "$\{#ids[@]}" -gt 0 ]; then
    docker start "$\{ids[@]}" >/dev/null || echo "berth: could not start every container again: $\{ids[*]}" >&2
  fi
}
# Rolls the restore of journal $1 back (or, once committed, forward), starts its containers again
# and removes the journal.
settle() {
  local j=$1 n i
  rid=$\{j##*/} hidden=.berth-restore-old-$\{j##*/}
  image=$(cat -- "$j/image") root=$(cat -- "$j/root")
  # A step container of a script that died may still be moving entries: it goes first.
  mapfile -t left < <(docker ps -aq --filter "label=berth.swap=$rid")
  if [ "$\{#left[@]}" -gt 0 ]; then docker rm -f "$\{left[@]}" >/dev/null; fi
  n=$(find "$j" -maxdepth 1 -name 'v[0-9]*' ! -name '*.*' | wc -l)
  if [ -e "$j/committed" ]; then
    for ((i = 0; i < n; i++)); do finish_volume "$j" "$i"; done
    emit committed "$rid"
  else
    for ((i = n - 1; i >= 0; i--)); do undo_volume "$j" "$i"; done
    emit rolled-back-restore "$rid"
  fi
  start_again "$j"
  rm -rf -- "$j"
}
`;

/**
 * PROJECT, RESTORE_ID (empty: every unfinished restore of the project). Rolls back each journal
 * found (a committed one is finished instead); reports `rolled-back-restore=<id>` or
 * `committed=<id>` for each, and `rolled-back=<target> <temp>` for each volume put back (its temp
 * volume is kept).
 */
export const ROLLBACK = bash`${SWAP_SHELL}
[ -d "$journals" ] || exit 0
for j in "$journals"/*/; do
  j=$\{j%/}
  # Killed before it wrote its image: before it changed anything.
  [ -f "$j/image" ] || { rm -rf -- "$j"; continue; }
  if [ -n "$RESTORE_ID" ] && [ "$\{j##*/}" != "$RESTORE_ID" ]; then continue; fi
  settle "$j"
done
`;

/**
 * IMAGE, PROJECT, RESTORE_ID, VOLUMES (compose names), TEMPS (their temp volumes, in order). Swaps
 * every volume in as one transaction (see SWAP_SHELL); reports `swap-step=<volume> <step>` as it
 * goes (plan, aside, in, sync, commit) and `journal=<id>` before it changes anything, then `swapped=<volume> <rename|copy> <target>` for each.
 * Refuses, before anything is changed, a volume whose copy would not fit (exit 3). When it fails,
 * the runner runs ROLLBACK (the EXIT trap also tries, for a connection that died).
 *
 * A temp volume is renamed in when both are plain `local` volumes in the same directory (that
 * directory is mounted once: a rename across two mounts would fail); otherwise it is copied.
 */
export const SWAP = bash`${SWAP_SHELL}
rid=$RESTORE_ID hidden=.berth-restore-old-$RESTORE_ID image=$IMAGE root=
targets=() hows=() owners=() modes=()
for i in "$\{!VOLUMES[@]}"; do
  v=$\{VOLUMES[$i]} temp=$\{TEMPS[$i]}
  emit swap-step "$v plan"
  target=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.volume=$v" | head -n 1)
  if [ -z "$target" ]; then
    target="$\{PROJECT}_$v"
    docker volume create --label "com.docker.compose.project=$PROJECT" \
      --label "com.docker.compose.volume=$v" -- "$target" >/dev/null
  fi
  from=$(docker volume inspect -f '{{.Driver}} {{len .Options}} {{.Mountpoint}}' -- "$temp")
  to=$(docker volume inspect -f '{{.Driver}} {{len .Options}} {{.Mountpoint}}' -- "$target")
  dir=$(dirname -- "$(dirname -- "$\{to#* * }")")
  how=copy
  if [ "$from" = "local 0 $dir/$temp/_data" ] && [ "$to" = "local 0 $dir/$target/_data" ]; then
    how=rename root=$dir
  fi
  out=$(step -v "$temp:/from:ro" -v "$target:/to:ro" --entrypoint sh -- "$IMAGE" -c 'set -eu
    echo "$(stat -c "%u:%g %a" /to) $(du -sk /from | cut -f1) $(df -Pk /to | tail -n 1 | tr -s " " | cut -d " " -f 4)"' \
    berth-swap plan)
  read -r owner mode need free <<<"$out"
  if [ "$how" = copy ] && [ "$need" -ge "$free" ]; then
    echo "berth: volume $v: the restored content takes $need KiB and must be copied, but $target has $free KiB free; nothing was changed" >&2
    exit 3
  fi
  targets+=("$target") hows+=("$how") owners+=("$owner") modes+=("$mode")
done
[ "$\{#targets[@]}" -gt 0 ] || exit 0
# The journal, before anything changes.
umask 077
j=$journals/$RESTORE_ID
mkdir -p -- "$j"
emit journal "$RESTORE_ID"
printf '%s\n' "$IMAGE" >"$j/image"
printf '%s\n' "$root" >"$j/root"
for i in "$\{!targets[@]}"; do
  printf '%s %s %s %s %s\n' "$\{targets[$i]}" "$\{TEMPS[$i]}" "$\{hows[$i]}" "$\{owners[$i]}" "$\{modes[$i]}" >"$j/v$i"
done
ids=()
for target in "$\{targets[@]}"; do mapfile -t -O "$\{#ids[@]}" ids < <(docker ps -q --filter "volume=$target"); done
# In the order they were started (compose's dependency order), which is the order they start again.
if [ "$\{#ids[@]}" -gt 0 ]; then
  docker inspect -f '{{.State.StartedAt}} {{.Id}}' "$\{ids[@]}" | sort -u | cut -d' ' -f2 >"$j/containers"
else
  : >"$j/containers"
fi
trap '[ -d "$j" ] && settle "$j" >/dev/null 2>&1' EXIT
mapfile -t ids <"$j/containers"
if [ "$\{#ids[@]}" -gt 0 ]; then docker stop "$\{ids[@]}" >/dev/null; fi
for i in "$\{!targets[@]}"; do
  v=$\{VOLUMES[$i]} target=$\{targets[$i]}
  : >"$j/v$i.aside"
  emit swap-step "$v aside"
  step -v "$target:/v" --entrypoint sh -- "$IMAGE" -c '
    set -eu
    mkdir -m 700 -p -- "/v/$2"
    find /v -mindepth 1 -maxdepth 1 ! -name "$2" -exec mv -- {} "/v/$2/" \;' berth-swap aside "$hidden" "$target"
  : >"$j/v$i.in"
  emit swap-step "$v in"
  in_step "$IMAGE" "$\{hows[$i]}" "$hidden" "$\{TEMPS[$i]}" "$target"
done
# Every volume is in: flushed to disk before the journal says so, then the point of no return.
emit swap-step "- sync"
mounts=()
for i in "$\{!targets[@]}"; do mounts+=(-v "$\{targets[$i]}:/v$i"); done
step "$\{mounts[@]}" --entrypoint sh -- "$IMAGE" -c 'sync' berth-swap sync
: >"$j/committed"
emit swap-step "- commit"
trap - EXIT
for i in "$\{!targets[@]}"; do emit swapped "$\{VOLUMES[$i]} $\{hows[$i]} $\{targets[$i]}"; done
settle "$j"
`;

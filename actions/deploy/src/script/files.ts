// The deploy script's content-addressed project files (project/content.ts): each read-only bind
// source and config file of the release stored once at `files/<id>/<name>`, which the release's
// override mounts. And what retention must not remove because a container still mounts it.
import { bash } from '../../../../lib/ssh/host-script.js';

export const FILES = bash`# An entry is copied from the release when absent and never changed once there; it is copied under
# a temporary name and renamed, so a half-copied entry is never used. Runs before config.
for i in "$\{!FILE_IDS[@]}"; do
  id=$\{FILE_IDS[$i]}
  [ -e "files/$id" ] && continue
  tmp="files/.incoming-$id"
  rm -rf "$tmp"
  if ! { mkdir -p "$tmp" && cp -a "$rel/$\{FILE_PATHS[$i]}" "$tmp/" && mv -T "$tmp" "files/$id"; }; then
    rm -rf "$tmp"
    fail "cannot store $\{FILE_PATHS[$i]} in $REMOTE_DIR/files/$id"
  fi
done
# What retention keeps for this release (none: no file, so a run storing nothing never blanks one).
[ "$\{#FILE_IDS[@]}" = 0 ] || printf '%s\n' "$\{FILE_IDS[@]}" >"$rel/.berth/file-ids"

# What the project's containers mount from releases/ and files/ (a service compose did not recreate
# still mounts the release it was created from: its secrets, say). Stopped compose containers count:
# a host reboot restarts them. Swarm's exited tasks never start again.
declare -A mounted_release=() mounted_file=()
read_mounts() {
  local ids name source r root
  if [ "$MODE" = swarm ]; then
    mapfile -t ids < <(docker ps -q --filter "label=com.docker.stack.namespace=$PROJECT")
  else
    mapfile -t ids < <(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  fi
  [ "$\{#ids[@]}" -gt 0 ] || return 0
  while read -r name source; do
    for root in "$REMOTE_DIR" "$(pwd -P)"; do
      r=$\{source#"$root/"}
      case "$r" in
        releases/*/*) r=$\{r#releases/} && mounted_release[$\{r%%/*}]=$\{name#/} ;;
        files/*/*) r=$\{r#files/} && mounted_file[$\{r%%/*}]=1 ;;
      esac
    done
  done < <(docker inspect -f '{{$n := .Name}}{{range .Mounts}}{{$n}} {{.Source}}{{println}}{{end}}' "$\{ids[@]}")
}

release_in_use() { # release: kept (and said) while a container mounts from it
  [ -n "$\{mounted_release[$1]:-}" ] || return 1
  emit kept-release "$1 (mounted by container $\{mounted_release[$1]})"
}

# An entry no kept release names and no container mounts goes.
remove_unused_files() {
  local f id
  declare -A named=()
  for f in releases/*/.berth/file-ids; do
    [ -f "$f" ] || continue
    while IFS= read -r id; do [ -z "$id" ] || named[$id]=1; done <"$f"
  done
  for f in files/*/; do
    [ -d "$f" ] || continue
    id=$(basename "$f")
    [ -z "$\{named[$id]:-}" ] && [ -z "$\{mounted_file[$id]:-}" ] || continue
    if rm -rf "files/$id" 2>/dev/null; then emit removed-files "$id"; else emit warning "retention: $REMOTE_DIR/files/$id could not be removed"; fi
  done
}
`;

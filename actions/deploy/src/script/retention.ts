// The deploy script's retention: old releases go (with the images, files and swarm objects only they
// name), except one a container still mounts from (files.ts).
import { bash } from '../../../../lib/ssh/host-script.js';

export const RETENTION = bash`enter retention
# A release that cannot be removed (a container wrote root-owned files into it) is a warning, never a
# failed deploy. It is renamed out of the kept releases first, so it is never listed or brought back.
remove_release() { # release
  local out
  if ! out=$(mv -T "releases/$1" "releases/.removing-$1" 2>&1); then
    emit warning "retention: release $1 could not be moved away: $(printf '%s' "$out" | tail -n 1)"
  elif ! out=$(rm -rf "releases/.removing-$1" 2>&1); then
    emit warning "retention: release $1 could not be removed ($(printf '%s' "$out" | tail -n 1)); remove $REMOTE_DIR/releases/.removing-$1 as root"
  else
    emit removed-release "$1"
  fi
}
for d in releases/.removing-*; do
  [ -e "$d" ] || continue
  rm -rf "$d" 2>/dev/null || emit warning "retention: $REMOTE_DIR/$d is left from a release that could not be removed; remove it as root"
done
images_of() { [ -f "$1/.berth/pins.yml" ] && sed -n 's/^    image: "\(.*\)"$/\1/p' "$1/.berth/pins.yml" || true; }
read_mounts
mapfile -t all < <(find releases -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort)
remove=()
if [ "$\{#all[@]}" -gt "$KEEP" ]; then
  for r in "$\{all[@]:0:$\{#all[@]}-KEEP}"; do
    [ "$r" = "$RELEASE" ] || [ "$r" = "$previous" ] || release_in_use "$r" || remove+=("$r")
  done
fi
if [ "$\{#remove[@]}" -gt 0 ]; then
  declare -A keep_images=()
  for r in "$\{all[@]}"; do
    case " $\{remove[*]} " in *" $r "*) continue ;; esac
    while IFS= read -r i; do [ -n "$i" ] && keep_images[$i]=1; done < <(images_of "releases/$r")
  done
  for r in "$\{remove[@]}"; do
    if [ "$PRUNE" = 1 ]; then
      while IFS= read -r i; do
        if [ -n "$i" ] && [ -z "$\{keep_images[$i]:-}" ]; then
          docker image rm "$i" >/dev/null 2>&1 && emit pruned-image "$i" || true
        fi
      done < <(images_of "releases/$r")
    fi
    remove_release "$r"
  done
fi
remove_unused_files
if [ "$MODE" = swarm ]; then
  # Secrets and configs are versioned by content; a version no kept release names is deleted
  # (an old password must not linger in the swarm's store). In use elsewhere: docker refuses.
  declare -A keep_objects=()
  for r in releases/*/; do
    [ -f "$r.berth/swarm-objects" ] || continue
    while IFS= read -r o; do [ -n "$o" ] && keep_objects[$o]=1; done <"$r.berth/swarm-objects"
  done
  for kind in secret config; do
    while IFS= read -r o; do
      if [ -n "$o" ] && [ -z "$\{keep_objects[$o]:-}" ]; then
        docker "$kind" rm "$o" >/dev/null 2>&1 && emit removed-$kind "$o" || true
      fi
    done < <(docker "$kind" ls --filter "label=com.docker.stack.namespace=$PROJECT" --format '{{.Name}}')
  done
fi
`;

// The preflight script: one round trip before the upload that looks at the host and writes nothing
// (no directory, no file, no docker object). It reports facts; preflight.ts judges them.
import { bash } from '../../../../lib/ssh/host-script.js';
import { METRICS_DIR_CHECK } from '../../../../lib/ssh/textfile.js';

export const PREFLIGHT_BODY = bash`emit user "$(id -un)"
have() { command -v "$1" >/dev/null 2>&1; }
free_kb() { df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 { print $4 }' || true; }

if ! have docker; then
  emit missing docker
else
  # One call for the engine's facts; its error says whether the socket refused this user.
  # The platform (OSType/Architecture) picks the image of an index whose size the runner asks for.
  if info=$(docker info --format '{{.DockerRootDir}}|{{.OSType}}/{{.Architecture}}|{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>&1) &&
    [ -n "$\{info%%|*}" ]; then
    root=$\{info%%|*} rest=$\{info#*|}
    platform=$\{rest%%|*} swarm=$\{rest#*|}
    emit docker-root "$root"
    emit docker-root-free-kb "$(free_kb "$root")"
    emit platform "$platform"
    emit swarm "$swarm"
    for image in "$\{IMAGES[@]}"; do
      docker image inspect -f '{{.Id}}' -- "$image" >/dev/null 2>&1 || emit missing-image "$image"
    done
  else
    emit engine-error "$(printf '%s' "$info" | grep -v '^$' | tail -n 1)"
  fi
  if compose=$(docker compose version --short 2>/dev/null); then emit compose-version "$compose"; else emit missing compose; fi
fi
have flock || emit missing flock
[ "$NEED_CURL" != 1 ] || have curl || emit missing curl

# remote-dir: writable when it exists (and so are what a deploy changes in it), else its nearest
# existing ancestor must be a writable and searchable directory, for the upload to create it.
dir=$REMOTE_DIR
while [ "$dir" != / ] && [ ! -e "$dir" ] && [ ! -L "$dir" ]; do dir=$(dirname -- "$dir"); done
emit remote-dir-nearest "$dir"
if [ ! -d "$dir" ]; then
  emit remote-dir-blocked "$dir not-a-directory"
elif [ ! -w "$dir" ] || [ ! -x "$dir" ]; then
  emit remote-dir-blocked "$dir not-writable"
elif [ "$dir" = "$REMOTE_DIR" ]; then
  for entry in releases .lock deploy.log; do
    if [ -e "$dir/$entry" ] && [ ! -w "$dir/$entry" ]; then emit remote-dir-blocked "$dir/$entry not-writable"; fi
  done
fi
emit remote-dir-free-kb "$(free_kb "$dir")"
${METRICS_DIR_CHECK}`;

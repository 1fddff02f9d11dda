// The host scripts that look at the compose project's containers and volumes: discovery, the image of
// a service, waiting for health, and holding services stopped while their volumes are archived.
import { bash } from '../../../../lib/ssh/host-script.js';

/**
 * PROJECT. Reports each named volume of the project (`volume=<docker name> <compose name as JSON>`:
 * a label can hold anything, a line break included, so it travels JSON-encoded and is checked on the
 * runner) and the image of one of its containers (`image=`), the default helper image.
 */
export const DISCOVER = bash`docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | sort | while read -r name; do
  emit volume "$name $(docker volume inspect -f '{{json (index .Labels "com.docker.compose.volume")}}' -- "$name")"
done
# The image id (not the name, which may not resolve on the host) of the first service's container.
container=$(docker ps -a --filter "label=com.docker.compose.project=$PROJECT" \
  --format '{{.Label "com.docker.compose.service"}} {{.ID}}' | sort | head -n 1 | cut -d' ' -f2)
if [ -n "$container" ]; then emit image "$(docker inspect -f '{{.Image}}' "$container")"; fi
`;

/** PROJECT, SERVICE: the image id of the service's container (`image=`). */
export const SERVICE_IMAGE = bash`id=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.service=$SERVICE" | head -n 1)
[ -n "$id" ] || { echo "berth: project $PROJECT has no container for service $SERVICE" >&2; exit 3; }
emit image "$(docker inspect -f '{{.Image}}' "$id")"
`;

/** PROJECT, SERVICE, TIMEOUT (seconds): waits until the service's containers are healthy (or running without a health check). */
export const WAIT_HEALTHY = bash`deadline=$(($(date +%s) + TIMEOUT))
while :; do
  ids=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$SERVICE")
  ok=1
  [ -n "$ids" ] || ok=0
  for id in $ids; do
    state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
    case "$state" in healthy | running) ;; *) ok=0 ;; esac
  done
  [ "$ok" = 1 ] && exit 0
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "berth: service $SERVICE is not healthy after $TIMEOUT s" >&2; exit 1; fi
  sleep 1
done
`;

/**
 * PROJECT, LABEL (berth.backup.stop=true), SERVICES. Stops the running containers of the services
 * and those with the label, says `stopped=`, then waits for stdin to close (the action is done with
 * the volumes, or its connection died) and starts them again, whatever happened.
 */
export const HOLD_STOPPED = bash`ids=()
while read -r id; do [ -n "$id" ] && ids+=("$id"); done < <({
  for service in "$\{SERVICES[@]}"; do
    docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$service"
  done
  docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=$LABEL"
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
`;

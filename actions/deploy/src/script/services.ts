// The deploy script's functions that bring a release's services up and say what failed, for both
// modes (the swarm-only ones are in swarm.ts).
import { bash } from '../../../../lib/ssh/host-script.js';

export const SERVICES = bash`compose_args() { # release-dir: sets CARGS to the release's project and compose files
  local dir=$1 f
  CARGS=(-p "$PROJECT" --project-directory "$dir")
  while IFS= read -r f; do [ -n "$f" ] && CARGS+=(-f "$dir/$f"); done <"$dir/.berth/compose-files"
}

compose_in() { # release-dir compose-args...
  compose_args "$1"
  shift
  docker compose "$\{CARGS[@]}" "$@"
}

# Brings a release up and waits for health, streaming to the log and keeping it in <dir>/.berth/up.log.
# compose's --wait-timeout does not bound the wait for depends_on conditions, so timeout holds the
# whole command to the budget. Returns compose's status (124 or more: out of time).
up_release() { # release-dir
  local status
  set +e
  if [ "$MODE" = swarm ]; then
    local since since_ms deadline
    since=$(date -u +%Y-%m-%dT%H:%M:%S) since_ms=$(date +%s%3N)
    deadline=$(($(date +%s) + WAIT_TIMEOUT))
    stack_args "$1"
    # --prune: services no longer in the stack go, like compose's --remove-orphans.
    timeout --kill-after=15 "$WAIT_TIMEOUT" docker stack deploy "$\{SARGS[@]}" --with-registry-auth \
      --prune --resolve-image always $\{SWARM_DETACH:+"$SWARM_DETACH"} "$PROJECT" 2>&1 | tee "$1/.berth/up.log" >&2
    status=$\{PIPESTATUS[0]}
    if [ "$status" = 0 ]; then
      wait_converged "$since" "$deadline" 2>&1 | tee -a "$1/.berth/up.log" >&2
      status=$\{PIPESTATUS[0]}
    fi
    [ "$status" != 0 ] || swarm_rollouts "$since_ms"
  elif rolls_out "$1"; then
    # Start-first for the services the release lists (rollout.ts); its log is up.log too.
    rollout_release "$1"
    status=$?
  else
    compose_args "$1"
    timeout --kill-after=15 "$WAIT_TIMEOUT" docker compose "$\{CARGS[@]}" \
      up -d --wait --wait-timeout "$WAIT_TIMEOUT" --remove-orphans --no-build 2>&1 | tee "$1/.berth/up.log" >&2
    status=$\{PIPESTATUS[0]}
  fi
  set -e
  return "$status"
}

# What failed, for the summary: every service that is not running and healthy, with its health log.
diagnose() {
  local c service state
  if [ "$MODE" = swarm ]; then
    diagnose_swarm
    return
  fi
  for c in $(compose_in "$rel" ps -a -q 2>/dev/null); do
    service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$c")
    state=$(docker inspect -f '{{.State.Status}}{{if .State.Health}}/{{.State.Health.Status}}{{end}}' "$c")
    case "$state" in running | running/healthy) continue ;; esac
    report_unhealthy "$c" "$service" "$state"
  done
}

report_unhealthy() { # container service state
  emit unhealthy "$2 $3"
  emit health "$2 $(health_of "$1")"
  echo "--- last log lines of $2 ($3)" >&2
  docker logs --tail 20 "$1" >&2 2>&1 || true
}

health_of() { # container: its health-check log as base64 JSON
  docker inspect -f '{{if .State.Health}}{{json .State.Health.Log}}{{else}}[]{{end}}' "$1" 2>/dev/null | base64 -w0
}
`;

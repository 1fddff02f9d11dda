// The script that runs on the host, in the one SSH connection of a deploy. Its body is static
// text; every value reaches it through the quoted assignments of `renderDeployScript`, so nothing
// from the inputs is ever parsed as shell. It reports to the action through `::berth::key=value`
// lines on stdout.
import { shellQuote } from '../../../lib/ssh/shell.js';

export interface Probe {
  url: string;
  status: number;
  maxLatencyMs?: number;
}

export const DEPLOY_MODES = ['compose', 'swarm'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

export interface DeployScriptParams {
  mode: DeployMode;
  remoteDir: string;
  project: string;
  release: string;
  /** compose files (swarm: the stack file), relative to the release directory, base first */
  composeFiles: string[];
  waitTimeoutSeconds: number;
  lockTimeoutSeconds: number;
  rollback: boolean;
  keepReleases: number;
  prune: boolean;
  /** what the lock file says while this deploy holds it */
  holder: string;
  /** the audit line's fields known before the deploy, as a JSON object text without its closing brace */
  auditPrefix: string;
  probes: Probe[];
  /** relative to the release directory */
  caFile?: string;
  registry?: string;
  registryUser?: string;
}

export function renderDeployScript(p: DeployScriptParams): string {
  const assign = (name: string, value: string | number | boolean): string =>
    `${name}=${shellQuote(typeof value === 'boolean' ? (value ? '1' : '0') : String(value))}`;
  const array = (name: string, values: string[]): string => `${name}=(${values.map(shellQuote).join(' ')})`;
  const header = [
    assign('MODE', p.mode),
    assign('REMOTE_DIR', p.remoteDir),
    assign('PROJECT', p.project),
    assign('RELEASE', p.release),
    array('COMPOSE_FILES', p.composeFiles),
    assign('WAIT_TIMEOUT', p.waitTimeoutSeconds),
    assign('LOCK_TIMEOUT', p.lockTimeoutSeconds),
    assign('ROLLBACK', p.rollback),
    assign('KEEP', p.keepReleases),
    assign('PRUNE', p.prune),
    assign('HOLDER', p.holder),
    assign('AUDIT_PREFIX', p.auditPrefix),
    array(
      'PROBES',
      p.probes.map((x) => `${x.url}|${x.status}|${x.maxLatencyMs ?? ''}`),
    ),
    assign('CA_FILE', p.caFile ?? ''),
    assign('REGISTRY', p.registry ?? ''),
    assign('REGISTRY_USER', p.registryUser ?? ''),
  ].join('\n');
  return `${header}\n${DEPLOY_BODY}`;
}

/** Where the action uploads a release before the deploy script takes the lock and moves it in place. */
export function incomingDir(remoteDir: string, release: string): string {
  return `${remoteDir}/releases/.incoming-${release}`;
}

// Bash's `${` is written `$\{` below, because `${` would start a JS template substitution.
const DEPLOY_BODY = String.raw`
set -Eeuo pipefail
umask 077
emit() { printf '::berth::%s=%s\n' "$1" "$2"; }
# Stage changes are reported with a millisecond clock, so the summary can say where the time went.
enter() {
  stage=$1
  emit stage "$1 $(date +%s%3N)"
}
started=$(date +%s)
cd "$REMOTE_DIR"
incoming="releases/.incoming-$RELEASE"
stage=start
status=failed
audit() { # appends one JSON line per attempt to deploy.log
  local now
  now=$(date +%s)
  emit duration-seconds "$((now - started))"
  printf '%s,"status":"%s","failed_stage":"%s","duration_seconds":%d}\n' \
    "$AUDIT_PREFIX" "$status" "$([ "$status" = deployed ] && echo "" || echo "$stage")" "$((now - started))" >>deploy.log
}

[ -d "$incoming" ] || { echo "berth: upload $incoming is missing" >&2; exit 2; }
# Whatever happens, the throw-away registry login does not outlive the script.
registry_config=""
trap '[ -z "$registry_config" ] || rm -rf "$registry_config"' EXIT
unlock() {
  : >.lock
  flock -u 9
}

# One deploy at a time per remote-dir. The lock file's content names the holder while it is held.
enter lock
exec 9>>.lock
if ! flock -w "$LOCK_TIMEOUT" 9; then
  emit lock-holder "$(head -c 400 .lock | tr '\n' ' ')"
  rm -rf "$incoming"
  audit
  exit 75
fi
printf '%s\n' "$HOLDER" >.lock
enter prepare
# Uploads of deploys that died before taking the lock.
find releases -mindepth 1 -maxdepth 1 -name '.incoming-*' ! -name ".incoming-$RELEASE" -mmin +60 -exec rm -rf {} + 2>/dev/null || true

previous=""
if [ -L current ]; then previous=$(basename "$(readlink current)"); fi
emit previous-release "$previous"
mv "$incoming" "releases/$RELEASE"
rel="$REMOTE_DIR/releases/$RELEASE"
mkdir -p "$rel/.berth"
printf '%s\n' "$\{COMPOSE_FILES[@]}" >"$rel/.berth/compose-files"

compose_args() { # release-dir: sets CARGS to the release's project and compose files
  local dir=$1 f
  CARGS=(-p "$PROJECT" --project-directory "$dir")
  while IFS= read -r f; do [ -n "$f" ] && CARGS+=(-f "$dir/$f"); done <"$dir/.berth/compose-files"
}

stack_args() { # release-dir: sets SARGS to the release's stack files (mode swarm)
  local dir=$1 f
  SARGS=()
  while IFS= read -r f; do [ -n "$f" ] && SARGS+=(-c "$dir/$f"); done <"$dir/.berth/compose-files"
}

# One line per service of the stack: name ready/desired update-state update-start. Ready counts
# the running tasks made from the service's current spec (the engine's _up-to-date task filter, as
# docker service update --detach=false uses): an old task still running is not ready, and a task
# with a health check runs only once healthy.
stack_state() {
  local name desired state started ready
  docker service ls --filter "label=com.docker.stack.namespace=$PROJECT" --format '{{.Name}} {{.Replicas}}' |
    while read -r name desired _; do
      read -r state started < <(docker service inspect "$name" -f '{{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt.Format "2006-01-02T15:04:05"}}{{else}}none -{{end}}')
      ready=$(docker service ps "$name" --filter _up-to-date=true --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
      printf '%s %s/%s %s %s\n' "$name" "$ready" "$\{desired##*/}" "$state" "$started"
    done
}

# Waits until every service runs all its replicas from its current spec, healthy; returns 1 as
# soon as swarm gives up on an update this deploy started (paused, or rolled back by its
# update_config), 124 when out of time.
wait_converged() { # since deadline
  local since=$1 deadline=$2 name ready state started pending
  while :; do
    pending=""
    while read -r name ready state started; do
      if [[ ! "$started" < "$since" ]]; then
        case "$state" in paused | rollback_*)
          echo "berth: swarm $state the update of $name" >&2
          return 1
          ;;
        esac
      fi
      [ "$\{ready%%/*}" = "$\{ready##*/}" ] || pending="$pending $name"
    done < <(stack_state)
    [ -z "$pending" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "berth: not converged within $WAIT_TIMEOUT s:$pending" >&2
      return 124
    fi
    sleep 1
  done
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
    local since deadline
    since=$(date -u +%Y-%m-%dT%H:%M:%S)
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
    emit unhealthy "$service $state"
    emit health "$service $(health_of "$c")"
    echo "--- last log lines of $service ($state)" >&2
    docker logs --tail 20 "$c" >&2 2>&1 || true
  done
}

health_of() { # container: its health-check log as base64 JSON
  docker inspect -f '{{if .State.Health}}{{json .State.Health.Log}}{{else}}[]{{end}}' "$1" 2>/dev/null | base64 -w0
}

diagnose_swarm() {
  local name ready state started service task detail container
  while read -r name ready state started; do
    [ "$\{ready%%/*}" != "$\{ready##*/}" ] || continue
    service=$\{name#"$PROJECT"_}
    # The newest task: its state, swarm's error for it, and its container's health log when on this node.
    task=$(docker service ps -q --no-trunc "$name" | head -n 1)
    detail=$(docker inspect -f '{{.Status.State}}{{if .Status.Err}}: {{.Status.Err}}{{end}}' "$task" 2>/dev/null || echo unknown)
    container=$(docker inspect -f '{{if .Status.ContainerStatus}}{{.Status.ContainerStatus.ContainerID}}{{end}}' "$task" 2>/dev/null || true)
    emit unhealthy "$service $ready ready, $detail"
    if [ -n "$container" ] && docker inspect "$container" >/dev/null 2>&1; then
      emit health "$service $(health_of "$container")"
      echo "--- last log lines of $service ($detail)" >&2
      docker logs --tail 20 "$container" >&2 2>&1 || true
    fi
  done < <(stack_state)
}

# Brings the previous release back with the image digests it was pinned to.
rollback() {
  if [ "$ROLLBACK" != 1 ] || [ -z "$previous" ] || [ ! -d "releases/$previous" ]; then return 1; fi
  echo "berth: rolling back to $previous" >&2
  up_release "$REMOTE_DIR/releases/$previous"
}

fail() { # message
  echo "berth: $stage failed: $1" >&2
  emit failed-stage "$stage"
  emit error "$1"
  if [ "$stage" = up ] || [ "$stage" = probe ]; then diagnose; fi
  local keep_release=0
  if [ "$stage" = up ] || [ "$stage" = probe ]; then
    if rollback; then status=rolled-back; else keep_release=1; fi
  fi
  emit status "$status"
  # A failed release goes, unless its containers still run from it (nothing to roll back to).
  [ "$keep_release" = 1 ] || rm -rf "$rel"
  audit
  unlock
  exit 1
}

enter config
if [ "$MODE" = swarm ]; then
  node=$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>&1) || true
  [ "$node" = "active true" ] ||
    fail "mode swarm needs a swarm manager; this host's swarm state is \"$node\" (docker swarm init)"
  stack_args "$rel"
  if ! out=$(docker stack config "$\{SARGS[@]}" 2>&1 >/dev/null); then fail "$(printf '%s' "$out" | tail -n 20)"; fi
  # Older CLIs detach without asking; newer ones warn unless told. Berth waits on its own either way.
  SWARM_DETACH=""
  if docker stack deploy --help 2>/dev/null | grep -q -- '--detach'; then SWARM_DETACH=--detach=true; fi
elif ! out=$(compose_in "$rel" config -q 2>&1); then
  fail "$(printf '%s' "$out" | tail -n 20)"
fi

enter pull
if [ -n "$REGISTRY" ]; then
  # A throw-away docker config: the host user's own logins are neither used nor changed.
  export DOCKER_CONFIG="$rel/.berth/docker"
  registry_config=$DOCKER_CONFIG
  mkdir -p "$DOCKER_CONFIG"
  [ -d "$HOME/.docker/cli-plugins" ] && ln -s "$HOME/.docker/cli-plugins" "$DOCKER_CONFIG/cli-plugins"
  if ! out=$(docker login "$REGISTRY" --username "$REGISTRY_USER" --password-stdin <"$rel/.berth/registry-password" 2>&1); then
    rm -f "$rel/.berth/registry-password"
    fail "docker login $REGISTRY as $REGISTRY_USER: $(printf '%s' "$out" | tail -n 3)"
  fi
  rm -f "$rel/.berth/registry-password"
fi
# Every image is pulled, build sections or not: the host never builds. A swarm manager pulls
# them too, so that a missing image or a refused login fails here, before any service changes.
if [ "$MODE" = swarm ]; then
  while IFS= read -r image; do
    if ! out=$(docker pull --quiet "$image" 2>&1); then fail "docker pull $image: $(printf '%s' "$out" | tail -n 3)"; fi
  done <"$rel/.berth/images"
elif ! out=$(compose_in "$rel" pull --quiet 2>&1); then
  fail "$(printf '%s' "$out" | tail -n 20)"
fi
# Swarm hands the login to its nodes (--with-registry-auth) at every stack deploy, rollback included.
if [ -n "$REGISTRY" ] && [ "$MODE" != swarm ]; then
  rm -rf "$DOCKER_CONFIG"
  registry_config=""
  unset DOCKER_CONFIG
fi

enter up
up_status=0
up_release "$rel" || up_status=$?
if [ "$up_status" -ge 124 ]; then
  fail "services were not all healthy within $WAIT_TIMEOUT s"
elif [ "$up_status" -ne 0 ]; then
  fail "docker compose up failed: $(grep -v '^ Container \| Network \| Volume ' "$rel/.berth/up.log" | tail -n 3 | tr '\n' ' ')"
fi

enter probe
if [ "$\{#PROBES[@]}" -gt 0 ] && ! command -v curl >/dev/null; then fail "health-urls need curl on the host"; fi
# A service that has just become healthy may still be settling (a proxy re-resolving its upstream,
# a cache warming up): each probe gets up to 10 tries a second apart, and the last one counts.
for probe in "$\{PROBES[@]}"; do
  IFS='|' read -r url want max <<<"$probe"
  curl_args=(-sS -o /dev/null --max-time 10 -w '%{http_code} %{time_total}')
  [ -n "$CA_FILE" ] && curl_args+=(--cacert "$rel/$CA_FILE")
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    got=$(curl "$\{curl_args[@]}" "$url" 2>"$rel/.berth/probe.err") || true
    code=$\{got%% *}
    ms=$(awk -v t="$\{got##* }" 'BEGIN { printf "%d", t * 1000 }' 2>/dev/null || echo 0)
    problem=""
    if [ "$\{code:-000}" = 000 ]; then
      problem="failed: $(tail -n 1 "$rel/.berth/probe.err")"
    elif [ "$code" != "$want" ]; then
      problem="answered HTTP $code, expected $want"
    elif [ -n "$max" ] && [ "$ms" -gt "$max" ]; then
      problem="took $ms ms, budget $max ms"
    fi
    [ -z "$problem" ] && break
    [ "$attempt" = 10 ] || sleep 1
  done
  emit probe "$url $\{code:-000} $\{ms}ms"
  [ -z "$problem" ] || fail "probe $url $problem (10 tries)"
done

enter switch
# Pin what runs now by digest, so a rollback to this release brings back exactly these images.
pins="$rel/.berth/pins.yml"
echo "services:" >"$pins"
if [ "$MODE" = swarm ]; then
  # Swarm resolved every image to a digest (--resolve-image always): the service spec holds it.
  mapfile -t ids < <(docker service ls -q --filter "label=com.docker.stack.namespace=$PROJECT")
  if [ "$\{#ids[@]}" -gt 0 ]; then
    while read -r name ref; do
      service=$\{name#"$PROJECT"_}
      printf '  "%s":\n    image: "%s"\n' "$service" "$ref" >>"$pins"
      emit image "$service $ref"
    done < <(docker service inspect -f '{{.Spec.Name}} {{.Spec.TaskTemplate.ContainerSpec.Image}}' "$\{ids[@]}")
  fi
  ids=()
else
  # docker ps, not compose ps: the same containers (compose's project label), without compose's start-up.
  mapfile -t ids < <(docker ps -q --filter "label=com.docker.compose.project=$PROJECT")
fi
if [ "$\{#ids[@]}" -gt 0 ]; then
  # One docker call for all services: each container's service, configured image and image id. An
  # image configured by digest (the images input) is its own pin; others need the image's digest.
  mapfile -t running < <(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}} {{.Config.Image}}' "$\{ids[@]}")
  declare -A digest_of=()
  unpinned=()
  for line in "$\{running[@]}"; do
    read -r _ image_id configured <<<"$line"
    [[ "$configured" == *@sha256:* ]] || unpinned+=("$image_id")
  done
  if [ "$\{#unpinned[@]}" -gt 0 ]; then
    while read -r image_id ref; do digest_of[$image_id]=$ref; done < <(
      docker image inspect -f '{{.Id}} {{if .RepoDigests}}{{index .RepoDigests 0}}{{end}}' $(printf '%s\n' "$\{unpinned[@]}" | sort -u)
    )
  fi
  for line in "$\{running[@]}"; do
    read -r service image_id configured <<<"$line"
    if [[ "$configured" == *@sha256:* ]]; then ref=$configured; else ref=$\{digest_of[$image_id]:-$image_id}; fi
    printf '  "%s":\n    image: "%s"\n' "$service" "$ref" >>"$pins"
    emit image "$service $ref"
  done
fi
echo ".berth/pins.yml" >>"$rel/.berth/compose-files"
ln -sfn "releases/$RELEASE" current.new
mv -Tf current.new current
status=deployed

enter retention
images_of() { [ -f "$1/.berth/pins.yml" ] && sed -n 's/^    image: "\(.*\)"$/\1/p' "$1/.berth/pins.yml" || true; }
mapfile -t all < <(find releases -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort)
remove=()
if [ "$\{#all[@]}" -gt "$KEEP" ]; then
  for r in "$\{all[@]:0:$\{#all[@]}-KEEP}"; do
    [ "$r" = "$RELEASE" ] || [ "$r" = "$previous" ] || remove+=("$r")
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
    rm -rf "releases/$r"
    emit removed-release "$r"
  done
fi
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

enter done
emit status "$status"
audit
unlock
`.replaceAll('$\\{', '${');

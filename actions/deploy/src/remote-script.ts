// The script that runs on the host, in the one SSH connection of a deploy. Its body is static
// text; every value reaches it through the quoted assignments of `renderDeployScript`, so nothing
// from the inputs is ever parsed as shell. It reports to the action through `::berth::key=value`
// lines on stdout.
import { shellQuote } from '../../../lib/shell.js';

export interface Probe {
  url: string;
  status: number;
  maxLatencyMs?: number;
}

export interface DeployScriptParams {
  remoteDir: string;
  project: string;
  release: string;
  /** compose files, relative to the release directory, base first */
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
  compose_args "$1"
  set +e
  timeout --kill-after=15 "$WAIT_TIMEOUT" docker compose "$\{CARGS[@]}" \
    up -d --wait --wait-timeout "$WAIT_TIMEOUT" --remove-orphans --no-build 2>&1 | tee "$1/.berth/up.log" >&2
  status=$\{PIPESTATUS[0]}
  set -e
  return "$status"
}

# What failed, for the summary: every service that is not running and healthy, with its health log.
diagnose() {
  local c service state
  for c in $(compose_in "$rel" ps -a -q 2>/dev/null); do
    service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$c")
    state=$(docker inspect -f '{{.State.Status}}{{if .State.Health}}/{{.State.Health.Status}}{{end}}' "$c")
    case "$state" in running | running/healthy) continue ;; esac
    emit unhealthy "$service $state"
    emit health "$service $(docker inspect -f '{{if .State.Health}}{{json .State.Health.Log}}{{else}}[]{{end}}' "$c" | base64 -w0)"
    echo "--- last log lines of $service ($state)" >&2
    docker logs --tail 20 "$c" >&2 2>&1 || true
  done
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
if ! out=$(compose_in "$rel" config -q 2>&1); then fail "$(printf '%s' "$out" | tail -n 20)"; fi

enter pull
if [ -n "$REGISTRY" ]; then
  # A throw-away docker config: the host user's own logins are neither used nor changed.
  export DOCKER_CONFIG="$rel/.berth/docker"
  mkdir -p "$DOCKER_CONFIG"
  [ -d "$HOME/.docker/cli-plugins" ] && ln -s "$HOME/.docker/cli-plugins" "$DOCKER_CONFIG/cli-plugins"
  if ! out=$(docker login "$REGISTRY" --username "$REGISTRY_USER" --password-stdin <"$rel/.berth/registry-password" 2>&1); then
    rm -f "$rel/.berth/registry-password"
    fail "docker login $REGISTRY as $REGISTRY_USER: $(printf '%s' "$out" | tail -n 3)"
  fi
  rm -f "$rel/.berth/registry-password"
fi
# Every image is pulled, build sections or not: the host never builds.
if ! out=$(compose_in "$rel" pull --quiet 2>&1); then fail "$(printf '%s' "$out" | tail -n 20)"; fi
if [ -n "$REGISTRY" ]; then rm -rf "$DOCKER_CONFIG"; unset DOCKER_CONFIG; fi

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
for probe in "$\{PROBES[@]}"; do
  IFS='|' read -r url want max <<<"$probe"
  curl_args=(-sS -o /dev/null --max-time 10 -w '%{http_code} %{time_total}')
  [ -n "$CA_FILE" ] && curl_args+=(--cacert "$rel/$CA_FILE")
  got=""
  for attempt in 1 2 3; do
    if got=$(curl "$\{curl_args[@]}" "$url" 2>&1); then break; fi
    sleep 1
  done
  code=$\{got%% *}
  ms=$(awk -v t="$\{got##* }" 'BEGIN { printf "%d", t * 1000 }' 2>/dev/null || echo 0)
  emit probe "$url $code $\{ms}ms"
  if [ "$code" != "$want" ]; then fail "probe $url answered $\{got:-nothing}, expected HTTP $want"; fi
  if [ -n "$max" ] && [ "$ms" -gt "$max" ]; then fail "probe $url took $\{ms} ms, budget $\{max} ms"; fi
done

enter switch
# Pin what runs now by digest, so a rollback to this release brings back exactly these images.
pins="$rel/.berth/pins.yml"
echo "services:" >"$pins"
mapfile -t ids < <(compose_in "$rel" ps -q)
if [ "$\{#ids[@]}" -gt 0 ]; then
  # Two docker calls for all services: each container's service and image, then each image's digest.
  mapfile -t running < <(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}}' "$\{ids[@]}")
  declare -A digest_of=()
  while read -r image_id ref; do digest_of[$image_id]=$ref; done < <(
    docker image inspect -f '{{.Id}} {{if .RepoDigests}}{{index .RepoDigests 0}}{{end}}' $(printf '%s\n' "$\{running[@]#* }" | sort -u)
  )
  for line in "$\{running[@]}"; do
    service=$\{line%% *}
    image=$\{line#* }
    ref=$\{digest_of[$image]:-$image}
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

enter done
emit status "$status"
audit
unlock
`.replaceAll('$\\{', '${');

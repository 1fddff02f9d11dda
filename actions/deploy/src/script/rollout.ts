// The deploy script's start-first update (inputs zero-downtime, proxy, proxy-reload, drain-seconds;
// staged by rollout.ts as the release's .berth/rollout). For each listed service: its new containers
// start beside the old ones; once healthy the proxy is reloaded (it resolves both), new connections
// from the proxy to the old addresses are refused at once (so the proxy retries them on the new
// ones) while requests in flight finish; after the drain the old ones are stopped gracefully, the
// proxy is reloaded again (it resolves only the new) and the old ones removed. Then the other services
// are brought up without naming the rolled ones, so that nothing just rolled is recreated.
// These functions run inside up_release, called in a `||` list: errexit is off, every status is
// checked here.
import { bash } from '../../../../lib/ssh/host-script.js';

export const ROLLOUT = bash`read_rollout() { # release-dir: ZD_SERVICES, ZD_PROXY, ZD_RELOAD, ZD_DRAIN from its .berth/rollout
  local line key value
  ZD_SERVICES=() ZD_PROXY="" ZD_RELOAD=() ZD_DRAIN=0
  [ -f "$1/.berth/rollout" ] || return 0
  while IFS= read -r line; do
    key=$\{line%% *} value=$\{line#* }
    case "$key" in
      service) ZD_SERVICES+=("$value") ;;
      proxy) ZD_PROXY=$value ;;
      reload) ZD_RELOAD+=("$value") ;;
      drain) [[ "$value" =~ ^[0-9]+$ ]] && ZD_DRAIN=$value ;;
    esac
  done <"$1/.berth/rollout"
}

zd_log() { printf 'berth: %s\n' "$*" | tee -a "$ZD_LOG" >&2; }

zd_ids() { # service: its running containers, one id a line
  docker ps -q --no-trunc --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" | sort
}

zd_workers() { # the proxy's processes but its main one, "pid args" a line (ps on the host: nothing in the image)
  docker top "$ZD_PROXY_ID" -o pid,args 2>/dev/null | awk -v main="$ZD_PROXY_PID" 'NR > 1 && $1 != main' | sort
}

# A reload command may return before it took effect (nginx -s reload only signals the master): until
# the old workers stop accepting, they still proxy to the addresses they resolved before, and a
# refusal set now would fail their requests. So it waits, up to 10 s, for every worker that ran
# before the reload to have exited or changed its command line (nginx renames it "is shutting down").
zd_reload() {
  [ -n "$ZD_PROXY_ID" ] || return 0
  local out before i
  before=$(zd_workers)
  if ! out=$(docker exec "$ZD_PROXY_ID" "$\{ZD_RELOAD[@]}" 2>&1); then
    zd_log "reloading $ZD_PROXY ($\{ZD_RELOAD[*]}) failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
    return 1
  fi
  [ -n "$before" ] || return 0
  for ((i = 0; i < 200; i++)); do
    [ -n "$(comm -12 <(printf '%s\n' "$before") <(zd_workers))" ] || return 0
    sleep 0.05
  done
  emit warning "zero-downtime: $ZD_PROXY's workers from before the reload still ran 10 s after it"
}

# The refusal rules live in the proxy container's network namespace (gone with it), set by the
# host's own iptables, run through chroot from a helper container of the proxy's image: nothing is
# pulled or installed. ZD_RULES lists what is set, so that every path (the EXIT trap too) removes it.
ZD_RULES=() ZD_HELPER="" ZD_HELPER_PID=""
# Started in the background while the new containers get healthy: its start is off the critical path.
zd_helper_start() {
  [ -n "$ZD_PROXY_ID" ] && [ -z "$ZD_HELPER" ] || return 0
  ZD_HELPER="berth-rollout-$PROJECT-$$"
  docker run -d --rm --name "$ZD_HELPER" --net "container:$ZD_PROXY_ID" --cap-add NET_ADMIN --user 0 \
    --label "berth.rollout-helper=$PROJECT" -v /:/host:ro --entrypoint chroot "$ZD_PROXY_IMAGE" /host sleep "$((WAIT_TIMEOUT + ZD_DRAIN + 120))" >/dev/null 2>>"$ZD_LOG" &
  ZD_HELPER_PID=$!
}

zd_helper_ready() { # whether the helper started (waits for its start)
  [ -n "$ZD_HELPER" ] || return 1
  [ -z "$ZD_HELPER_PID" ] && return 0
  wait "$ZD_HELPER_PID" && ZD_HELPER_PID="" && return 0
  docker rm -f "$ZD_HELPER" >/dev/null 2>&1 || true
  ZD_HELPER="" ZD_HELPER_PID=""
  return 1
}

zd_reject() { # ips...
  local ip
  [ -n "$ZD_PROXY_ID" ] && [ "$#" -gt 0 ] || return 0
  zd_helper_start
  zd_helper_ready || {
    emit warning "zero-downtime: no helper container from the proxy's image (it needs chroot): new connections to the old containers were not refused during the drain"
    return 0
  }
  for ip in "$@"; do
    ZD_RULES+=("$ip")
    docker exec "$ZD_HELPER" chroot /host iptables -I OUTPUT -d "$ip" -p tcp --syn -j REJECT --reject-with tcp-reset 2>>"$ZD_LOG" ||
      emit warning "zero-downtime: could not refuse new connections to $ip in the proxy's network namespace"
  done
}

zd_unreject() {
  local ip
  # A helper still starting would outlive a removal issued now.
  [ -z "$ZD_HELPER_PID" ] || wait "$ZD_HELPER_PID" 2>/dev/null || true
  ZD_HELPER_PID=""
  for ip in "$\{ZD_RULES[@]}"; do
    docker exec "$ZD_HELPER" chroot /host iptables -D OUTPUT -d "$ip" -p tcp --syn -j REJECT --reject-with tcp-reset >/dev/null 2>&1 || true
  done
  ZD_RULES=()
  [ -z "$ZD_HELPER" ] || docker rm -f "$ZD_HELPER" >/dev/null 2>&1 || true
  ZD_HELPER=""
}

zd_wait_healthy() { # deadline: every new container running and healthy; 124 when out of time
  local c state pending
  while :; do
    pending=0
    for c in "$\{ZD_NEW[@]}"; do
      state=$(docker inspect -f '{{.State.Status}}{{if .State.Health}}/{{.State.Health.Status}}{{end}}' "$c" 2>/dev/null)
      case "$state" in
        running/healthy | running) ;;
        running/starting) pending=1 ;;
        *) report_unhealthy "$c" "$ZD_S" "$\{state:-gone}"; return 1 ;;
      esac
    done
    [ "$pending" = 1 ] || return 0
    if [ "$(date +%s)" -ge "$1" ]; then
      for c in "$\{ZD_NEW[@]}"; do report_unhealthy "$c" "$ZD_S" "$(docker inspect -f '{{.State.Status}}/{{.State.Health.Status}}' "$c" 2>/dev/null)"; done
      return 124
    fi
    sleep 0.2
  done
}

# Back to where the service was: the new containers gone, no rule left, the proxy resolving only
# the old ones again. The old ones never stopped.
zd_abort() {
  [ -n "$ZD_S" ] || return 0
  zd_log "start-first of $ZD_S failed: its new containers are removed, the old ones keep serving"
  [ "$\{#ZD_NEW[@]}" = 0 ] || docker rm -f "$\{ZD_NEW[@]}" >/dev/null 2>&1 || true
  zd_unreject
  zd_reload || true
  emit rollout "$ZD_S aborted $(($(date +%s%3N) - ZD_T0))"
  ZD_S=""
}

zd_roll() { # release-dir service deadline
  local c want ips=() out status healthy_ms
  ZD_S=$2 ZD_NEW=() ZD_T0=$(date +%s%3N)
  mapfile -t ZD_OLD < <(zd_ids "$2")
  want=$(printf '%s\n' "$ZD_HASHES" | awk -v s="$2" '$1 == s { print $2 }')
  out=$(for c in "$\{ZD_OLD[@]}"; do docker inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' "$c"; done | sort -u)
  if [ -n "$want" ] && [ "$out" = "$want" ]; then
    emit rollout "$2 unchanged"
    ZD_S=""
    return 0
  fi
  zd_log "$2: starting $\{#ZD_OLD[@]} new container(s) beside the old"
  # --no-recreate holds for its dependencies too: what changed in them is the later up's to apply.
  timeout --kill-after=15 "$(($3 - $(date +%s) > 0 ? $3 - $(date +%s) : 1))" docker compose "$\{CARGS[@]}" \
    up -d --no-recreate --no-build --scale "$2=$((2 * $\{#ZD_OLD[@]}))" -- "$2" 2>&1 | tee -a "$ZD_LOG" >&2
  status=$\{PIPESTATUS[0]}
  mapfile -t ZD_NEW < <(comm -13 <(printf '%s\n' "$\{ZD_OLD[@]}") <(zd_ids "$2"))
  [ "$status" = 0 ] || { zd_abort; return "$status"; }
  zd_helper_start
  zd_wait_healthy "$3" || { status=$?; zd_log "$2: the new containers did not get healthy"; zd_abort; return "$status"; }
  healthy_ms=$(($(date +%s%3N) - ZD_T0))
  zd_log "$2: the new container(s) healthy after $healthy_ms ms"
  zd_reload || { zd_abort; return 1; }
  for c in "$\{ZD_OLD[@]}"; do
    mapfile -t -O "$\{#ips[@]}" ips < <(docker inspect -f '{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}' "$c" | grep -E '^[0-9.]+$')
  done
  zd_reject "$\{ips[@]}"
  zd_log "$2: draining the old container(s) for $ZD_DRAIN s"
  sleep "$ZD_DRAIN"
  # A graceful stop (the service's stop signal and grace period) lets what is still in flight finish;
  # the proxy's new connections to the old addresses are refused meanwhile, so it retries them on
  # the new ones. Stopped, the old ones leave the network's DNS: the reload then resolves only the new.
  docker stop "$\{ZD_OLD[@]}" >/dev/null 2>>"$ZD_LOG" || { zd_abort; return 1; }
  ZD_S=""
  zd_reload || emit warning "zero-downtime: $ZD_PROXY was not reloaded after the old $2 container(s) stopped"
  zd_unreject
  docker rm "$\{ZD_OLD[@]}" >/dev/null 2>>"$ZD_LOG" || emit warning "zero-downtime: the old $2 container(s) could not be removed"
  zd_log "$2: the old container(s) removed after $(($(date +%s%3N) - ZD_T0)) ms"
  emit rollout "$2 start-first $healthy_ms $ZD_DRAIN"
}

zd_services() { # the release's services: those ZD_HASHES names, without one more compose run
  if [ -n "$ZD_HASHES" ]; then
    printf '%s\n' "$ZD_HASHES" | awk 'NF { print $1 }'
  else
    docker compose "$\{CARGS[@]}" config --services 2>>"$ZD_LOG"
  fi
}

# Never --no-deps: compose leaves depends_on out of a service's config hash when its dependencies are
# not part of the command, so that the next up (and this one) would recreate it. The rolled services
# are not named, but come in as dependencies: their containers match the release, nothing changes.
zd_rest() { # release-dir deadline: up for the services not rolled
  local s rest=() before=() status t0 left
  while IFS= read -r s; do
    if printf '%s\n' "$\{ZD_ROLLED[@]}" | grep -qxF -- "$s"; then continue; fi
    rest+=("$s")
    before+=("$(zd_ids "$s" | tr '\n' ' ')")
  done < <(zd_services)
  [ "$\{#rest[@]}" -gt 0 ] || return 0
  t0=$(date +%s%3N) left=$(($2 - $(date +%s)))
  [ "$left" -gt 0 ] || left=1
  timeout --kill-after=15 "$left" docker compose "$\{CARGS[@]}" up -d --wait --wait-timeout "$left" \
    --remove-orphans --no-build -- "$\{rest[@]}" 2>&1 | tee -a "$ZD_LOG" >&2
  status=$\{PIPESTATUS[0]}
  for i in "$\{!rest[@]}"; do
    s=$\{rest[$i]}
    if [ "$(zd_ids "$s" | tr '\n' ' ')" = "$\{before[$i]}" ]; then
      emit rollout "$s unchanged"
    elif [ -z "$\{before[$i]}" ]; then
      emit rollout "$s created $(($(date +%s%3N) - t0))"
    else
      emit rollout "$s recreated $(($(date +%s%3N) - t0))"
    fi
  done
  return "$status"
}

# The whole release, start-first for its listed services. Returns like up_release.
rollout_release() { # release-dir
  local deadline=$(($(date +%s) + WAIT_TIMEOUT)) s status
  ZD_LOG="$1/.berth/up.log"
  : >"$ZD_LOG"
  compose_args "$1"
  # The hashes up will label the containers with: config --hash alone differs from them when a
  # service has an env_file, its resolved model (env_file merged in) does not. None: all roll.
  ZD_HASHES=$(docker compose "$\{CARGS[@]}" config --format json 2>>"$ZD_LOG" |
    docker compose -p "$PROJECT" --project-directory "$1" -f - config --no-interpolate --hash '*' 2>>"$ZD_LOG") || ZD_HASHES=""
  ZD_PROXY_ID=$(zd_ids "$ZD_PROXY" | head -n 1)
  ZD_PROXY_IMAGE="" ZD_PROXY_PID=""
  [ -z "$ZD_PROXY_ID" ] || read -r ZD_PROXY_IMAGE ZD_PROXY_PID < <(docker inspect -f '{{.Image}} {{.State.Pid}}' "$ZD_PROXY_ID")
  ZD_ROLLED=()
  for s in "$\{ZD_SERVICES[@]}"; do
    # Nothing runs to keep serving (a new service): it is created with the others.
    [ -n "$(zd_ids "$s")" ] || continue
    ZD_ROLLED+=("$s")
    zd_roll "$1" "$s" "$deadline" || return $?
  done
  zd_rest "$1" "$deadline"
}

# Whether a release is brought up start-first: it lists services and something of it runs already.
rolls_out() { # release-dir
  [ "$MODE" = compose ] || return 1
  read_rollout "$1"
  [ "$\{#ZD_SERVICES[@]}" -gt 0 ] && [ -n "$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" | head -n 1)" ]
}
`;

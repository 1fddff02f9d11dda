// The deploy script's stages before the switch: config, pull, up (with health) and the probes.
import { bash } from '../../../../lib/ssh/host-script.js';

export const CONFIG = bash`enter config
# Preflight (preflight.ts) checked the host before the upload: a swarm manager, curl for the probes.
if [ "$MODE" = swarm ]; then
  stack_args "$rel"
  if ! out=$(docker stack config "$\{SARGS[@]}" 2>&1 >/dev/null); then fail "$(printf '%s' "$out" | tail -n 20)"; fi
  # Older CLIs detach without asking; newer ones warn unless told. Berth waits on its own either way.
  SWARM_DETACH=""
  if docker stack deploy --help 2>/dev/null | grep -q -- '--detach'; then SWARM_DETACH=--detach=true; fi
elif ! out=$(compose_in "$rel" config -q 2>&1); then
  fail "$(printf '%s' "$out" | tail -n 20)"
fi
`;

export const PULL = bash`enter pull
if [ -n "$REGISTRY" ]; then
  # A throw-away docker config: the host user's own logins are neither used nor changed.
  export DOCKER_CONFIG="$rel/.berth/docker"
  registry_config=$DOCKER_CONFIG
  mkdir -p "$DOCKER_CONFIG"
  [ -d "$HOME/.docker/cli-plugins" ] && ln -s "$HOME/.docker/cli-plugins" "$DOCKER_CONFIG/cli-plugins"
  if ! out=$(docker login --username="$REGISTRY_USER" --password-stdin -- "$REGISTRY" <"$rel/.berth/registry-password" 2>&1); then
    rm -f "$rel/.berth/registry-password"
    fail "docker login $REGISTRY as $REGISTRY_USER: $(printf '%s' "$out" | tail -n 3)"
  fi
  rm -f "$rel/.berth/registry-password"
fi
# Every image is pulled, build sections or not: the host never builds. A swarm manager pulls
# them too, so that a missing image or a refused login fails here, before any service changes.
if [ "$MODE" = swarm ]; then
  while IFS= read -r image; do
    if ! out=$(docker pull --quiet -- "$image" 2>&1); then fail "docker pull $image: $(printf '%s' "$out" | tail -n 3)"; fi
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
`;

export const UP = bash`enter up
up_status=0
up_release "$rel" || up_status=$?
if [ "$up_status" -ge 124 ]; then
  fail "services were not all healthy within $WAIT_TIMEOUT s"
elif [ "$up_status" -ne 0 ]; then
  fail "docker compose up failed: $(grep -v '^ Container \| Network \| Volume ' "$rel/.berth/up.log" | tail -n 3 | tr '\n' ' ')"
fi
`;

export const PROBE = bash`enter probe
# The certificate an https probe was served: its expiry reported, and below CERT_MIN_DAYS days left
# the release fails. Read from curl's verbose lines, of which only the expiry is kept (the others
# hold the request's headers).
probe_cert() { # index url
  local cert_args expires at days
  cert_args=(-v -o /dev/null --globoff --proto '=https' --max-time 10)
  [ -n "$CA_FILE" ] && cert_args+=(--cacert "$rel/$CA_FILE")
  cert_args+=(-K "$rel/.berth/probes/$1.curl")
  expires=$(curl "$\{cert_args[@]}" 2>&1 >/dev/null | sed -n 's/^\*[[:space:]]*expire date:[[:space:]]*//p' | head -n 1) || true
  if ! at=$(date -u -d "$expires" +%s 2>/dev/null) || [ -z "$expires" ]; then
    emit warning "probe $2: the served certificate's expiry could not be read"
    return 0
  fi
  days=$(( (at - $(date -u +%s)) / 86400 ))
  emit cert "$2 $at"
  [ "$days" -ge "$CERT_MIN_DAYS" ] ||
    fail "probe $2 was served a certificate that expires in $days days ($(date -u -d "@$at" '+%Y-%m-%d %H:%M UTC')), fewer than cert-min-days $CERT_MIN_DAYS"
}
# A service that has just become healthy may still be settling (a proxy re-resolving its upstream,
# a cache warming up): each probe gets up to 10 tries a second apart, and the last one counts.
# curl reads the URL and the headers from the probe's 0600 config file (-K), never from its command
# line; $url is the URL with its query values hidden, for the report. No globbing, http(s) only.
for i in "$\{!PROBE_URLS[@]}"; do
  url=$\{PROBE_URLS[$i]} want=$\{PROBE_STATUS[$i]} max=$\{PROBE_MAX[$i]}
  curl_args=(-sS -o /dev/null --globoff --proto '=http,https' --max-time 10 -w '%{http_code} %{time_total}')
  [ -n "$CA_FILE" ] && curl_args+=(--cacert "$rel/$CA_FILE")
  curl_args+=(-K "$rel/.berth/probes/$i.curl")
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    got=$(curl "$\{curl_args[@]}" 2>"$rel/.berth/probe.err") || true
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
  [ "$\{url#https://}" = "$url" ] || probe_cert "$i" "$url"
done
`;

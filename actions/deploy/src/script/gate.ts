// The Alertmanager gate on the host (inputs alertmanager-url, alert-filter, bake-seconds; gate.ts):
// Alertmanager is asked from the host, where its URL resolves. Preflight checks that it answers and
// that no matching alert fires yet; the bake (after the probes, before the switch) watches it in
// this one script run. What Alertmanager says goes back base64-encoded and is judged on the runner
// (gate-report.ts); here only "an empty list" is told from anything else, so that anything else
// (an alert, or an answer that is not a list) stops the release.
import { bash } from '../../../../lib/ssh/host-script.js';

/**
 * am_get PATH: sets am_code (the HTTP status; 000 when there was no answer) and am_out (the body, or
 * why there was none). curl when the host has it, else wget (which tells no status: 200 when it
 * succeeded). The URL is no secret (credentials are refused in it), so it may be an argument.
 */
export const AM_FUNCTIONS = bash`am_get() {
  local out
  if command -v curl >/dev/null 2>&1; then
    if out=$(curl -sS --globoff --proto '=http,https' --max-time "$AM_TIMEOUT" -w '\n%{http_code}' -- "$AM_URL$1" 2>&1); then
      am_code=$\{out##*$'\n'} am_out=$\{out%$'\n'*}
    else
      am_code=000 am_out=$(printf '%s\n' "$out" | grep -m 1 '^curl:' || echo "curl exited with an error")
    fi
  elif out=$(wget -q -O - -T "$AM_TIMEOUT" -- "$AM_URL$1" 2>/dev/null); then
    am_code=200 am_out=$out
  else
    am_code=000 am_out="wget found no answer or an HTTP error (exit $?)"
  fi
}

# emit_body KEY TEXT: the text base64-encoded in report lines of at most 48 KiB, up to 1 MiB of it.
emit_body() {
  printf '%s' "$2" | head -c 1048576 | base64 -w 49152 | while IFS= read -r chunk; do emit "$1" "$chunk"; done || true
}
`;

/** Preflight's part (it writes nothing): Alertmanager answers, and what already fires. */
export const GATE_PREFLIGHT = bash`if [ -n "$AM_URL" ]; then
  if ! have curl && ! have wget; then
    emit missing http-client
  else
    am_get /api/v2/status
    emit am-status-code "$am_code"
    emit_body am-status "$am_out"
    if [ "$am_code" = 200 ]; then
      am_get "/api/v2/alerts?$AM_QUERY"
      emit am-alerts-code "$am_code"
      emit_body am-alerts "$am_out"
    fi
  fi
fi
`;

/**
 * The bake: polls (about one a second) until BAKE_SECONDS have passed since the probes, ending on a
 * poll that answered. A matching alert at any poll goes through fail() and so rolls back (FAILURE).
 * Alertmanager not answering 3 polls in a row rolls back too: the gate cannot vouch for a release it
 * could not watch, and a silent pass is what the gate exists to prevent.
 */
export const BAKE = bash`if [ -n "$AM_URL" ]; then
  enter bake
  bake_start=$(date +%s%3N)
  bake_until=$((bake_start + BAKE_SECONDS * 1000))
  bake_polls=0 bake_misses=0
  while :; do
    am_get "/api/v2/alerts?$AM_QUERY"
    bake_polls=$((bake_polls + 1))
    now=$(date +%s%3N)
    if [ "$am_code" = 200 ]; then
      bake_misses=0
      # Alertmanager answers an empty list as []: anything else is an alert (or not a list at all).
      if [ "$(printf '%s' "$am_out" | tr -d ' \t\r\n')" != "[]" ]; then
        emit gate-watched "$((now - bake_start)) $bake_polls"
        emit_body gate-alerts "$am_out"
        fail "an alert matching alert-filter fired $(((now - bake_start) / 1000)) s into the bake"
      fi
      [ "$now" -lt "$bake_until" ] || break
    else
      bake_misses=$((bake_misses + 1))
      detail=$(printf '%s' "$am_out" | tr '\n' ' ' | head -c 300 || true)
      echo "berth: Alertmanager poll $bake_polls: $am_code $detail" >&2
      if [ "$bake_misses" -ge 3 ]; then
        emit gate-watched "$((now - bake_start)) $bake_polls"
        emit gate-lost "$am_code"
        fail "Alertmanager (alertmanager-url) did not answer $bake_misses polls in a row $(((now - bake_start) / 1000)) s into the bake: $am_code $detail"
      fi
    fi
    left=$((bake_until - now))
    if [ "$left" -gt 1000 ] || [ "$left" -le 0 ]; then left=1000; fi
    sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
  done
  emit gate-watched "$((now - bake_start)) $bake_polls"
fi
`;

// The deploy script's frame: the start (clock, audit line, the lock), the failure path (diagnose,
// roll back, audit, unlock) and the end. Runs after HOST_PRELUDE and the quoted values.
import { bash } from '../../../../lib/ssh/host-script.js';

export const START = bash`umask 077
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
  printf '%s%s,"status":"%s","failed_stage":"%s","duration_seconds":%d}\n' \
    "$AUDIT_PREFIX" "$audit_extra" "$status" "$([ "$status" = deployed ] && echo "" || echo "$stage")" "$((now - started))" >>deploy.log
}

[ -d "$incoming" ] || { echo "berth: upload $incoming is missing" >&2; exit 2; }
# Whatever happens, the throw-away registry login, its password and the probes' URLs and headers
# do not outlive the script.
registry_config=""
rel=""
# A start-first update cut short puts its service back and removes its refusal rules (rollout.ts).
trap '[ -z "$registry_config" ] || rm -rf "$registry_config"; [ -z "$rel" ] || rm -rf "$rel/.berth/probes" "$rel/.berth/registry-password"; [ -z "$\{ZD_S:-}" ] || zd_abort; [ -z "$\{ZD_HELPER:-}" ] || zd_unreject' EXIT
unlock() {
  : >.lock
  flock -u 9
}
`;

export const LOCK = bash`# One deploy at a time per remote-dir. The lock file's content names the holder while it is held.
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
if [ "$OPERATION" = rollback ]; then
  bring_back
else
  mv "$incoming" "releases/$RELEASE"
  rel="$REMOTE_DIR/releases/$RELEASE"
  mkdir -p "$rel/.berth"
  printf '%s\n' "$\{COMPOSE_FILES[@]}" >"$rel/.berth/compose-files"
  printf '%s\n' "$MODE" >"$rel/.berth/orchestrator"
fi
`;

export const FAILURE = bash`# Brings the previous release back with the image digests it was pinned to.
rollback() {
  if [ "$ROLLBACK" != 1 ] || [ -z "$previous" ] || [ ! -d "releases/$previous" ]; then return 1; fi
  echo "berth: rolling back to $previous" >&2
  emit rollout rollback
  up_release "$REMOTE_DIR/releases/$previous"
}

fail() { # message
  in_fail=1
  echo "berth: $stage failed: $1" >&2
  emit failed-stage "$stage"
  emit error "$1"
  if [ "$stage" = up ] || [ "$stage" = probe ]; then diagnose; fi
  local keep_release=0
  # The bake (script/gate.ts) stops a healthy release on a firing alert: rolled back the same way.
  if [ "$stage" = up ] || [ "$stage" = probe ] || [ "$stage" = bake ]; then
    if rollback; then status=rolled-back; else keep_release=1; fi
  fi
  emit status "$status"
  # A failed release goes, unless its containers still run from it (nothing to roll back to); a
  # rollback's target is a kept release and stays.
  [ "$keep_release" = 1 ] || [ "$OPERATION" = rollback ] || rm -rf "$rel"
  audit
  unlock
  exit 1
}
`;

export const DONE = bash`enter done
emit status "$status"
audit
unlock
`;

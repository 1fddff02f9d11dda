// The deploy script's pieces for mode rollback (which kept release comes back, with this run's
// probes and login) and the ERR traps that make every ending report a status and an audit line.
import { bash } from '../../../../lib/ssh/host-script.js';

/** Functions, defined before the lock; bring_back runs under it, in place of moving an upload in. */
export const BRING_BACK = bash`audit_extra=""
# The id (or the newest kept release older than the current one) that comes back. Refusals end the
# script with 3 before anything changed: no audit line, the upload gone, the lock released.
refuse_target() { # message
  emit target-error "$1"
  rm -rf "$incoming"
  unlock
  exit 3
}

bring_back() {
  local target="" r
  if [ "$TARGET" = previous ]; then
    [ -n "$previous" ] || refuse_target "previous: there is no current release on this host"
    while IFS= read -r r; do
      if [[ "$r" < "$previous" ]] && [ -f "releases/$r/.berth/compose-files" ]; then target=$r; fi
    done < <(find releases -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort)
    [ -n "$target" ] || refuse_target "previous: no kept release is older than the current one ($previous)"
  else
    [ -f "releases/$TARGET/.berth/compose-files" ] ||
      refuse_target "$TARGET is not a kept release on this host (see mode status)"
    [ "$TARGET" != "$previous" ] || refuse_target "$TARGET is already the current release"
    target=$TARGET
  fi
  RELEASE=$target
  rel="$REMOTE_DIR/releases/$RELEASE"
  emit release "$RELEASE"
  # The orchestrator the release was deployed with (releases from before it was recorded: by their files).
  MODE=$(head -c 16 "$rel/.berth/orchestrator" 2>/dev/null || true)
  case "$MODE" in compose | swarm) ;; *) if [ -f "$rel/berth-stack.json" ]; then MODE=swarm; else MODE=compose; fi ;; esac
  audit_extra=",\"release\":\"$RELEASE\",\"orchestrator\":\"$MODE\""
  # This run's probe configs, CA file and registry password: used by this run, deleted when it ends.
  rm -rf "$rel/.berth/probes" "$rel/.berth/registry-password"
  if [ -d "$incoming/.berth/probes" ]; then mv "$incoming/.berth/probes" "$rel/.berth/probes"; fi
  if [ -f "$incoming/.berth/registry-password" ]; then mv "$incoming/.berth/registry-password" "$rel/.berth/"; fi
  rm -rf "$incoming"
}

# From here to the switch, an unexpected failure ends as a failed stage does: through fail(), which
# rolls back when containers changed. berth_failed (the prelude's) still says which line failed.
in_fail=""
unexpected() { # status line command
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  berth_failed "$@"
  [ -z "$in_fail" ] || return 0
  fail "line $2: \`$\{3%%$'\n'*}\` exited with $1"
}

# After the switch the new release is live: an unexpected failure is a warning, the status stays
# deployed, and the audit line and the unlock still happen.
after_switch_failed() { # status line command
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  berth_failed "$@"
  [ -z "$in_fail" ] || return 0
  in_fail=1
  emit warning "release $RELEASE is live, but the script failed after the switch (in $stage) at line $2: \`$\{3%%$'\n'*}\` exited with $1"
  status=deployed
  emit status "$status"
  audit
  unlock
  exit 0
}
`;

/** After the failure path is defined: every unexpected error before the switch goes through fail(). */
export const GUARD = bash`trap 'unexpected $? $LINENO "$BASH_COMMAND"' ERR
`;

/** Right after current is switched. */
export const AFTER_SWITCH = bash`trap 'after_switch_failed $? $LINENO "$BASH_COMMAND"' ERR
`;

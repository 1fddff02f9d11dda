// The deploy script's hooks: `pre-deploy` after the pull and before the release takes traffic,
// `post-deploy` after the switch. Each hook is a one-off container of the new release (its images,
// .env, secrets and networks); its argv arrives as quoted values (hooks.ts) and is never parsed by a
// shell here. Its output is streamed with the stage's name, and its last lines are reported.
import { bash } from '../../../../lib/ssh/host-script.js';

export const HOOK_FUNCTIONS = bash`# Runs one stage's hooks in order; stops at the first that fails, reporting it (stage, service,
# exit code) and its last 10 output lines. The arrays are named: services, argv lengths, argv words.
run_hooks() { # stage services-array argc-array argv-array
  local stage=$1 i n=0 service code line log name
  local -n hook_services=$2 hook_argc=$3 hook_argv=$4
  hook_message=""
  for i in "$\{!hook_services[@]}"; do
    service=$\{hook_services[$i]}
    local args=("$\{hook_argv[@]:n:$\{hook_argc[$i]}}")
    n=$((n + hook_argc[i]))
    log="$rel/.berth/$stage-$i.log"
    compose_args "$rel"
    # The hook's stdout never reaches the script's stdout (the report): every line goes to stderr
    # with the stage's name, and into its log for the report's last lines.
    set +e
    # Bounded by wait-timeout: the one-off container is named, so that a hook out of time is removed,
    # not left running (killing the compose client does not stop it).
    name="$PROJECT-berth-$stage-$i-$RANDOM"
    timeout --kill-after=15 "$WAIT_TIMEOUT" docker compose "$\{CARGS[@]}" run --rm --no-deps -T --name "$name" -- "$service" "$\{args[@]}" </dev/null 2>&1 |
      while IFS= read -r line || [ -n "$line" ]; do
        printf '[%s %s] %s\n' "$stage" "$service" "$line" >&2
        printf '%s\n' "$line"
      done >"$log"
    code=$\{PIPESTATUS[0]}
    set -e
    if [ "$code" -ge 124 ] && [ "$code" -le 137 ]; then
      docker rm -f "$name" >/dev/null 2>&1 || true
      echo "[$stage $service] no result within $WAIT_TIMEOUT s (wait-timeout): stopped" >>"$log"
    fi
    if [ "$code" != 0 ]; then
      emit hook-failed "$stage $service $code"
      while IFS= read -r line; do emit hook-output "$line"; done < <(tail -n 10 "$log")
      hook_message="$stage hook $service exited with $code: $(tail -n 1 "$log")"
      return 1
    fi
  done
}
`;

export const PRE_DEPLOY = bash`if [ "$\{#PRE_SERVICES[@]}" -gt 0 ]; then
  enter pre-deploy
  # Nothing has changed for the running release: it keeps serving whatever a hook does. What the
  # hooks need (their depends_on) and is not running (a first deploy, or a stack someone took down)
  # is started first from this release; a failure takes what was started down again (volumes stay).
  missing_deps=()
  if [ "$\{#PRE_DEPS[@]}" -gt 0 ]; then
    compose_args "$rel"
    for dep in "$\{PRE_DEPS[@]}"; do
      [ -n "$(docker compose "$\{CARGS[@]}" ps -q --status running -- "$dep" 2>/dev/null)" ] || missing_deps+=("$dep")
    done
  fi
  pre_deploy_failed() { # message
    if [ -z "$previous" ]; then
      compose_in "$rel" down >/dev/null 2>&1 || true
    else
      status=rolled-back
      if [ "$\{#missing_deps[@]}" -gt 0 ]; then compose_in "$rel" rm -sf -- "$\{missing_deps[@]}" >/dev/null 2>&1 || true; fi
    fi
    fail "$1"
  }
  if [ "$\{#missing_deps[@]}" -gt 0 ]; then
    set +e
    timeout --kill-after=15 "$WAIT_TIMEOUT" docker compose "$\{CARGS[@]}" up -d --wait \
      --wait-timeout "$WAIT_TIMEOUT" --no-build -- "$\{missing_deps[@]}" 2>&1 | tee "$rel/.berth/pre-deploy-deps.log" >&2
    deps_status=$\{PIPESTATUS[0]}
    set -e
    [ "$deps_status" = 0 ] || pre_deploy_failed "starting $\{missing_deps[*]} for the pre-deploy hooks: $(tail -n 2 "$rel/.berth/pre-deploy-deps.log" | tr '\n' ' ')"
  fi
  run_hooks pre-deploy PRE_SERVICES PRE_ARGC PRE_ARGV || pre_deploy_failed "$hook_message"
fi
`;

export const POST_DEPLOY = bash`if [ "$\{#POST_SERVICES[@]}" -gt 0 ]; then
  enter post-deploy
  # The release is live: a failing hook fails the step (the action reads hook-failed), never the release.
  run_hooks post-deploy POST_SERVICES POST_ARGC POST_ARGV || echo "berth: $hook_message (the release is live)" >&2
fi
`;

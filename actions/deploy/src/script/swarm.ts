// The deploy script's functions for mode swarm: the stack's files, its convergence, its diagnosis.
import { bash } from '../../../../lib/ssh/host-script.js';

export const SWARM = bash`stack_args() { # release-dir: sets SARGS to the release's stack files (mode swarm)
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

# Waits until every service runs all its replicas from its current spec, healthy, and every update
# this deploy started is complete; returns 1 as soon as swarm gives up on one (paused, or rolled
# back by its update_config), 124 when out of time.
wait_converged() { # since deadline
  local since=$1 deadline=$2 name ready state started pending
  while :; do
    pending=""
    while read -r name ready state started; do
      if [[ ! "$started" < "$since" ]]; then
        case "$state" in
          paused | rollback_*)
            echo "berth: swarm $state the update of $name" >&2
            return 1
            ;;
          # Swarm still watches the new tasks (update_config.monitor): a task that fails now
          # still makes its failure_action roll the service back, so the release is not up yet.
          updating)
            pending="$pending $name"
            continue
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

# After convergence: one rollout line per service of the stack, as the compose path writes them
# (rollout.ts): updated by this deploy (start-first, or recreated when its update order is
# stop-first) or created, with the time from the update's start to its newest task running (swarm
# counts a task with a health check running only once healthy), or unchanged.
SWARM_FACTS='{{.CreatedAt.UnixMilli}} {{with .Spec.UpdateConfig}}{{or .Order "stop-first"}}{{else}}stop-first{{end}} {{with .UpdateStatus}}{{if .StartedAt}}{{.StartedAt.UnixMilli}}{{else}}0{{end}}{{else}}0{{end}}'
swarm_rollouts() { # since-ms
  local name facts tasks running
  docker service ls --filter "label=com.docker.stack.namespace=$PROJECT" --format '{{.Name}}' |
    while read -r name; do
      facts=$(docker service inspect "$name" -f "$SWARM_FACTS" 2>/dev/null) || continue
      tasks=$(docker service ps -q --no-trunc --filter _up-to-date=true --filter desired-state=running "$name" 2>/dev/null || true)
      running=""
      # shellcheck disable=SC2086 # tasks: ids
      [ -z "$tasks" ] || running=$(docker inspect -f '{{.Status.Timestamp.UnixMilli}}' $tasks 2>/dev/null | sort -n | tail -n 1 || true)
      # shellcheck disable=SC2086 # facts: three words
      swarm_rollout_line "$1" "$\{name#"$PROJECT"_}" $facts "$running"
    done
}

swarm_rollout_line() { # since-ms service created-ms order update-started-ms running-ms
  local since=$1 service=$2 created=$3 order=$4 started=$5 running=$6 how from n
  for n in since created started running; do [[ "$\{!n}" =~ ^[0-9]+$ ]] || printf -v "$n" 0; done
  if [ "$created" -ge "$since" ]; then
    how=created from=$created
  elif [ "$started" -ge "$since" ]; then
    from=$started how=recreated
    [ "$order" != start-first ] || how=start-first
  else
    emit rollout "$service unchanged"
    return 0
  fi
  emit rollout "$service $how $((running > from ? running - from : 0))"
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
`;

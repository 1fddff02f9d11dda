#!/usr/bin/env bash
# Stops what `npm run lab:up` started (and nothing else): the daemons whose pid files it wrote.
# Keys, certificates and registry data stay in .lab so the next `lab:up` is fast;
# `npm run lab:down -- --purge` removes .lab as well.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
run="$lab/run"
purge=false
for arg in "$@"; do
  case "$arg" in
    --purge) purge=true ;;
    *) echo "lab:down: unknown argument: $arg (only --purge)" >&2; exit 2 ;;
  esac
done

stop() { # name
  local pidfile="$run/$1.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "lab: stopping $1 (pid $pid)"
    kill "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
}
bash "$root/scripts/lab/bare-host.sh" down # its containers and volume, while the engine runs
bash "$root/scripts/lab/classic-engine.sh" down # the second dockerd, its bridge and iptables rules
# Services first, the engine last (its containers stop with it).
for name in pebble challtestsrv releases registry sshd_jump sshd_host dockerd; do stop "$name"; done
rm -f "$lab/env"
if $purge; then
  rm -rf "$lab"
  echo "lab: removed $lab"
fi
echo "lab: down"

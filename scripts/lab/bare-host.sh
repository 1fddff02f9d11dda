#!/usr/bin/env bash
# The lab's bare host: a second "server" that boots like one. A privileged container from the lab's
# Debian base image running systemd as PID 1 with only systemd, openssh-server and sudo installed;
# root reachable by a lab key (.lab/bare-host/id_ed25519), its host key pinned in
# .lab/bare-host/known_hosts; its engine's data (once something installs one) on a named volume; its
# sshd, 80 and 443 published on loopback ports of this machine. Host bootstrap tests start from it.
#
# The lab registry listens on 127.0.0.1:5000 of this machine while image references say
# localhost:5000: two socat forwarders (lab plumbing, not part of the "host") join the bare host's
# loopback to it through a unix socket under .lab/bare-host/sock, so the registry is reachable nowhere
# else (it keeps listening on loopback only).
#
#   bare-host.sh          start it (idempotent; a running one is left as it is), write .lab/bare-host/env
#   bare-host.sh reset    recreate it bare: a fresh container and engine volume, same keys and ports
#   bare-host.sh down     remove its containers and volume
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
dir="$lab/bare-host"
NAME=berth-bare
VOLUME=berth-bare-docker
FWD_IN=berth-bare-registry    # in the bare host's network namespace: 127.0.0.1:<registry port>
FWD_OUT=berth-bare-registry-out # on this machine's: the unix socket -> 127.0.0.1:<registry port>
IMAGE=berth-lab/bare-host
FWD_IMAGE=berth-lab/forwarder
SSH_PORT=${LAB_BARE_SSH_PORT:-2224}
HTTP_PORT=${LAB_BARE_HTTP_PORT:-2280}
HTTPS_PORT=${LAB_BARE_HTTPS_PORT:-2443}
REGISTRY_PORT=${LAB_REGISTRY_PORT:-5000}
BASE_IMAGE=${LAB_BASE_IMAGE:-localhost:$REGISTRY_PORT/berth/debian:bookworm-slim}

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: bare host: error: %s\n' "$*" >&2; exit 1; }

remove() { docker rm -f "$FWD_IN" "$FWD_OUT" "$NAME" >/dev/null 2>&1 || true; }

case "${1:-up}" in
  up | reset) ;;
  down)
    if docker container inspect "$NAME" >/dev/null 2>&1 || docker volume inspect "$VOLUME" >/dev/null 2>&1; then
      say "removing the bare host ($NAME)"
    fi
    remove
    docker volume rm "$VOLUME" >/dev/null 2>&1 || true
    rm -rf "$dir/sock"
    exit 0
    ;;
  *) die "unknown argument ${1} (up, reset or down)" ;;
esac

mkdir -p "$dir"
chmod 0700 "$dir"
[ -s "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C berth-lab-bare-root -f "$dir/id_ed25519"
[ -s "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C berth-lab-bare-host -f "$dir/ssh_host_ed25519_key"
chmod 0600 "$dir/id_ed25519" "$dir/ssh_host_ed25519_key"

# --- images: the host (its version is a hash of what goes in) and the forwarder ------------------
ctx="$dir/build"
rm -rf "$ctx"
mkdir -p "$ctx"
cp "$dir/ssh_host_ed25519_key" "$dir/ssh_host_ed25519_key.pub" "$ctx/"
cp "$dir/id_ed25519.pub" "$ctx/authorized_keys"
cat >"$ctx/Dockerfile" <<'EOF'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# A server as installed, before anyone prepared it: systemd as init, OpenSSH, sudo; nothing else.
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      systemd systemd-sysv openssh-server sudo && \
    rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* && \
    systemctl enable ssh.service && \
    systemctl mask getty@tty1.service console-getty.service systemd-firstboot.service
COPY --chmod=0600 ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key
COPY --chmod=0644 ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub
COPY --chmod=0600 authorized_keys /root/.ssh/authorized_keys
RUN chmod 0700 /root/.ssh
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF
version=$( (cat "$ctx/Dockerfile" "$ctx/authorized_keys" "$ctx/ssh_host_ed25519_key.pub"; echo "$BASE_IMAGE") | sha256sum | cut -c1-16)
if [ "$(docker image inspect --format '{{ index .Config.Labels "berth.lab.bare-host" }}' "$IMAGE:$version" 2>/dev/null)" != "$version" ]; then
  say "building the bare host image (systemd, openssh-server, sudo from Debian)"
  docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" --label "berth.lab.bare-host=$version" \
    -t "$IMAGE:$version" "$ctx" >"$dir/build.log" 2>&1 || die "the image build failed; see $dir/build.log"
  # The container runs from the previous image: recreate it from this one.
  [ "${1:-up}" = reset ] || remove
fi
fwd_version=1
if [ "$(docker image inspect --format '{{ index .Config.Labels "berth.lab.forwarder" }}' "$FWD_IMAGE:$fwd_version" 2>/dev/null)" != "$fwd_version" ]; then
  say "building the registry forwarder image (socat)"
  printf 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN apt-get update -q && apt-get install -y -q --no-install-recommends socat && rm -rf /var/lib/apt/lists/*\n' \
    >"$ctx/Dockerfile.forwarder"
  docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" --label "berth.lab.forwarder=$fwd_version" \
    -f "$ctx/Dockerfile.forwarder" -t "$FWD_IMAGE:$fwd_version" "$ctx" >"$dir/build.log" 2>&1 ||
    die "the forwarder image build failed; see $dir/build.log"
fi
rm -rf "$ctx"

# --- the host ----------------------------------------------------------------------------------
if [ "${1:-up}" = reset ]; then
  say "resetting the bare host (a fresh container and engine volume)"
  remove
  docker volume rm "$VOLUME" >/dev/null 2>&1 || true
fi
if [ "$(docker container inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" != true ]; then
  remove
  for port in "$SSH_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "127.0.0.1:$port is taken by a process this lab did not start"
    fi
  done
  fresh=1
  say "starting the bare host on 127.0.0.1:$SSH_PORT (ssh), :$HTTP_PORT (80), :$HTTPS_PORT (443)"
  docker volume create "$VOLUME" >/dev/null
  docker run -d --name "$NAME" --hostname berth-bare --label berth.lab=bare-host \
    --privileged --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    -v "$VOLUME:/var/lib/docker" \
    -p "127.0.0.1:$SSH_PORT:22" -p "127.0.0.1:$HTTP_PORT:80" -p "127.0.0.1:$HTTPS_PORT:443" \
    "$IMAGE:$version" >/dev/null
fi

# --- the registry forwarders (a unix socket between the two network namespaces) ----------------
mkdir -p "$dir/sock"
fwd_opts=(--read-only --cap-drop ALL --security-opt no-new-privileges
  --label berth.lab=bare-host -v "$dir/sock:/sock")
if [ "$(docker container inspect --format '{{.State.Running}}' "$FWD_OUT" 2>/dev/null)" != true ]; then
  docker rm -f "$FWD_OUT" >/dev/null 2>&1 || true
  docker run -d --name "$FWD_OUT" --net host "${fwd_opts[@]}" "$FWD_IMAGE:$fwd_version" \
    socat UNIX-LISTEN:/sock/registry.sock,fork,unlink-early,mode=0600 "TCP:127.0.0.1:$REGISTRY_PORT" >/dev/null
fi
# The inner one lives in the host's network namespace: a host restarted since it started left it behind.
if [ "$(docker container inspect --format '{{.State.Running}}' "$FWD_IN" 2>/dev/null)" != true ] ||
  [[ "$(docker container inspect --format '{{.State.StartedAt}}' "$FWD_IN")" < "$(docker container inspect --format '{{.State.StartedAt}}' "$NAME")" ]]; then
  docker rm -f "$FWD_IN" >/dev/null 2>&1 || true
  docker run -d --name "$FWD_IN" --net "container:$NAME" "${fwd_opts[@]}" "$FWD_IMAGE:$fwd_version" \
    socat "TCP-LISTEN:$REGISTRY_PORT,bind=127.0.0.1,fork,reuseaddr" UNIX-CONNECT:/sock/registry.sock >/dev/null
fi

# --- pinned host key, a login that works, the env ------------------------------------------------
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1-2 "$dir/ssh_host_ed25519_key.pub")" >"$dir/known_hosts"
chmod 0644 "$dir/known_hosts"
ok=""
for ((i = 0; i < 150; i++)); do
  state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running | degraded) ok=1 && break ;; esac
  sleep 0.2
done
[ -n "$ok" ] || die "systemd did not come up (${state:-no answer}); see docker logs $NAME"
# sshd answers with the pinned key; a fresh host also lets root in by key (a bootstrapped one no longer does).
ssh-keyscan -t ed25519 -p "$SSH_PORT" 127.0.0.1 2>/dev/null | grep -qF "$(cut -d' ' -f2 "$dir/ssh_host_ed25519_key.pub")" ||
  die "sshd on 127.0.0.1:$SSH_PORT does not answer with the pinned host key"
if [ -n "${fresh:-}" ]; then
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$dir/known_hosts" -o IdentitiesOnly=yes \
    -o ConnectTimeout=5 -i "$dir/id_ed25519" -p "$SSH_PORT" root@127.0.0.1 true </dev/null ||
    die "no root login by key on 127.0.0.1:$SSH_PORT"
fi
cat >"$dir/env.tmp" <<EOF
LAB_BARE_CONTAINER=$NAME
LAB_BARE_HOST=127.0.0.1
LAB_BARE_SSH_PORT=$SSH_PORT
LAB_BARE_USER=root
LAB_BARE_KEY=$dir/id_ed25519
LAB_BARE_KNOWN_HOSTS=$dir/known_hosts
LAB_BARE_HTTP_PORT=$HTTP_PORT
LAB_BARE_HTTPS_PORT=$HTTPS_PORT
LAB_BARE_RESET=$root/scripts/lab/bare-host.sh
EOF
mv "$dir/env.tmp" "$dir/env"

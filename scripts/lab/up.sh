#!/usr/bin/env bash
# Brings up Berth's lab on this machine (Debian 12, as root), idempotently:
#   Docker Engine 26 + buildx + Compose v2 (containerd image store), an authenticated registry,
#   an SSH "Ubuntu host" and a jump/backup SSH host, a Debian base image in the registry,
#   promtool, amtool and Alertmanager (Debian packages, not started as services),
#   a loopback release-download server, a test CA with a server certificate, and real Trivy
#   (built from source, served as an upstream release) with a small vulnerability DB (scripts/lab/trivy.sh),
#   and Debian's promtool and amtool served as upstream's releases (scripts/lab/prometheus-release.sh),
#   and Pebble, a real ACME server, with its challenge test DNS server (scripts/lab/pebble.sh),
#   and Debian's cosign served as upstream's release (scripts/lab/cosign-release.sh),
#   and a second engine with the classic image store, QEMU for arm64 and a multi-platform busybox
#   base in the registry (scripts/lab/classic-engine.sh),
#   and a BuildKit image built from source for docker-container builders, with a Trivy SBOM
#   generator (scripts/lab/buildkit.sh),
#   and a current buildx beside the system's, for the gha cache tests (scripts/lab/buildx.sh).
# What tests need is written to .lab/env. A second run when all is up takes a few seconds.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
run="$lab/run"          # pid files of what this script started (lab:down stops only those)
mkdir -p "$lab" "$run"
chmod 0755 "$lab"

REGISTRY_PORT=${LAB_REGISTRY_PORT:-5000}
SSH_PORT=${LAB_SSH_PORT:-2222}
JUMP_PORT=${LAB_JUMP_PORT:-2223}
RELEASES_PORT=${LAB_RELEASES_PORT:-8089}
REGISTRY="localhost:$REGISTRY_PORT"
BASE_REPO="$REGISTRY/berth/debian"
BASE_TAG=bookworm-slim

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"

# Is the process recorded in pid file $1 alive?
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Wait up to $2 seconds for command $1 to succeed.
wait_for() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
# Start a daemon detached from this shell, recording its pid.
start_daemon() { # name logfile cmd...
  local name=$1 log=$2; shift 2
  setsid nohup "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

# --- packages ---------------------------------------------------------------------------------
need_pkgs() {
  command -v dockerd >/dev/null && command -v sshd >/dev/null && command -v docker-registry >/dev/null &&
    command -v debootstrap >/dev/null && command -v htpasswd >/dev/null && command -v age >/dev/null &&
    command -v zstd >/dev/null && command -v openssl >/dev/null && command -v curl >/dev/null &&
    command -v flock >/dev/null && command -v python3 >/dev/null && command -v ip >/dev/null &&
    command -v jq >/dev/null && python3 -c 'import ensurepip' 2>/dev/null &&
    command -v promtool >/dev/null && command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null &&
    [ -x /usr/libexec/docker/cli-plugins/docker-buildx ] &&
    [ -x /usr/libexec/docker/cli-plugins/docker-compose ] &&
    dpkg --compare-versions "$(dpkg-query -W -f='${Version}' docker.io 2>/dev/null || echo 0)" ge 26
}
if ! need_pkgs; then
  say "installing packages (Docker 26, buildx and Compose v2 from trixie at low priority)"
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" >/etc/apt/sources.list.d/trixie.sources
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/trixie-low
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q docker.io containerd runc openssh-server docker-registry debootstrap zstd age \
    apache2-utils iproute2 openssl curl util-linux python3 python3-venv jq ca-certificates
  # promtool, amtool and an Alertmanager for the monitoring checks and the deploy gate (not started as services).
  apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager
  apt-get install -y -q -t trixie docker.io docker-buildx docker-compose
fi

# --- Docker Engine with the containerd image store --------------------------------------------
# Cache export (--cache-to type=local|registry) needs the containerd image store on the default driver.
python3 - <<'PY'
import json, os
p = '/etc/docker/daemon.json'
os.makedirs('/etc/docker', exist_ok=True)
cfg = {}
if os.path.exists(p):
    with open(p) as f:
        text = f.read()
    cfg = json.loads(text) if text.strip() else {}
if cfg.get('features', {}).get('containerd-snapshotter') is not True:
    cfg.setdefault('features', {})['containerd-snapshotter'] = True
    with open(p, 'w') as f:
        json.dump(cfg, f, indent=2)
PY
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  start_daemon dockerd "$lab/dockerd.log" dockerd
  wait_for "docker info" 60 || die "dockerd did not start; see $lab/dockerd.log"
fi
[ "$(docker info --format '{{.DriverStatus}}' 2>/dev/null | grep -c 'io.containerd.snapshotter' || true)" != 0 ] ||
  docker info --format '{{json .}}' | grep -q 'containerd.snapshotter' ||
  say "warning: dockerd was already running without the containerd image store; restart it to export caches"

# --- test CA and a server certificate for localhost -------------------------------------------
tls="$lab/tls"
if [ ! -s "$tls/server.crt" ]; then
  say "making the test CA and a localhost certificate"
  mkdir -p "$tls"
  openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj "/CN=Berth lab test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 825 -extfile "$tls/ext.cnf" -out "$tls/server.crt" 2>/dev/null
  chmod 0644 "$tls"/*.crt
  chmod 0600 "$tls"/*.key
fi

# --- registry with htpasswd authentication ----------------------------------------------------
reg="$lab/registry"
mkdir -p "$reg/data"
if [ ! -s "$reg/password" ]; then
  (umask 077 && openssl rand -hex 16 >"$reg/password")
  rm -f "$reg/htpasswd"
fi
REG_USER=berth
REG_PASSWORD=$(cat "$reg/password")
if [ ! -s "$reg/htpasswd" ]; then
  htpasswd -B -i -c "$reg/htpasswd" "$REG_USER" <"$reg/password" 2>/dev/null
fi
cat >"$reg/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $reg/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: berth-lab
    path: $reg/htpasswd
EOF
if ! curl -fs -o /dev/null -u "$REG_USER:$REG_PASSWORD" "http://$REGISTRY/v2/"; then
  if ! alive "$run/registry.pid" && curl -s -o /dev/null "http://$REGISTRY/v2/"; then
    die "something else answers on $REGISTRY and refuses this lab's credentials (another checkout's lab? run 'npm run lab:down' there)"
  fi
  alive "$run/registry.pid" && kill "$(cat "$run/registry.pid")" && sleep 0.5
  say "starting the registry on $REGISTRY"
  start_daemon registry "$lab/registry.log" docker-registry serve "$reg/config.yml"
  wait_for "curl -fs -o /dev/null -u '$REG_USER:$REG_PASSWORD' http://$REGISTRY/v2/" 30 ||
    die "the registry did not start; see $lab/registry.log"
fi
printf '%s' "$REG_PASSWORD" | docker login --username "$REG_USER" --password-stdin "$REGISTRY" >/dev/null 2>&1 || die "docker login to $REGISTRY failed"

# --- SSH hosts: the "Ubuntu host" (deploy user) and a jump/backup host -------------------------
ssh_dir="$lab/ssh"
mkdir -p "$ssh_dir"
chmod 0700 "$ssh_dir"
[ -s "$ssh_dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C berth-lab-deploy -f "$ssh_dir/id_ed25519"
for h in host jump; do
  [ -s "$ssh_dir/${h}_host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "berth-lab-$h" -f "$ssh_dir/${h}_host_ed25519"
done

ensure_user() { # name groups home
  local name=$1 groups=$2
  if ! id "$name" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash ${groups:+--groups "$groups"} "$name"
  elif [ -n "$groups" ]; then
    usermod -aG "$groups" "$name"
  fi
  usermod -p '*' "$name" # unlocked for key login, still no password
  local home
  home=$(getent passwd "$name" | cut -d: -f6)
  install -d -m 0700 -o "$name" -g "$name" "$home/.ssh"
  install -m 0600 -o "$name" -g "$name" "$ssh_dir/id_ed25519.pub" "$home/.ssh/authorized_keys"
}
ensure_user deploy docker
ensure_user jump ""
ensure_user backup ""
# A deploy user on a host without flock (a PATH without it), for the preflight test: its login shell
# puts a directory of links to every command of the system's bin dirs but flock first and only.
noflock_bin=/opt/berth-noflock/bin
rm -rf "$noflock_bin.new"
mkdir -p "$noflock_bin.new"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  for f in "$d"/*; do
    name=${f##*/}
    [ "$name" != flock ] && [ -x "$f" ] && [ ! -e "$noflock_bin.new/$name" ] && ln -s "$f" "$noflock_bin.new/$name" || true
  done
done
rm -rf "$noflock_bin" && mv "$noflock_bin.new" "$noflock_bin"
printf '#!/bin/bash\nexport PATH=%s\nexec /bin/bash "$@"\n' "$noflock_bin" >/opt/berth-noflock/shell
chmod 0755 /opt/berth-noflock/shell
ensure_user deploy-noflock docker
usermod -s /opt/berth-noflock/shell deploy-noflock
install -d -m 0750 -o backup -g backup /srv/berth-backups

write_sshd_config() { # name port allowusers forwarding
  cat >"$ssh_dir/sshd_$1.conf" <<EOF
Port $2
ListenAddress 127.0.0.1
HostKey $ssh_dir/${1}_host_ed25519
PidFile $run/sshd_$1.pid
AllowUsers $3
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
StrictModes yes
AllowTcpForwarding $4
AllowAgentForwarding no
X11Forwarding no
PermitUserEnvironment no
MaxSessions 20
MaxStartups 50:30:100
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
}
write_sshd_config host "$SSH_PORT" "deploy deploy-noflock" no
write_sshd_config jump "$JUMP_PORT" "jump backup" yes
mkdir -p /run/sshd
for h in host jump; do
  port=$SSH_PORT
  [ "$h" = jump ] && port=$JUMP_PORT
  /usr/sbin/sshd -t -f "$ssh_dir/sshd_$h.conf" || die "sshd config $ssh_dir/sshd_$h.conf is invalid"
  if ! alive "$run/sshd_$h.pid"; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "127.0.0.1:$port is taken by a process this lab did not start (another checkout's lab? run 'npm run lab:down' there)"
    fi
    say "starting sshd ($h) on 127.0.0.1:$port"
    /usr/sbin/sshd -f "$ssh_dir/sshd_$h.conf" -E "$lab/sshd_$h.log"
    wait_for "[ -s '$run/sshd_$h.pid' ]" 10 || die "sshd ($h) did not start; see $lab/sshd_$h.log"
  else
    kill -HUP "$(cat "$run/sshd_$h.pid")" # re-read the config
  fi
done
{
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1-2 "$ssh_dir/host_host_ed25519.pub")"
  printf '[127.0.0.1]:%s %s\n' "$JUMP_PORT" "$(cut -d' ' -f1-2 "$ssh_dir/jump_host_ed25519.pub")"
} >"$ssh_dir/known_hosts"
chmod 0644 "$ssh_dir/known_hosts"
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$ssh_dir/known_hosts"
  -o IdentitiesOnly=yes -i "$ssh_dir/id_ed25519")
wait_for "ssh ${ssh_opts[*]} -p $SSH_PORT deploy@127.0.0.1 docker info" 20 ||
  die "cannot run docker over ssh as deploy@127.0.0.1:$SSH_PORT; see $lab/sshd_host.log"

# --- base image: Debian bookworm minbase, in the registry ------------------------------------
# BASE_VERSION labels what this script puts in the image; a lab with an older one rebuilds it.
BASE_VERSION=2
base_ref="$BASE_REPO:$BASE_TAG"
manifest_url="http://$REGISTRY/v2/berth/debian/manifests/$BASE_TAG"
local_version=$(docker image inspect --format '{{ index .Config.Labels "berth.lab.base-version" }}' "$base_ref" 2>/dev/null || true)
if [ "$local_version" != "$BASE_VERSION" ]; then
  say "building the Debian bookworm base image with debootstrap (about a minute)"
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  rootfs="$lab/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$uri" >"$lab/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $lab/debootstrap.log"
  # Image hygiene as in Debian's official images: no apt lists, package caches or .debs in layers.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/90berth-slim"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.opencontainers.image.title="Debian bookworm minbase (Berth lab)"' \
    --change "LABEL berth.lab.base-version=$BASE_VERSION" \
    - "$base_ref" >/dev/null
  rm -rf "$rootfs"
  docker push -q "$base_ref" >/dev/null
elif ! curl -fs -o /dev/null -u "$REG_USER:$REG_PASSWORD" \
  -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "$manifest_url"; then
  say "pushing $base_ref"
  docker push -q "$base_ref" >/dev/null
fi

# --- the bare host for the bootstrap tests (systemd, sshd, sudo; scripts/lab/bare-host.sh) ---------
LAB_BASE_IMAGE=$base_ref LAB_REGISTRY_PORT=$REGISTRY_PORT bash "$root/scripts/lab/bare-host.sh"

# --- release-download server (serves .lab/releases like a GitHub release host) ----------------
releases="$lab/releases"
mkdir -p "$releases"
if ! curl -fs -o /dev/null "http://127.0.0.1:$RELEASES_PORT/"; then
  alive "$run/releases.pid" && kill "$(cat "$run/releases.pid")" && sleep 0.5
  say "starting the release server on 127.0.0.1:$RELEASES_PORT"
  start_daemon releases "$lab/releases.log" python3 -m http.server --bind 127.0.0.1 --directory "$releases" "$RELEASES_PORT"
  wait_for "curl -fs -o /dev/null http://127.0.0.1:$RELEASES_PORT/" 20 || die "the release server did not start"
fi

# --- real Trivy: built from source, served as a release, and a small vulnerability DB ----------
LAB_REGISTRY=$REGISTRY LAB_REGISTRY_USER=$REG_USER LAB_REGISTRY_PASSWORD=$REG_PASSWORD \
  LAB_RELEASES_URL="http://127.0.0.1:$RELEASES_PORT" bash "$root/scripts/lab/trivy.sh"

# --- BuildKit for docker-container builders (built from source) and a Trivy SBOM generator (scripts/lab/buildkit.sh)
LAB_REGISTRY=$REGISTRY LAB_REGISTRY_USER=$REG_USER LAB_REGISTRY_PASSWORD=$REG_PASSWORD LAB_BASE_IMAGE=$base_ref \
  LAB_CA_FILE="$tls/ca.crt" LAB_TRIVY_BIN="$lab/trivy/bin/trivy" bash "$root/scripts/lab/buildkit.sh"

# --- a current buildx (0.38, built from source) for the gha cache tests, beside the system's 0.13 (scripts/lab/buildx.sh)
bash "$root/scripts/lab/buildx.sh"

# --- promtool and amtool: Debian's binaries served as upstream's Prometheus/Alertmanager releases --
LAB_RELEASES_URL="http://127.0.0.1:$RELEASES_PORT" bash "$root/scripts/lab/prometheus-release.sh"

# --- cosign: Debian trixie's cosign served as upstream's release (scripts/lab/cosign-release.sh) ----
LAB_RELEASES_URL="http://127.0.0.1:$RELEASES_PORT" bash "$root/scripts/lab/cosign-release.sh"

# --- Pebble, a real ACME server, with pebble-challtestsrv as its DNS (scripts/lab/pebble.sh) ---------
bash "$root/scripts/lab/pebble.sh"

# --- a second engine with the classic image store, QEMU (binfmt) for arm64, a multi-platform base ---
LAB_BASE_IMAGE=$base_ref LAB_REGISTRY=$REGISTRY LAB_REGISTRY_USER=$REG_USER LAB_REGISTRY_PASSWORD=$REG_PASSWORD \
  bash "$root/scripts/lab/classic-engine.sh"

# --- what tests need --------------------------------------------------------------------------
cat >"$lab/env.tmp" <<EOF
LAB_DIR=$lab
LAB_REGISTRY=$REGISTRY
LAB_REGISTRY_USER=$REG_USER
LAB_REGISTRY_PASSWORD=$REG_PASSWORD
LAB_SSH_HOST=127.0.0.1
LAB_SSH_PORT=$SSH_PORT
LAB_SSH_USER=deploy
LAB_NOFLOCK_USER=deploy-noflock
LAB_SSH_KEY=$ssh_dir/id_ed25519
LAB_KNOWN_HOSTS=$ssh_dir/known_hosts
LAB_SSH_LOG=$lab/sshd_host.log
LAB_JUMP_PORT=$JUMP_PORT
LAB_JUMP_USER=jump
LAB_JUMP_LOG=$lab/sshd_jump.log
LAB_BACKUP_USER=backup
LAB_BACKUP_DIR=/srv/berth-backups
LAB_BASE_IMAGE=$base_ref
LAB_RELEASES_URL=http://127.0.0.1:$RELEASES_PORT
LAB_RELEASES_DIR=$releases
LAB_CA_FILE=$tls/ca.crt
LAB_TLS_CERT=$tls/server.crt
LAB_TLS_KEY=$tls/server.key
EOF
cat "$lab/trivy/env" "$lab/buildkit/env" "$lab/monitoring/env" "$lab/bare-host/env" "$lab/pebble/env" "$lab/cosign/env" "$lab/classic/env" "$lab/buildx/env" >>"$lab/env.tmp"
chmod 0600 "$lab/env.tmp"
mv "$lab/env.tmp" "$lab/env"
say "up: $(docker version --format 'engine {{.Server.Version}}'), $(docker buildx version | cut -d' ' -f1-2), $(docker compose version --short | sed 's/^/compose /'); env in .lab/env"

#!/usr/bin/env bash
# The lab's second engine and foreign platforms (what stock GitHub runners have, beside the lab's own):
#   - a second dockerd with the classic image store (overlay2, no containerd snapshotter): its own
#     socket (/run/berth-classic/docker.sock), exec root, data root (.lab/classic/data), managed
#     containerd (under its exec root) and bridge (berth-classic0, 10.213.0.1/24, made here; never
#     --bridge none, which deletes the main engine's docker0 on exit), with --iptables=false so it
#     leaves the main engine's chains alone: this script adds a MASQUERADE rule for its subnet and
#     FORWARD accepts for its bridge once (comment berth-classic), so its containers and RUN steps
#     reach Debian's mirror. Buildx's default (docker) driver there refuses cache export
#     ("Cache export is not supported for the docker driver"), as on a stock runner.
#     It logs in to the lab registry with the default docker config (root's ~/.docker/config.json,
#     the same one up.sh logs in with) and pulls the lab's Debian base image.
#   - QEMU for foreign platforms: Debian's qemu-user-static with binfmt_misc entries for aarch64 and
#     arm registered with the F (fix-binary) flag, so containers and BuildKit run arm64 binaries.
#   - a multi-platform base image, localhost:5000/berth/busybox:<version>: one manifest list for
#     linux/amd64 and linux/arm64 from Debian's busybox-static packages of both architectures
#     (downloaded with a private apt state under .lab/classic/apt; the host's apt is not changed),
#     FROM scratch + the binary + `busybox --install -s` as a RUN step (under QEMU for arm64), built
#     and pushed by the main engine's docker driver (containerd image store).
#
#   classic-engine.sh        bring it all up (idempotent; a second run only checks), write .lab/classic/env
#   classic-engine.sh down   stop this dockerd, remove its bridge and iptables rules (binfmt entries,
#                            packages and the data root stay)
# Called by up.sh (which passes LAB_REGISTRY*, LAB_BASE_IMAGE) and down.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/.lab"
lab=$(cd -P "$root/.lab" && pwd) # .lab may be a link to another checkout's: record real paths
run="$lab/run"
dir="$lab/classic"
exec_root=/run/berth-classic # short: dockerd and containerd make unix sockets under it
sock="$exec_root/docker.sock"
BRIDGE=berth-classic0
BRIDGE_CIDR=${LAB_CLASSIC_BRIDGE_CIDR:-10.213.0.1/24}
SUBNET=${LAB_CLASSIC_SUBNET:-10.213.0.0/24}
REGISTRY_PORT=${LAB_REGISTRY_PORT:-5000}
REGISTRY=${LAB_REGISTRY:-localhost:$REGISTRY_PORT}
BASE_IMAGE=${LAB_BASE_IMAGE:-$REGISTRY/berth/debian:bookworm-slim}
BUSYBOX_REPO=berth/busybox
BUSYBOX_RECIPE=1 # bump when the image's Dockerfile below changes: a new tag is built
PLATFORMS=linux/amd64,linux/arm64

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: classic engine: error: %s\n' "$*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() { # command seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
# The two engines, never mixed up by a DOCKER_HOST or context in the caller's environment.
main_docker() { env -u DOCKER_HOST -u DOCKER_CONTEXT docker "$@"; }
classic_docker() { env -u DOCKER_CONTEXT DOCKER_HOST="unix://$sock" docker "$@"; }
rule() { # add|del|check table chain rule...: the lab's iptables rules, tagged with a comment
  local op=$1 table=$2 chain=$3
  shift 3
  case "$op" in
    check) iptables -t "$table" -C "$chain" "$@" -m comment --comment berth-classic 2>/dev/null ;;
    add) rule check "$table" "$chain" "$@" || iptables -t "$table" -I "$chain" "$@" -m comment --comment berth-classic ;;
    del) while rule check "$table" "$chain" "$@"; do iptables -t "$table" -D "$chain" "$@" -m comment --comment berth-classic; done ;;
  esac
}
rules() { # add|del
  rule "$1" nat POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE
  rule "$1" filter FORWARD -i "$BRIDGE" -j ACCEPT
  rule "$1" filter FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
}

[ "$(id -u)" = 0 ] || die "run as root (it starts dockerd and registers binfmt interpreters)"
mkdir -p "$dir" "$run"
exec 9>"$dir/lock"
flock 9

if [ "${1:-up}" = down ]; then
  pidfile="$run/classic-dockerd.pid"
  if alive "$pidfile"; then
    pid=$(cat "$pidfile")
    say "stopping the classic-store dockerd (pid $pid)"
    kill "$pid"
    wait_for "! kill -0 $pid" 30 || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$dir/env"
  rules del
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  exit 0
fi
[ "${1:-up}" = up ] || die "unknown argument ${1} (up or down)"

# --- packages ------------------------------------------------------------------------------------
if ! command -v update-binfmts >/dev/null || ! [ -x /usr/bin/qemu-aarch64-static ] || ! command -v dpkg-deb >/dev/null; then
  say "installing Debian's qemu-user-static and binfmt-support"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends qemu-user-static binfmt-support >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends qemu-user-static binfmt-support >/dev/null; } ||
    die "apt-get install qemu-user-static binfmt-support failed"
fi

# --- binfmt_misc: QEMU for arm64 and arm, fix-binary so containers and BuildKit can use it -------
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount binfmt_misc on $binfmt"
for name in qemu-aarch64 qemu-arm; do
  if ! grep -qx enabled "$binfmt/$name" 2>/dev/null; then
    say "registering $name with binfmt_misc"
    update-binfmts --enable "$name" || die "update-binfmts --enable $name failed"
  fi
  grep -q '^flags: .*F' "$binfmt/$name" || die "$binfmt/$name is registered without the F (fix-binary) flag: update-binfmts --disable $name, then run again"
done

# --- busybox-static for amd64 and arm64, from Debian (a private apt state, the host's untouched) --
bb="$dir/busybox"
if [ ! -x "$bb/amd64/busybox" ] || [ ! -x "$bb/arm64/busybox" ] || [ ! -s "$bb/version" ]; then
  say "downloading Debian's busybox-static for amd64 and arm64"
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  apt_dir="$dir/apt"
  rm -rf "$apt_dir" "$bb"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/preferences.d" "$apt_dir/debs" "$bb"
  : >"$apt_dir/status"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm main\n' "$uri" >"$apt_dir/sources.list"
  apt_opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::Status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
    -o APT::Architecture=amd64 -o APT::Architectures=amd64,arm64 -o Acquire::Languages=none
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update >"$dir/apt.log" 2>&1 || die "apt-get update (private state) failed; see $dir/apt.log"
  (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download busybox-static:amd64 busybox-static:arm64) >>"$dir/apt.log" 2>&1 ||
    die "apt-get download busybox-static failed; see $dir/apt.log"
  for arch in amd64 arm64; do
    deb=$(ls "$apt_dir"/debs/busybox-static_*_"$arch".deb)
    dpkg-deb -x "$deb" "$apt_dir/x-$arch"
    install -D -m 0755 "$apt_dir/x-$arch/bin/busybox" "$bb/$arch/busybox"
    cp "$apt_dir/x-$arch/usr/share/doc/busybox-static/copyright" "$bb/copyright"
  done
  # 1:1.35.0-4+deb12u1+b1 -> 1.35.0: the upstream version names the tag
  dpkg-deb -f "$(ls "$apt_dir"/debs/busybox-static_*_amd64.deb)" Version | sed -E 's/^[0-9]+://; s/-[^-]*$//' >"$bb/version"
  rm -rf "$apt_dir"
fi
[ "$("$bb/arm64/busybox" uname -m)" = aarch64 ] || die "an arm64 binary does not run under QEMU ($bb/arm64/busybox uname -m)"

# --- the bridge, the NAT and FORWARD rules, the daemon ----------------------------------------
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  if [ -n "$(ip -4 route show to match "${BRIDGE_CIDR%/*}" | grep -v '^default')" ]; then
    die "$SUBNET overlaps a route on this machine: set LAB_CLASSIC_BRIDGE_CIDR and LAB_CLASSIC_SUBNET"
  fi
  say "making the bridge $BRIDGE ($BRIDGE_CIDR)"
  ip link add "$BRIDGE" type bridge
fi
ip -4 addr show dev "$BRIDGE" | grep -qw "inet $BRIDGE_CIDR" || ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
ip link set "$BRIDGE" up
rules add
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || echo 1 >/proc/sys/net/ipv4/ip_forward

printf '{\n  "features": { "containerd-snapshotter": false }\n}\n' >"$dir/daemon.json"
started=false
if ! classic_docker info >/dev/null 2>&1; then
  if alive "$run/classic-dockerd.pid"; then
    wait_for "classic_docker info" 30 || die "the classic-store dockerd (pid $(cat "$run/classic-dockerd.pid")) does not answer on $sock; see $dir/dockerd.log"
  else
    say "starting a dockerd with the classic image store on unix://$sock"
    mkdir -p "$exec_root" "$dir/data"
    setsid nohup dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$exec_root" \
      --pidfile "$exec_root/docker.pid" -H "unix://$sock" --bridge "$BRIDGE" --iptables=false --ip6tables=false \
      >"$dir/dockerd.log" 2>&1 </dev/null 9>&- &
    echo $! >"$run/classic-dockerd.pid"
    wait_for "classic_docker info" 60 || die "the classic-store dockerd did not start; see $dir/dockerd.log"
    started=true
  fi
fi
driver=$(classic_docker info --format '{{.Driver}} {{json .DriverStatus}}')
case "$driver" in
  overlay2\ *) ;;
  *) die "the second engine reports storage driver '$driver', not overlay2" ;;
esac
case "$driver" in *io.containerd.snapshotter*) die "the second engine uses the containerd snapshotter ($driver)" ;; esac

# --- the lab registry, its base image ------------------------------------------------------------
if [ -z "${LAB_REGISTRY_PASSWORD:-}" ] && [ -s "$lab/registry/password" ]; then LAB_REGISTRY_PASSWORD=$(cat "$lab/registry/password"); fi
[ -n "${LAB_REGISTRY_PASSWORD:-}" ] || die "no LAB_REGISTRY_PASSWORD and no $lab/registry/password: run up.sh"
reg_user=${LAB_REGISTRY_USER:-berth}
printf '%s' "$LAB_REGISTRY_PASSWORD" | classic_docker login --username "$reg_user" --password-stdin "$REGISTRY" >/dev/null 2>&1 ||
  die "docker login to $REGISTRY through the classic-store engine failed"
classic_docker pull -q "$BASE_IMAGE" >/dev/null || die "the classic-store engine cannot pull $BASE_IMAGE"
if $started; then # containers and RUN steps reach Debian's mirror through the bridge and NAT
  classic_docker run --rm "$BASE_IMAGE" apt-get update -q >"$dir/network-check.log" 2>&1 ||
    die "a container on the classic-store engine cannot reach Debian's mirror; see $dir/network-check.log"
fi

# --- the multi-platform busybox base, built by the main engine ---------------------------------
bb_tag="$(cat "$bb/version")-lab$BUSYBOX_RECIPE"
bb_ref="$REGISTRY/$BUSYBOX_REPO:$bb_tag"
platforms_in_registry() {
  curl -fs -u "$reg_user:$LAB_REGISTRY_PASSWORD" \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$REGISTRY/v2/$BUSYBOX_REPO/manifests/$bb_tag" |
    jq -r '[.manifests[]?.platform | select(.os == "linux") | "\(.os)/\(.architecture)"] | unique | join(",")'
}
if [ "$(platforms_in_registry || true)" != "$PLATFORMS" ]; then
  say "building $bb_ref for $PLATFORMS (the arm64 RUN step under QEMU)"
  ctx="$dir/busybox-context"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -r "$bb/amd64" "$bb/arm64" "$bb/copyright" "$ctx/"
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
ARG TARGETARCH
COPY \${TARGETARCH}/busybox /bin/busybox
COPY copyright /usr/share/doc/busybox-static/copyright
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL org.opencontainers.image.title="Debian busybox-static $(cat "$bb/version") (Berth lab)" berth.lab.busybox-recipe="$BUSYBOX_RECIPE"
CMD ["/bin/sh"]
EOF
  main_docker buildx inspect default >/dev/null # BuildKit re-reads the emulated platforms
  main_docker buildx build --builder default --platform "$PLATFORMS" --provenance=false -t "$bb_ref" --push "$ctx" \
    >"$dir/busybox-build.log" 2>&1 || die "building $bb_ref failed; see $dir/busybox-build.log"
  main_docker image rm "$bb_ref" >/dev/null 2>&1 || true # it lives in the registry; tests pull it
  rm -rf "$ctx"
  [ "$(platforms_in_registry)" = "$PLATFORMS" ] || die "$bb_ref in the registry is not one manifest list for $PLATFORMS"
fi

cat >"$dir/env.tmp" <<EOF
LAB_CLASSIC_DOCKER_HOST=unix://$sock
LAB_CLASSIC_DATA_ROOT=$dir/data
LAB_CLASSIC_LOG=$dir/dockerd.log
LAB_MULTIARCH_BASE=$bb_ref
LAB_MULTIARCH_PLATFORMS=$PLATFORMS
EOF
mv "$dir/env.tmp" "$dir/env"

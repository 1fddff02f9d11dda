#!/usr/bin/env bash
# BuildKit for the lab's docker-container builders, offline (the Go module proxy and Debian's mirror
# are the only things it reaches). No image can be pulled here, so `docker buildx create --driver
# docker-container` gets its BuildKit image from the lab registry (--driver-opt image=...):
#   1. builds buildkitd and buildctl from source (github.com/moby/buildkit, upstream's build tags and
#      version ldflags) into .lab/buildkit/bin;
#   2. makes the image the docker-container driver runs, like moby/buildkit's (entrypoint
#      buildkitd-entrypoint, /var/lib/buildkit a volume) on the lab's Debian base with Debian's runc,
#      git, openssh-client, pigz, xz-utils and the lab's test CA in its trust store, and pushes it as
#      LAB_BUILDKIT_IMAGE;
#   3. makes an SBOM generator for BuildKit's SBOM protocol (`--attest type=sbom,generator=IMAGE`;
#      docker/buildkit-syft-scanner cannot be pulled here): the lab's Trivy writing SPDX JSON, offline,
#      wrapped in the in-toto statement BuildKit reads from $BUILDKIT_SCAN_DESTINATION; pushed as
#      LAB_SBOM_GENERATOR;
#      also tagged as BuildKit's default generator, docker/buildkit-syft-scanner:stable-1, in the lab
#      registry, which the buildkitd config mirrors docker.io to;
#   4. writes that buildkitd config for builders that use the lab registry (LAB_BUILDKITD_CONFIG).
# Called by up.sh with LAB_REGISTRY, LAB_REGISTRY_USER, LAB_REGISTRY_PASSWORD, LAB_BASE_IMAGE,
# LAB_CA_FILE and LAB_TRIVY_BIN set; idempotent: when everything is in place it only checks the
# registry (a fraction of a second). Writes its .lab/env lines to .lab/buildkit/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
dir="$lab/buildkit"

# v0.34.2: the newest release the module proxy serves, built with the lab's Go (its go.mod asks for
# go 1.26.8); buildx 0.13.1 (the lab's client) talks to it over the same stable control API.
BUILDKIT_VERSION=v0.34.2
BUILDKIT_MODULE=github.com/moby/buildkit
BUILDKIT_TAGS="osusergo netgo static_build seccomp" # upstream's buildkitd tags (Dockerfile)
IMAGE_REVISION=1     # bump when the image's Dockerfile changes in a way its hash does not see
SBOM_REVISION=1
REGISTRY=${LAB_REGISTRY:?}
BASE_IMAGE=${LAB_BASE_IMAGE:?}
CA_FILE=${LAB_CA_FILE:?}
TRIVY_BIN=${LAB_TRIVY_BIN:?}
IMAGE="$REGISTRY/berth/buildkit:$BUILDKIT_VERSION"
build_log="$lab/buildkit-build.log"

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: buildkit: error: %s\n' "$*" >&2; exit 1; }
mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9

[ "$(uname -m)" = x86_64 ] || die "the lab builds an amd64 BuildKit image only (this is $(uname -m))"
[ -x "$TRIVY_BIN" ] || die "no Trivy at $TRIVY_BIN (scripts/lab/trivy.sh makes it)"
[ -s "$CA_FILE" ] || die "no lab CA at $CA_FILE"

# A docker client config of this script's own, logged in to the lab registry (with the current
# password, when something is to be pushed), so pushes do not depend on (or change) what a test left
# in ~/.docker/config.json.
export DOCKER_CONFIG="$dir/docker-config"
logged_in=""
login() {
  [ -n "$logged_in" ] && return 0
  (umask 077 && mkdir -p "$DOCKER_CONFIG")
  printf '%s' "${LAB_REGISTRY_PASSWORD:?}" |
    docker login -u "${LAB_REGISTRY_USER:?}" --password-stdin "$REGISTRY" >/dev/null 2>&1 ||
    die "docker login to $REGISTRY failed"
  logged_in=1
}

# The digest the registry holds for $1 (empty when it has none).
registry_digest() {
  local ref=$1 path tag
  path=${ref#*/}
  tag=${path##*:}
  path=${path%:*}
  curl -fsI -u "${LAB_REGISTRY_USER:?}:${LAB_REGISTRY_PASSWORD:?}" \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$REGISTRY/v2/$path/manifests/$tag" 2>/dev/null |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' || true
}

# Build the context in $2 as $1 (labelled with its hash $3) unless the registry holds what the last
# push of that very hash left there; records "<hash> <digest>" in $4.
build_and_push() { # ref context hash stampfile what
  local ref=$1 ctx=$2 hash=$3 stamp=$4 what=$5 current
  current=$(registry_digest "$ref")
  if [ -n "$current" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash $current" ]; then
    return 0
  fi
  say "building $what as $ref"
  docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" --label "berth.lab.hash=$hash" -t "$ref" "$ctx" \
    >"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; die "building $what failed; see $build_log"; }
  login
  docker push -q "$ref" >>"$build_log" 2>&1 || { tail -n 5 "$build_log" >&2; die "pushing $ref failed; see $build_log"; }
  current=$(registry_digest "$ref")
  [ -n "$current" ] || die "the registry has no $ref after the push"
  printf '%s %s\n' "$hash" "$current" >"$stamp"
}

# --- 1. buildkitd and buildctl from source ------------------------------------------------------
bin="$dir/bin"
# The binaries are good when they were built from this version with these flags by this Go; the
# stamp holds that and the binaries' size and mtime, so a warm run starts nothing.
bin_id() { printf '%s %s %s %s' "$BUILDKIT_VERSION" "$BUILDKIT_TAGS" "$(go env GOVERSION 2>/dev/null)" \
  "$(stat -c '%s %Y' "$bin/buildkitd" "$bin/buildctl" 2>/dev/null | tr '\n' ' ')"; }
if [ ! -x "$bin/buildkitd" ] || [ ! -x "$bin/buildctl" ] || [ "$(cat "$dir/bin.stamp" 2>/dev/null)" != "$(bin_id)" ]; then
  command -v go >/dev/null || die "Go is needed to build BuildKit from source; install it and rerun"
  say "building BuildKit $BUILDKIT_VERSION from source (the first time takes a few minutes; log in $build_log)"
  start=$SECONDS
  info=$(go mod download -json "$BUILDKIT_MODULE@$BUILDKIT_VERSION" 2>"$build_log") ||
    die "go mod download $BUILDKIT_MODULE@$BUILDKIT_VERSION failed; see $build_log"
  read -r moddir revision < <(printf '%s' "$info" | python3 -c \
    'import json, sys; m = json.load(sys.stdin); print(m["Dir"], (m.get("Origin") or {}).get("Hash") or m["Version"])')
  # Its go.mod has exclude directives, so `go install pkg@version` refuses it: build it as the main
  # module from a writable copy of the module source.
  src="$dir/src"
  rm -rf "$src"
  cp -r "$moddir" "$src"
  chmod -R u+w "$src"
  pkg=$BUILDKIT_MODULE
  mkdir -p "$bin"
  if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "$BUILDKIT_TAGS" \
    -ldflags "-s -w -X $pkg/version.Version=$BUILDKIT_VERSION -X $pkg/version.Revision=$revision -X $pkg/version.Package=$pkg" \
    -o "$bin/" ./cmd/buildkitd ./cmd/buildctl) >>"$build_log" 2>&1; then
    tail -n 20 "$build_log" >&2
    die "building BuildKit failed; see $build_log"
  fi
  # Keep only what the image takes from the source tree (the entrypoint scripts).
  mkdir -p "$dir/hack"
  install -m 0755 "$src/hack/buildkitd-entrypoint" "$src/hack/with-cgroupfs-remount" "$dir/hack/"
  rm -rf "$src"
  "$bin/buildkitd" --version | grep -q " $BUILDKIT_VERSION " || die "the built buildkitd does not report $BUILDKIT_VERSION"
  bin_id >"$dir/bin.stamp"
  say "built BuildKit $BUILDKIT_VERSION in $((SECONDS - start)) s"
fi

# --- 2. the BuildKit image ---------------------------------------------------------------------
ctx="$dir/image"
mkdir -p "$ctx"
cat >"$ctx/Dockerfile.tmp" <<'EOF'
# BuildKit for the docker-container driver, laid out like moby/buildkit (its Ubuntu variant) on the
# lab's Debian base: Debian's runc runs the build steps (buildkitd finds `runc` on PATH).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      runc git openssh-client openssl pigz xz-utils ca-certificates && \
    rm -rf /var/lib/apt/lists/*
COPY berth-lab-ca.crt /usr/local/share/ca-certificates/berth-lab-ca.crt
RUN update-ca-certificates >/dev/null && mkdir -p /etc/buildkit/cdi /etc/cdi /var/run/cdi
COPY buildkitd buildctl buildkitd-entrypoint with-cgroupfs-remount /usr/bin/
ENV BUILDKIT_SETUP_CGROUPV2_ROOT=1
VOLUME /var/lib/buildkit
ENTRYPOINT ["/usr/bin/buildkitd-entrypoint"]
EOF
mv -f "$ctx/Dockerfile.tmp" "$ctx/Dockerfile"
cp -p "$bin/buildkitd" "$bin/buildctl" "$dir/hack/buildkitd-entrypoint" "$dir/hack/with-cgroupfs-remount" "$ctx/"
cp "$CA_FILE" "$ctx/berth-lab-ca.crt"
image_hash=$( (echo "$IMAGE_REVISION $BASE_IMAGE"; cat "$dir/bin.stamp" "$ctx/Dockerfile" "$ctx/berth-lab-ca.crt" \
  "$ctx/buildkitd-entrypoint" "$ctx/with-cgroupfs-remount") | sha256sum | cut -c1-16)
build_and_push "$IMAGE" "$ctx" "$image_hash" "$dir/image.stamp" "the BuildKit $BUILDKIT_VERSION image"

# --- 3. the SBOM generator (BuildKit's SBOM protocol, docs/attestations/sbom-protocol.md) ----------
trivy_version=$("$TRIVY_BIN" --version 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[ -n "$trivy_version" ] || die "$TRIVY_BIN does not say its version"
SBOM_IMAGE="$REGISTRY/berth/sbom-generator:trivy-$trivy_version"
sctx="$dir/sbom"
mkdir -p "$sctx"
cat >"$sctx/Dockerfile.tmp" <<'EOF'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY trivy berth-sbom-scan /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/berth-sbom-scan"]
EOF
mv -f "$sctx/Dockerfile.tmp" "$sctx/Dockerfile"
cat >"$sctx/berth-sbom-scan.tmp" <<'EOF'
#!/bin/sh
# BuildKit's SBOM generator protocol with Trivy: scan $BUILDKIT_SCAN_SOURCE (and each root filesystem
# in $BUILDKIT_SCAN_SOURCE_EXTRAS, when set and present) offline into SPDX JSON, and write each as an
# in-toto statement (predicate type https://spdx.dev/Document) to $BUILDKIT_SCAN_DESTINATION/<name>.spdx.json.
set -eu
: "${BUILDKIT_SCAN_DESTINATION:?}" "${BUILDKIT_SCAN_SOURCE:?}"
cache=$(mktemp -d)
scan() { # rootfs name
  spdx="$cache/$2.spdx"
  trivy rootfs --quiet --format spdx-json --offline-scan --skip-db-update --skip-java-db-update \
    --skip-check-update --cache-dir "$cache/trivy" --output "$spdx" "$1"
  {
    printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":'
    cat "$spdx"
    printf '}\n'
  } >"$BUILDKIT_SCAN_DESTINATION/$2.spdx.json"
}
scan "$BUILDKIT_SCAN_SOURCE" "$(basename "$BUILDKIT_SCAN_SOURCE")"
if [ -n "${BUILDKIT_SCAN_SOURCE_EXTRAS:-}" ] && [ -d "$BUILDKIT_SCAN_SOURCE_EXTRAS" ]; then
  for extra in "$BUILDKIT_SCAN_SOURCE_EXTRAS"/*; do
    [ -d "$extra" ] && scan "$extra" "$(basename "$extra")"
  done
fi
rm -rf "$cache"
EOF
chmod 0755 "$sctx/berth-sbom-scan.tmp"
mv -f "$sctx/berth-sbom-scan.tmp" "$sctx/berth-sbom-scan"
# Hard link (or copy) the 170 MB binary into the context only when it changed.
if [ ! -f "$sctx/trivy" ] || [ "$(stat -c '%s %Y' "$sctx/trivy")" != "$(stat -c '%s %Y' "$TRIVY_BIN")" ]; then
  rm -f "$sctx/trivy"
  ln "$TRIVY_BIN" "$sctx/trivy" 2>/dev/null || cp -p "$TRIVY_BIN" "$sctx/trivy"
fi
sbom_hash=$( (echo "$SBOM_REVISION $BASE_IMAGE $trivy_version $(stat -c '%s %Y' "$TRIVY_BIN")"
  cat "$sctx/Dockerfile" "$sctx/berth-sbom-scan") | sha256sum | cut -c1-16)
build_and_push "$SBOM_IMAGE" "$sctx" "$sbom_hash" "$dir/sbom.stamp" "the SBOM generator (Trivy $trivy_version)"

# The same generator where BuildKit's default one is looked up (docker.io/docker/buildkit-syft-scanner:
# stable-1, through the docker.io mirror of the config below), so `--sbom=true` / `--attest type=sbom`
# without a generator work as they do for users. A tag of the same manifest, copied registry-side.
DEFAULT_GENERATOR="$REGISTRY/docker/buildkit-syft-scanner:stable-1"
sbom_digest=$(registry_digest "$SBOM_IMAGE")
if [ "$(registry_digest "$DEFAULT_GENERATOR")" != "$sbom_digest" ]; then
  say "tagging the SBOM generator as $DEFAULT_GENERATOR (BuildKit's default generator, through the mirror)"
  login
  docker buildx imagetools create --tag "$DEFAULT_GENERATOR" "$SBOM_IMAGE@$sbom_digest" >>"$build_log" 2>&1 ||
    die "tagging $DEFAULT_GENERATOR failed; see $build_log"
fi

# --- 4. buildkitd config for builders that use the lab registry ---------------------------------
# BuildKit already speaks plain HTTP to loopback registries; saying so keeps it explicit. The lab
# registry mirrors docker.io for BuildKit's own lookups (the default SBOM generator above); nothing
# else from Docker Hub is there, and nothing can be pulled from Docker Hub itself.
cat >"$dir/buildkitd.toml.tmp" <<EOF
# buildkitd config for docker-container builders in the lab (docker buildx create --buildkitd-config).
[registry."$REGISTRY"]
  http = true
[registry."127.0.0.1:${REGISTRY##*:}"]
  http = true
[registry."docker.io"]
  mirrors = ["$REGISTRY"]
EOF
mv -f "$dir/buildkitd.toml.tmp" "$dir/buildkitd.toml"

cat >"$dir/env.tmp" <<EOF
LAB_BUILDKIT_VERSION=$BUILDKIT_VERSION
LAB_BUILDKIT_IMAGE=$IMAGE
LAB_BUILDKITD_CONFIG=$dir/buildkitd.toml
LAB_SBOM_GENERATOR=$SBOM_IMAGE
EOF
mv -f "$dir/env.tmp" "$dir/env"

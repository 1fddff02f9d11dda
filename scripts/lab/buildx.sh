#!/usr/bin/env bash
# A current buildx for the tests of the build action's gha cache, offline (the Go module proxy is the
# only thing it reaches). Debian's buildx (0.13.1, /usr/libexec/docker/cli-plugins/docker-buildx)
# stays the system's plugin, which the other tests rely on; this one is built from source into
# .lab/buildx/docker-buildx, and a test that wants it links it into its private DOCKER_CONFIG's
# cli-plugins/ directory (the docker CLI looks there before the system's plugins), so only that
# test's steps use it.
# Why: the GitHub cache service v2 (the only one since April 2025) needs buildx 0.21 or later, which
# hands BuildKit ACTIONS_RESULTS_URL as the gha cache's `url_v2`; 0.13.1 only knows the v1 API.
# Called by up.sh; idempotent: when the binary is in place it starts nothing. Writes its .lab/env
# lines to .lab/buildx/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/.lab"
lab=$(cd "$root/.lab" && pwd -P) # .lab may be a link to a shared lab: env values name the real path
dir="$lab/buildx"

# v0.38.2: the newest release the module proxy serves (`go list -m github.com/docker/buildx@latest`);
# its go.mod asks for go 1.26.8, the lab's Go. Its build/opt.go passes ACTIONS_RESULTS_URL to
# BuildKit as url_v2 when ACTIONS_CACHE_SERVICE_V2 is true, as the runner sets it for actions.
BUILDX_VERSION=v0.38.2
BUILDX_MODULE=github.com/docker/buildx
bin="$dir/docker-buildx"
build_log="$lab/buildx-build.log"

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: buildx: error: %s\n' "$*" >&2; exit 1; }
mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9

# The binary is good when it was built from this version by this Go; the stamp holds that and the
# binary's size and mtime, so a warm run starts nothing.
bin_id() { printf '%s %s %s' "$BUILDX_VERSION" "$(go env GOVERSION 2>/dev/null)" "$(stat -c '%s %Y' "$bin" 2>/dev/null)"; }
if [ ! -x "$bin" ] || [ "$(cat "$dir/bin.stamp" 2>/dev/null)" != "$(bin_id)" ]; then
  command -v go >/dev/null || die "Go is needed to build buildx from source; install it and rerun"
  say "building buildx $BUILDX_VERSION from source (the first time takes a few minutes; log in $build_log)"
  start=$SECONDS
  info=$(go mod download -json "$BUILDX_MODULE@$BUILDX_VERSION" 2>"$build_log") ||
    die "go mod download $BUILDX_MODULE@$BUILDX_VERSION failed; see $build_log"
  read -r moddir revision < <(printf '%s' "$info" | python3 -c \
    'import json, sys; m = json.load(sys.stdin); print(m["Dir"], (m.get("Origin") or {}).get("Hash") or m["Version"])')
  grep -q '"url_v2"' "$moddir/build/opt.go" ||
    die "buildx $BUILDX_VERSION does not pass the cache service v2 URL (url_v2) to BuildKit"
  # Upstream's recipe (its Dockerfile: go build -trimpath -ldflags "-s -w <version>" ./cmd/buildx),
  # as the main module from a writable copy of the module source, like scripts/lab/buildkit.sh.
  src="$dir/src"
  rm -rf "$src"
  cp -r "$moddir" "$src"
  chmod -R u+w "$src"
  pkg=$BUILDX_MODULE
  if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X $pkg/version.Version=$BUILDX_VERSION -X $pkg/version.Revision=$revision -X $pkg/version.Package=$pkg" \
    -o "$bin.tmp" ./cmd/buildx) >>"$build_log" 2>&1; then
    tail -n 20 "$build_log" >&2
    rm -rf "$src" "$bin.tmp"
    die "building buildx failed; see $build_log"
  fi
  rm -rf "$src"
  "$bin.tmp" version | grep -q " $BUILDX_VERSION " || die "the built buildx does not report $BUILDX_VERSION"
  mv -f "$bin.tmp" "$bin"
  bin_id >"$dir/bin.stamp"
  say "built buildx $BUILDX_VERSION in $((SECONDS - start)) s"
fi

cat >"$dir/env.tmp" <<EOF
LAB_BUILDX_VERSION=$BUILDX_VERSION
LAB_BUILDX_PLUGIN=$bin
EOF
mv -f "$dir/env.tmp" "$dir/env"

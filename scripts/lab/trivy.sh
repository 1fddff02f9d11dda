#!/usr/bin/env bash
# Real Trivy for the lab, offline (the Go module proxy is the only thing it reaches). Called by up.sh
# with LAB_REGISTRY, LAB_REGISTRY_USER, LAB_REGISTRY_PASSWORD and LAB_RELEASES_URL set; idempotent,
# and when everything is in place it only checks (a few hundredths of a second):
#   1. builds Trivy from source with upstream's documented recipe into .lab/trivy/bin;
#   2. packages it exactly like an upstream release (archive and checksums file) under
#      .lab/releases/aquasecurity/trivy/releases/download/v<version>/, the path layout of GitHub's
#      release downloads, so LAB_TRIVY_DOWNLOAD_URL replaces https://github.com/aquasecurity/trivy/releases/download;
#   3. builds a small vulnerability DB of synthetic advisories (scripts/lab/trivy-db) into .lab/trivy/db;
#   4. publishes it to the lab registry as the OCI artifact Trivy's --db-repository expects.
# Writes its .lab/env lines to .lab/trivy/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
tdir="$lab/trivy"
src="$root/scripts/lab/trivy-db"

TRIVY_VERSION=0.74.0
TRIVY_GOTOOLCHAIN=go1.26.3
TRIVY_MODULE=github.com/aquasecurity/trivy
DB_REF="${LAB_REGISTRY:?}/berth/trivy-db:2"
DOWNLOAD_URL="${LAB_RELEASES_URL:?}/aquasecurity/trivy/releases/download"
release_dir="$lab/releases/aquasecurity/trivy/releases/download/v$TRIVY_VERSION"
archive="trivy_${TRIVY_VERSION}_Linux-64bit.tar.gz"
checksums="trivy_${TRIVY_VERSION}_checksums.txt"
bin="$tdir/bin/trivy"
build_log="$lab/trivy-build.log"

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
mkdir -p "$tdir"
# One at a time: a second lab:up waits for the first one's build instead of racing it.
exec 9>"$tdir/lock"
flock 9

[ "$(uname -m)" = x86_64 ] || die "the lab packages Trivy as upstream's Linux-64bit release only (this is $(uname -m))"

need_go() {
  command -v go >/dev/null || die "Go (1.21 or later) is needed to build Trivy from source; install it and rerun"
  local minor
  minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [ -n "$minor" ] && [ "$minor" -ge 21 ] || die "Go 1.21 or later is needed to build Trivy (found $(go env GOVERSION))"
}

# `go install pkg@version` outside a module checks whether the module is deprecated, which asks the
# proxy for the module's version list; the proxy here answers that list with 403 (single versions
# are served), and go gives up. A file:// proxy placed first that lists only this version answers
# that question; everything else falls through to the configured proxy. What gets built is the same.
go_proxy() {
  local list="$tdir/goproxy/$TRIVY_MODULE/@v/list"
  mkdir -p "$(dirname "$list")"
  printf 'v%s\n' "$TRIVY_VERSION" >"$list"
  printf 'file://%s,%s' "$tdir/goproxy" "$(go env GOPROXY)"
}

# The binary is good when `trivy --version` says TRIVY_VERSION; that answer is remembered for this
# very file (size, mtime) so a warm lab:up does not start the 170 MB binary every time.
trivy_ok() {
  [ -x "$bin" ] || return 1
  local id
  id="$(stat -c '%s %Y' "$bin") $TRIVY_VERSION"
  [ "$(cat "$tdir/bin.stamp" 2>/dev/null)" = "$id" ] && return 0
  "$bin" --version 2>/dev/null | grep -qx "Version: $TRIVY_VERSION" || return 1
  printf '%s\n' "$id" >"$tdir/bin.stamp"
}

# --- 1. Trivy from source -----------------------------------------------------------------------
if ! trivy_ok; then
  need_go
  say "building Trivy $TRIVY_VERSION from source (the first time takes several minutes; log in $build_log)"
  start=$SECONDS
  mkdir -p "$tdir/bin"
  # Upstream's documented recipe, with GOBIN pointing into the lab.
  if ! GOPROXY=$(go_proxy) GOBIN="$tdir/bin" GOTOOLCHAIN=$TRIVY_GOTOOLCHAIN GOEXPERIMENT=jsonv2 CGO_ENABLED=0 \
    go install -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$TRIVY_VERSION" \
    "$TRIVY_MODULE/cmd/trivy@v$TRIVY_VERSION" >"$build_log" 2>&1; then
    tail -n 20 "$build_log" >&2
    die "building Trivy failed; see $build_log"
  fi
  trivy_ok || die "the built $bin does not report version $TRIVY_VERSION"
  say "built Trivy $TRIVY_VERSION in $((SECONDS - start)) s"
fi

# --- 2. the release, packaged like upstream's -------------------------------------------------
# The stamp ties the release to the binary it was made from (size and mtime, cheaper than a hash).
release_stamp="$(stat -c '%s %Y' "$bin") v1"
if [ ! -s "$release_dir/$archive" ] || [ ! -s "$release_dir/$checksums" ] ||
  [ "$(cat "$tdir/release.stamp" 2>/dev/null)" != "$release_stamp" ]; then
  need_go
  say "packaging Trivy $TRIVY_VERSION as an upstream release under $release_dir"
  # Upstream's archive holds the binary with README.md, LICENSE and contrib/*.tpl from the source tree.
  info=$(GOPROXY=$(go_proxy) go mod download -json "$TRIVY_MODULE@v$TRIVY_VERSION")
  read -r moddir modtime < <(printf '%s' "$info" | python3 -c \
    'import json, sys; m = json.load(sys.stdin); print(m["Dir"], json.load(open(m["Info"]))["Time"])')
  [ -f "$moddir/LICENSE" ] || die "no $TRIVY_MODULE@v$TRIVY_VERSION source in the module cache"
  stage="$tdir/release.tmp"
  rm -rf "$stage"
  mkdir -p "$stage/pkg/contrib" "$stage/out"
  install -m 0755 "$bin" "$stage/pkg/trivy"
  install -m 0644 "$moddir/LICENSE" "$moddir/README.md" "$stage/pkg/"
  install -m 0644 "$moddir"/contrib/*.tpl "$stage/pkg/contrib/"
  # Reproducible: fixed order, owner and time (the release's commit time), no gzip name or time.
  (cd "$stage/pkg" && LC_ALL=C ls -d LICENSE README.md contrib/*.tpl trivy | LC_ALL=C sort) >"$stage/files"
  tar -C "$stage/pkg" --create --format=gnu --no-recursion --owner=0 --group=0 --numeric-owner \
    --mtime="$modtime" --files-from="$stage/files" | gzip -n -9 >"$stage/out/$archive"
  (cd "$stage/out" && sha256sum "$archive" >"$checksums")
  mkdir -p "$release_dir"
  mv -f "$stage/out/$archive" "$release_dir/$archive"
  mv -f "$stage/out/$checksums" "$release_dir/$checksums"
  rm -rf "$stage"
  printf '%s\n' "$release_stamp" >"$tdir/release.stamp"
fi

# --- 3. the vulnerability DB ------------------------------------------------------------------
tool="$tdir/tools/trivy-db"
tool_stamp=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -d' ' -f1)
if [ ! -x "$tool" ] || [ "$(cat "$tool.stamp" 2>/dev/null)" != "$tool_stamp" ]; then
  need_go
  say "building the lab's Trivy DB tool (scripts/lab/trivy-db)"
  mkdir -p "$tdir/tools"
  (cd "$src" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$tool.tmp" .) >"$lab/trivy-db-build.log" 2>&1 ||
    die "building scripts/lab/trivy-db failed; see $lab/trivy-db-build.log"
  mv -f "$tool.tmp" "$tool"
  printf '%s\n' "$tool_stamp" >"$tool.stamp"
fi

db="$tdir/db"
db_stamp=$(cat "$tool.stamp" "$src/advisories.json" | sha256sum | cut -d' ' -f1)
if [ ! -s "$db/trivy.db" ] || [ ! -s "$db/metadata.json" ] || [ "$(cat "$tdir/db.stamp" 2>/dev/null)" != "$db_stamp" ]; then
  say "building the lab's Trivy DB from scripts/lab/trivy-db/advisories.json"
  rm -rf "$db.tmp"
  "$tool" build -advisories "$src/advisories.json" -out "$db.tmp"
  chmod 0755 "$db.tmp"
  rm -rf "$db"
  mv "$db.tmp" "$db"
  printf '%s\n' "$db_stamp" >"$tdir/db.stamp"
  rm -f "$tdir/db.digest"
fi

# --- 4. the DB in the registry, where --db-repository finds it --------------------------------
repo_path=${DB_REF#*/}
manifest_url="http://$LAB_REGISTRY/v2/${repo_path%:*}/manifests/${DB_REF##*:}"
current=$(curl -fsI -u "${LAB_REGISTRY_USER:?}:${LAB_REGISTRY_PASSWORD:?}" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$manifest_url" 2>/dev/null |
  tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' || true)
if [ -z "$current" ] || [ "$current" != "$(cat "$tdir/db.digest" 2>/dev/null)" ]; then
  say "publishing the lab's Trivy DB as $DB_REF"
  LAB_REGISTRY_USER=$LAB_REGISTRY_USER LAB_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD \
    "$tool" push -db "$db" -ref "$DB_REF" >"$tdir/db.digest.tmp"
  mv -f "$tdir/db.digest.tmp" "$tdir/db.digest"
fi

cat >"$tdir/env" <<EOF
LAB_TRIVY_VERSION=$TRIVY_VERSION
LAB_TRIVY_BIN=$bin
LAB_TRIVY_DOWNLOAD_URL=$DOWNLOAD_URL
LAB_TRIVY_DB_REPOSITORY=$DB_REF
LAB_TRIVY_DB_DIR=$db
EOF

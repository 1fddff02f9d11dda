#!/usr/bin/env bash
# cosign for the lab, served "as an upstream release": Debian trixie's cosign (2.5) installed on this
# machine, and its binary published in upstream's layout,
#   .lab/releases/sigstore/cosign/releases/download/v<version>/cosign-linux-<arch>
# with cosign_checksums.txt beside it (`<sha256>  <asset>` lines, as upstream's), so
# LAB_COSIGN_DOWNLOAD_URL replaces https://github.com/sigstore/cosign/releases/download and Berth
# installs cosign through the same checksum-verified tool-cache path as upstream's release.
# Called by up.sh with LAB_RELEASES_URL set; idempotent (a stamp ties the release to the binary it was
# made from). Writes its .lab/env lines to .lab/cosign/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
cdir="$lab/cosign"
base="$lab/releases/sigstore/cosign/releases/download"

say() { printf '\033[1mlab:\033[0m %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$cdir"
exec 9>"$cdir/lock"
flock 9

if ! command -v cosign >/dev/null; then
  # trixie is in apt's sources at low priority (up.sh adds it for Docker 26).
  [ -f /etc/apt/sources.list.d/trixie.sources ] || die "trixie is not in apt's sources (run up.sh)"
  say "installing Debian trixie's cosign"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 -t trixie cosign >"$cdir/apt.log" 2>&1 || {
    tail -n 20 "$cdir/apt.log" >&2
    die "apt-get install -t trixie cosign failed; see $cdir/apt.log"
  }
fi
bin=$(command -v cosign)

# The upstream version the Debian package is built from: 2.5.0-2+b5 -> 2.5.0.
version=$(dpkg-query -W -f='${Version}' cosign 2>/dev/null | sed -E 's/^[0-9]+://; s/[+~-].*$//')
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the cosign package's version (got '$version')"
# Debian's architecture names are upstream's asset suffixes (amd64, arm64).
asset="cosign-linux-$(dpkg --print-architecture)"
dir="$base/v$version"
stamp="$(stat -c '%s %Y' "$bin") $version v1"
if [ ! -s "$dir/$asset" ] || [ ! -s "$dir/cosign_checksums.txt" ] ||
  [ "$(cat "$cdir/release.stamp" 2>/dev/null)" != "$stamp" ]; then
  say "publishing Debian's cosign $version as an upstream release under $dir"
  stage="$cdir/release.tmp"
  rm -rf "$stage"
  mkdir -p "$stage"
  install -m 0755 "$bin" "$stage/$asset"
  (cd "$stage" && sha256sum "$asset" >cosign_checksums.txt)
  mkdir -p "$dir"
  mv -f "$stage/$asset" "$dir/$asset"
  mv -f "$stage/cosign_checksums.txt" "$dir/cosign_checksums.txt"
  rm -rf "$stage"
  printf '%s\n' "$stamp" >"$cdir/release.stamp"
fi

cat >"$cdir/env.tmp" <<EOF
LAB_COSIGN_VERSION=$version
LAB_COSIGN_BIN=$bin
LAB_COSIGN_DOWNLOAD_URL=${LAB_RELEASES_URL:?}/sigstore/cosign/releases/download
EOF
mv -f "$cdir/env.tmp" "$cdir/env"

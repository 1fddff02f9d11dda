#!/usr/bin/env bash
# promtool and amtool for the lab, served "as upstream releases": Debian's binaries (packages
# prometheus and prometheus-alertmanager, installed by up.sh) packaged in upstream's layout,
#   .lab/releases/prometheus/<project>/releases/download/v<version>/<project>-<version>.linux-<arch>.tar.gz
# (the binaries in a directory of the archive's name, with LICENSE and NOTICE) and sha256sums.txt
# beside it, so LAB_MONITORING_DOWNLOAD_URL replaces https://github.com/prometheus and berth/scan
# installs them through the same checksum-verified code path as upstream's. Called by up.sh with
# LAB_RELEASES_URL set; idempotent (a stamp per release ties it to the binaries it was made from).
# Writes its .lab/env lines to .lab/monitoring/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
mdir="$lab/monitoring"
base="$lab/releases/prometheus"

# Debian's architecture names are upstream's archive suffixes (amd64, arm64).
arch=$(dpkg --print-architecture)
mkdir -p "$mdir"
exec 9>"$mdir/lock"
flock 9

# The upstream version a Debian package is built from: 2.42.0+ds-5+deb12u1 -> 2.42.0.
upstream_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[+~-].*$//'
}

# package project binaries...
package() {
  local pkg=$1 project=$2
  shift 2
  local version dir name stamp stage bin
  version=$(upstream_version "$pkg")
  if [ -z "$version" ]; then
    printf "lab: error: Debian's %s package is not installed (up.sh installs it)\n" "$pkg" >&2
    exit 1
  fi
  name="$project-$version.linux-$arch"
  dir="$base/$project/releases/download/v$version"
  stamp="$(for bin in "$@"; do stat -c '%s %Y' "/usr/bin/$bin"; done | tr '\n' ' ')v1"
  if [ ! -s "$dir/$name.tar.gz" ] || [ ! -s "$dir/sha256sums.txt" ] ||
    [ "$(cat "$mdir/$project.stamp" 2>/dev/null)" != "$stamp" ]; then
    printf '\033[1mlab:\033[0m packaging %s %s (Debian %s) as an upstream release under %s\n' "$project" "$version" "$pkg" "$dir" >&2
    stage="$mdir/$project.tmp"
    rm -rf "$stage"
    mkdir -p "$stage/pkg/$name" "$stage/out"
    for bin in "$@"; do install -m 0755 "/usr/bin/$bin" "$stage/pkg/$name/$bin"; done
    install -m 0644 "/usr/share/doc/$pkg/copyright" "$stage/pkg/$name/LICENSE"
    install -m 0644 "/usr/share/doc/$pkg/NOTICE" "$stage/pkg/$name/NOTICE"
    # Reproducible: fixed order, owner and time, no gzip name or time.
    tar -C "$stage/pkg" --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner \
      --mtime=@0 "$name" | gzip -n -9 >"$stage/out/$name.tar.gz"
    (cd "$stage/out" && sha256sum "$name.tar.gz" >sha256sums.txt)
    mkdir -p "$dir"
    mv -f "$stage/out/$name.tar.gz" "$dir/$name.tar.gz"
    mv -f "$stage/out/sha256sums.txt" "$dir/sha256sums.txt"
    rm -rf "$stage"
    printf '%s\n' "$stamp" >"$mdir/$project.stamp"
  fi
  printf '%s\n' "$version"
}

prometheus_version=$(package prometheus prometheus promtool | tail -n 1)
alertmanager_version=$(package prometheus-alertmanager alertmanager amtool | tail -n 1)

cat >"$mdir/env" <<EOF
LAB_PROMETHEUS_VERSION=$prometheus_version
LAB_ALERTMANAGER_VERSION=$alertmanager_version
LAB_MONITORING_DOWNLOAD_URL=${LAB_RELEASES_URL:?}/prometheus
EOF

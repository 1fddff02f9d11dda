#!/usr/bin/env bash
# The workflow tools `npm test` runs, at pinned versions, into .lab/tools (git-ignored):
#   actionlint  (Go, `go install`)     - lints .github/workflows
#   act         (Go, `go install`)     - runs the workflows end to end against the lab
#   zizmor      (PyPI, into .lab/venv) - security audit of the workflows (offline)
# Idempotent: a tool already at its pinned version is left alone (well under a second in all).
# Prints `NAME=PATH` lines for each tool to .lab/tools/env, which the tests read.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=1.7.12
ACT_VERSION=0.2.89 # the first act release line whose runs.using accepts node24 is 0.2.81; pinned to a later one
ZIZMOR_VERSION=1.32.0

root=$PWD
tools=$root/.lab/tools
bin=$tools/bin
venv=$root/.lab/venv
mkdir -p "$bin"

# `go install pkg@version` outside a module asks the proxy for the module's version list (to check
# deprecation); the proxy here refuses those lists with 403, so a file:// proxy placed first lists
# only the pinned version. Everything else falls through to the configured proxy; what is built is
# the same module version.
go_proxy() {
  local module=$1 version=$2 dir=$tools/goproxy
  mkdir -p "$dir/$module/@v"
  echo "$version" >"$dir/$module/@v/list"
  printf 'file://%s,%s' "$dir" "$(go env GOPROXY)"
}

go_tool() { # name module package version "version-command" "expected-substring"
  local name=$1 module=$2 package=$3 version=$4 expect=$6 have
  have=$("$bin/$name" $5 2>/dev/null || true)
  if [[ $have == *"$expect"* ]]; then return 0; fi
  command -v go >/dev/null || {
    echo "tools: Go is needed to build $name" >&2
    exit 1
  }
  echo "tools: building $name v$version (go install)" >&2
  # GOTOOLCHAIN=auto: both tools need Go 1.25; an older local Go fetches that toolchain (as trivy.sh does).
  GOTOOLCHAIN=auto GOPROXY=$(go_proxy "$module" "v$version") GOBIN=$bin CGO_ENABLED=0 \
    go install -ldflags "-s -w" "$package@v$version"
  have=$("$bin/$name" $5 2>&1 || true)
  [[ $have == *"$expect"* ]] || {
    echo "tools: $name reports '$have', expected $version" >&2
    exit 1
  }
}

go_tool actionlint github.com/rhysd/actionlint github.com/rhysd/actionlint/cmd/actionlint \
  "$ACTIONLINT_VERSION" "-version" "$ACTIONLINT_VERSION"
go_tool act github.com/nektos/act github.com/nektos/act "$ACT_VERSION" "--version" "act version $ACT_VERSION"

if [[ $("$venv/bin/zizmor" --version 2>/dev/null || true) != "zizmor $ZIZMOR_VERSION" ]]; then
  echo "tools: installing zizmor $ZIZMOR_VERSION from PyPI into .lab/venv" >&2
  if [[ ! -x $venv/bin/pip ]]; then
    # Debian's python3 creates venvs only with python3-venv (ensurepip) installed.
    python3 -c 'import ensurepip' 2>/dev/null ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2; }
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==$ZIZMOR_VERSION"
fi

cat >"$tools/env.tmp" <<EOF
ACTIONLINT=$bin/actionlint
ACTIONLINT_VERSION=$ACTIONLINT_VERSION
ACT=$bin/act
ACT_VERSION=$ACT_VERSION
ZIZMOR=$venv/bin/zizmor
ZIZMOR_VERSION=$ZIZMOR_VERSION
EOF
mv "$tools/env.tmp" "$tools/env"

#!/usr/bin/env bash
# Fails when the committed actions/*/dist differs from a fresh build. The runner executes dist/ straight
# from the repository, so a stale bundle would ship code that was never reviewed or tested.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-dist: $repo_root is not inside a git work tree; the check compares a fresh build with committed files" >&2
  exit 1
fi

# Prefer the project's Node (24) over whatever `node` the shell finds first.
node_bin="$repo_root/node_modules/.bin/node"
[ -x "$node_bin" ] || node_bin=node
"$node_bin" scripts/build-dist.mjs

# `:(glob)` makes `*` stop at `/` and `**` reach files in subdirectories; --untracked-files=all lists new
# files one by one instead of folding them into their directory.
dist_pathspec=':(glob)actions/*/dist/**'
changes="$(git status --porcelain --untracked-files=all -- "$dist_pathspec")"
# A gitignored dist/ would never show up as changed, which would make this check pass vacuously.
ignored="$(git ls-files --others --ignored --exclude-standard -- "$dist_pathspec")"

if [ -n "$changes" ] || [ -n "$ignored" ]; then
  echo "check-dist: actions/*/dist does not match a fresh build:" >&2
  [ -z "$changes" ] || printf '%s\n' "$changes" >&2
  if [ -n "$ignored" ]; then
    while IFS= read -r file; do echo "!! $file (gitignored)" >&2; done <<<"$ignored"
  fi
  echo "hint: run npm run build and commit actions/*/dist" >&2
  exit 1
fi
echo "check-dist: actions/*/dist matches a fresh build"

#!/usr/bin/env bash
# `npm run demo`: brings the lab up, then runs the pipeline against it and prints a short report.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # Node 24 first
bash scripts/lab/up.sh
exec tsx scripts/demo.ts

#!/usr/bin/env bash
# `npm test`: brings the lab up (installing what it needs) and the workflow tools, then static checks, the dist check,
# and every vitest project (unit, then integration against the lab). Ends with one plain
# "N passed, N failed, N skipped" line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # Node 24 (the `node` dev dependency) first
node -e 'if (+process.versions.node.split(".")[0] < 24) { console.error("Node 24 is needed: run npm ci"); process.exit(1) }'

bash scripts/lab/up.sh
echo "== workflow tools"; bash scripts/tools.sh # actionlint, act, zizmor at pinned versions
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== dist check"; npm run -s check:dist
echo "== tests"
report=.lab/vitest-report.json
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || true
exit $status

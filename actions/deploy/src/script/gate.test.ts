// The gate's host snippets under the real prelude, with the HTTP client played by a scripted `curl`
// (or `wget`) on PATH that answers from a list, one answer a call; the real Alertmanager is in
// test/deploy-gate.test.ts.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_PRELUDE, HostReport, renderAssignments } from '../../../../lib/ssh/host-script.js';
import { AM_FUNCTIONS, BAKE, GATE_PREFLIGHT } from './gate.js';

/** A bin directory with bash's tools and a `client` (curl or wget) that answers `answers` in turn. */
function bin(client: 'curl' | 'wget', answers: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gate-'));
  for (const tool of ['bash', 'date', 'tr', 'head', 'base64', 'sleep', 'grep', 'cat', 'sed', 'printf'])
    symlinkSync(
      spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(),
      join(dir, tool),
    );
  writeFileSync(join(dir, 'answers'), answers.join('\n') + '\n');
  writeFileSync(join(dir, 'calls'), '');
  // Each answer: `CODE BODY`, or `FAIL MESSAGE` (no answer). curl prints the body then "\n<code>".
  const fake = `#!/bin/bash
n=$(wc -l <"${dir}/calls" 2>/dev/null || echo 0)
printf '%s\\n' "$*" >>"${dir}/calls"
line=$(sed -n "$((n + 1))p" "${dir}/answers")
[ -n "$line" ] || line=$(tail -n 1 "${dir}/answers")
code=\${line%% *} body=\${line#* }
if [ "$code" = FAIL ]; then
  [ "${client}" = curl ] && { echo "curl: (7) $body" >&2; printf '\\n000'; }
  exit 7
fi
if [ "${client}" = curl ]; then printf '%s\\n%s' "$body" "$code"; else [ "$code" = 200 ] || exit 8; printf '%s' "$body"; fi
`;
  writeFileSync(join(dir, client), fake);
  chmodSync(join(dir, client), 0o755);
  for (const tool of ['wc', 'tail']) symlinkSync(`/usr/bin/${tool}`, join(dir, tool));
  return dir;
}

function run(dir: string, body: string, bake = 0) {
  const values = renderAssignments({
    AM_URL: 'http://127.0.0.1:9',
    AM_QUERY: 'active=true&filter=a%3D%22b%22',
    AM_TIMEOUT: 3,
    BAKE_SECONDS: bake,
  });
  const stubs = `enter() { echo "ENTER $1"; }\nfail() { echo "FAIL $1"; exit 1; }\nhave() { command -v "$1" >/dev/null; }\n`;
  const r = spawnSync(join(dir, 'bash'), ['-c', `${HOST_PRELUDE}${values}\n${stubs}${AM_FUNCTIONS}${body}`], {
    encoding: 'utf8',
    env: { PATH: dir },
  });
  return { ...r, report: HostReport.parse(r.stdout), calls: readFileSync(join(dir, 'calls'), 'utf8') };
}

const body = (r: ReturnType<typeof run>, key: string) =>
  Buffer.from(r.report.all(key).join(''), 'base64').toString('utf8');

describe('GATE_PREFLIGHT', () => {
  it('asks for the status, then the alerts with the filter, and sends both bodies back', () => {
    const r = run(bin('curl', ['200 {"cluster":{}}', '200 [{"labels":{"a":"b"}}]']), GATE_PREFLIGHT);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toContain('http://127.0.0.1:9/api/v2/status');
    expect(r.calls).toContain('http://127.0.0.1:9/api/v2/alerts?active=true&filter=a%3D%22b%22');
    expect(r.report.last('am-status-code')).toBe('200');
    expect(body(r, 'am-status')).toBe('{"cluster":{}}');
    expect(body(r, 'am-alerts')).toBe('[{"labels":{"a":"b"}}]');
  });

  it('says why Alertmanager did not answer, and asks nothing more', () => {
    const r = run(bin('curl', ['FAIL Failed to connect to 127.0.0.1 port 9']), GATE_PREFLIGHT);
    expect(r.report.last('am-status-code')).toBe('000');
    expect(body(r, 'am-status')).toBe('curl: (7) Failed to connect to 127.0.0.1 port 9');
    expect(r.report.has('am-alerts-code')).toBe(false);
  });

  it('works with wget when the host has no curl', () => {
    const r = run(bin('wget', ['200 {"cluster":{}}', '200 []']), GATE_PREFLIGHT);
    expect(r.report.last('am-alerts-code')).toBe('200');
    expect(body(r, 'am-alerts')).toBe('[]');
    expect(run(bin('wget', ['500 oops']), GATE_PREFLIGHT).report.last('am-status-code')).toBe('000');
  });
});

describe('BAKE', () => {
  it('watches for bake-seconds, about a poll a second, and passes when every answer is an empty list', () => {
    const r = run(bin('curl', ['200 [ ]']), BAKE, 2);
    expect(r.status, r.stderr).toBe(0);
    const [ms, polls] = r.report.last('gate-watched')!.split(' ').map(Number);
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(r.stdout).not.toContain('FAIL');
  });

  it('fails (and so rolls back) on the first answer that is not an empty list, sending it back', () => {
    const alerts = '[{"labels":{"alertname":"Down"}}]';
    const r = run(bin('curl', ['200 []', `200 ${alerts}`, '200 []']), BAKE, 30);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL an alert matching alert-filter fired \d+ s into the bake$/m);
    expect(body(r, 'gate-alerts')).toBe(alerts);
    expect(r.report.last('gate-watched')).toMatch(/^\d+ 2$/);
  });

  it('tolerates two missed polls, and fails on the third in a row', () => {
    const ok = run(bin('curl', ['FAIL refused', 'FAIL refused', '200 []']), BAKE, 0);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.report.last('gate-watched')).toMatch(/^\d+ 3$/);
    const lost = run(bin('curl', ['200 []', '503 down', 'FAIL refused', 'FAIL refused']), BAKE, 30);
    expect(lost.status).toBe(1);
    expect(lost.report.last('gate-lost')).toBe('000');
    expect(lost.stdout).toMatch(
      /^FAIL Alertmanager \(alertmanager-url\) did not answer 3 polls in a row \d+ s into the bake: 000 curl: \(7\) refused$/m,
    );
  }, 20_000);

  it('does nothing without alertmanager-url', () => {
    const dir = bin('curl', ['200 [{}]']);
    const r = spawnSync(join(dir, 'bash'), ['-c', `${HOST_PRELUDE}AM_URL=''\n${AM_FUNCTIONS}${BAKE}`], {
      encoding: 'utf8',
      env: { PATH: dir },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });
});

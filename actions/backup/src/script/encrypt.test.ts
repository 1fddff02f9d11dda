// The host-side store (script/encrypt.ts) run with the local bash, and its report read back
// (host-encrypt.ts). A stand-in `age` on PATH shows what the script gives the real one.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostReport, renderHostScript, type HostValues } from '../../../../lib/ssh/host-script.js';
import { readStored } from '../host-encrypt.js';
import { AGE_CHECK, storeOnHost } from './encrypt.js';

/** A PATH whose `age` is a stand-in: `AGE:<args>\n` then its input upper-cased; `--version` says v9. */
function fakeAgePath(behaviour = ''): string {
  const bin = mkdtempSync(join(tmpdir(), 'berth-fake-age-'));
  writeFileSync(
    join(bin, 'age'),
    `#!/bin/bash\n${behaviour}\n[ "$1" = --version ] && { echo v9.9.9; exit 0; }\nprintf 'AGE:%s\\n' "$*"\nexec tr a-z A-Z\n`,
    { mode: 0o755 },
  );
  return `${bin}:${process.env.PATH}`;
}

/** PATH without any age: only the tools the scripts use. */
function noAgePath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'berth-no-age-'));
  for (const tool of ['cat', 'tee', 'mkdir', 'mktemp', 'rm', 'mv', 'stat', 'head', 'sha256sum', 'tr'])
    execFileSync('ln', [
      '-s',
      execFileSync('bash', ['-c', `command -v ${tool}`])
        .toString()
        .trim(),
      join(bin, tool),
    ]);
  return bin;
}

const BASH = execFileSync('bash', ['-c', 'command -v bash']).toString().trim();

/** Runs a host script body with the local bash and `path` as its PATH (sha256sum stands in for openssl without it). */
function run(script: string, values: HostValues, path: string) {
  const r = spawnSync(BASH, ['-c', renderHostScript(script, values)], { env: { PATH: path } });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const RECIPIENTS = ['age1aaa', "age1'b $(x)"];

describe('AGE_CHECK', () => {
  it('reports the version of an age that takes the recipients', () => {
    const r = run(AGE_CHECK, { RECIPIENTS }, fakeAgePath());
    expect(HostReport.parse(r.stdout).last('age')).toBe('v9.9.9');
  });

  it('says why when there is no age, or it refuses the recipients', () => {
    expect(HostReport.parse(run(AGE_CHECK, { RECIPIENTS }, noAgePath()).stdout).last('no-age')).toBe(
      'it has no age command',
    );
    const refusing = fakeAgePath('[ "$1" = -r ] && exit 1');
    expect(HostReport.parse(run(AGE_CHECK, { RECIPIENTS }, refusing).stdout).last('no-age')).toBe(
      'its age v9.9.9 does not take these recipients',
    );
  });
});

describe('storeOnHost', () => {
  const producer = 'printf "hello\\nworld\\n"\n';

  it('encrypts to every recipient, writes every directory through .part, reports size and sha256', () => {
    const root = mkdtempSync(join(tmpdir(), 'berth store $(x) '));
    const dirs = [join(root, 'a', 'id'), join(root, 'b', 'id')];
    const r = run(
      storeOnHost(producer),
      { DIRS: dirs, NAME: 'f.age', RECIPIENTS, TO_RUNNER: false },
      fakeAgePath(),
    );
    expect(r.status, r.stderr).toBe(0);
    const expected = `AGE:-r age1aaa -r age1'b $(x)\nHELLO\nWORLD\n`;
    for (const d of dirs) {
      expect(readFileSync(join(d, 'f.age'), 'utf8')).toBe(expected);
      expect(readdirSync(d)).toEqual(['f.age']);
    }
    expect(readStored(HostReport.parse(r.stdout), 'f.age')).toEqual({
      bytes: Buffer.byteLength(expected),
      sha256: sha256(expected),
    });
  });

  it('with TO_RUNNER, the same bytes on stdout and the report on stderr; without recipients, as produced', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-store-')), 'id');
    const r = run(
      storeOnHost(producer),
      { DIRS: [dir], NAME: 'f', RECIPIENTS: [], TO_RUNNER: true },
      noAgePath(),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello\nworld\n');
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe(r.stdout);
    expect(readStored(HostReport.parse(r.stderr), 'f').sha256).toBe(sha256(r.stdout));
  });

  it('a producer or an age that fails leaves only the .part, and fails', () => {
    for (const [body, path] of [
      ['printf partial\nexit 3\n', fakeAgePath()],
      [producer, fakeAgePath('[ "$1" = -r ] && { cat >/dev/null; exit 1; }')],
    ] as const) {
      const dir = join(mkdtempSync(join(tmpdir(), 'berth-store-')), 'id');
      const r = run(storeOnHost(body), { DIRS: [dir], NAME: 'f', RECIPIENTS, TO_RUNNER: false }, path);
      expect(r.status).not.toBe(0);
      expect(existsSync(join(dir, 'f'))).toBe(false);
      expect(r.stdout).not.toContain('::berth::sha256');
    }
  });
});

describe('readStored', () => {
  const report = (...lines: string[]) => HostReport.parse(lines.join('\n'));
  const sum = 'ab'.repeat(32);

  it('takes exactly one byte count and one sha256, of the right shape', () => {
    expect(readStored(report('::berth::bytes=12', `::berth::sha256=${sum}`), 'x')).toEqual({
      bytes: 12,
      sha256: sum,
    });
    for (const bad of [
      report(`::berth::sha256=${sum}`),
      report('::berth::bytes=12', `::berth::sha256=${sum}`, `::berth::sha256=${sum}`),
      report('::berth::bytes=12', `::berth::sha256=${sum.toUpperCase()}`),
      report('::berth::bytes=-1', `::berth::sha256=${sum}`),
      report('::berth::bytes=12', `::berth::sha256=${sum}0`),
    ])
      expect(() => readStored(bad, 'host:/b/id/f')).toThrow(
        /the host reported no valid size and sha256 for host:\/b\/id\/f/,
      );
  });
});

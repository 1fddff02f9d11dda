// Key lines as the action checks them (keys.ts) and as host/bootstrap.sh checks them on the host
// (key_line_problem, for manual runs): both must accept and refuse the same lines.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyLineProblem, parseKeyLines } from './keys.js';
import { HOST_SCRIPT } from './testing.js';

const keys: Record<string, string> = {};

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-keys-'));
  const make = (name: string, args: string[]) => {
    execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name} comment`, '-f', join(dir, name), ...args]);
    keys[name] = readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
  };
  make('ed25519', ['-t', 'ed25519']);
  make('ecdsa', ['-t', 'ecdsa', '-b', '384']);
  make('rsa', ['-t', 'rsa', '-b', '3072']);
  make('rsa1024', ['-t', 'rsa', '-b', '1024']);
});

/** What host/bootstrap.sh says of each line: `ok` or its problem. */
function hostVerdicts(lines: string[]): string[] {
  const r = spawnSync(
    'bash',
    [
      '-c',
      `BERTH_BOOTSTRAP_LIB=1 source "$1"; while IFS= read -r l; do p=$(key_line_problem "$l"); echo "\${p:-ok}"; done`,
      'x',
      HOST_SCRIPT,
    ],
    { input: lines.join('\n') + '\n', encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.stdout.trimEnd().split('\n');
}

function cases(): [string, string, RegExp | undefined][] {
  const ed = keys.ed25519!;
  const edBlob = ed.split(' ')[1]!;
  const rsaBlob = keys.rsa!.split(' ')[1]!;
  return [
    ['ed25519 with a comment of two words', ed, undefined],
    ['ecdsa 384', keys.ecdsa!, undefined],
    ['rsa 3072', keys.rsa!, undefined],
    ['no comment', `ssh-ed25519 ${edBlob}`, undefined],
    ['rsa 1024', keys.rsa1024!, /RSA key of 1024 bits/],
    ['a forced command before the key', `command="/bin/sh -c id" ${ed}`, /does not start with a key type/],
    ['from= and no-pty options', `from="10.0.0.1",no-pty ${ed}`, /does not start with a key type/],
    ['another type than its key', `ssh-rsa ${edBlob}`, /is not a ssh-rsa key/],
    ['an ed25519 claim on an rsa key', `ssh-ed25519 ${rsaBlob}`, /is not a ssh-ed25519 key/],
    ['no base64', 'ssh-ed25519 not*base64', /has no base64 key/],
    ['a bell in the comment', `${ed}\u0007`, /control character/],
    ['an unknown type', `ssh-dss ${edBlob}`, /does not start with a key type/],
    ['a cut key', `ssh-ed25519 ${edBlob.slice(0, 40)}`, /key/],
  ];
}

describe('keyLineProblem and host/bootstrap.sh key_line_problem', () => {
  it('accept and refuse the same lines, saying why', () => {
    const table = cases();
    const host = hostVerdicts(table.map(([, line]) => line));
    table.forEach(([what, line, problem], i) => {
      const ours = keyLineProblem(line);
      if (problem) {
        expect(ours, what).toMatch(problem);
        expect(host[i], what).not.toBe('ok');
      } else {
        expect(ours, what).toBeUndefined();
        expect(host[i], what).toBe('ok');
      }
    });
  });
});

describe('parseKeyLines', () => {
  it('skips blank and comment lines, trims, and drops duplicates', () => {
    const text = `\n# the team\n  ${keys.ed25519}  \r\n${keys.rsa}\n${keys.ed25519}\n`;
    expect(parseKeyLines('deploy-public-keys', text)).toEqual([keys.ed25519, keys.rsa]);
  });

  it('names the input and the line of the first bad one', () => {
    expect(() =>
      parseKeyLines('deploy-public-keys', `${keys.ed25519}\n\nenvironment="X=1" ${keys.rsa}`),
    ).toThrow('Input "deploy-public-keys": line 3 does not start with a key type');
  });

  it('refuses a value with no key line', () => {
    expect(() => parseKeyLines('deploy-public-keys', '# nobody\n')).toThrow(/has no key line/);
  });
});

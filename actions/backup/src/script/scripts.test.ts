import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHostScript, type HostValues } from '../../../../lib/ssh/host-script.js';
import { parseListing } from '../manifest.js';
import * as databases from './databases.js';
import * as files from './files.js';
import * as project from './project.js';
import * as shell from './shell.js';
import * as swap from './swap.js';
import * as volumes from './volumes.js';

const remote = { ...shell, ...volumes, ...databases, ...project, ...files, ...swap };

/** Runs a host script body with the local bash, its values as the host would get them. */
const run = (script: string, values: HostValues, input?: string, args: string[] = []): string =>
  execFileSync('bash', ['-c', renderHostScript(script, values), 'berth-script', ...args], {
    input,
    encoding: 'utf8',
  });

describe('remote scripts', () => {
  const scripts = Object.entries(remote).filter(
    ([name, value]) => typeof value === 'string' && !name.endsWith('_SQL'),
  ) as [string, string][];

  it.each(scripts)('%s is valid bash', (_name, script) => {
    execFileSync('bash', ['-n', '-c', script]);
  });

  it('writes through .part, lists only backup ids, deletes only backup ids', () => {
    const dir = mkdtempSync(join(tmpdir(), "berth remote '$(x)' "));
    const id = '20261122T050102Z-3fa1';
    run(
      remote.WRITE_FILE,
      { DIR: `${dir}/${id}`, NAME: 'manifest.json' },
      '{\n  "format": "berth-backup/1"\n}\n',
    );
    mkdirSync(join(dir, '20261121T050102Z-0000'));
    mkdirSync(join(dir, 'not-a-backup'));
    writeFileSync(join(dir, 'NOTES.txt'), 'keep');
    // A symlinked id (to a complete backup) is reported as such, never as a backup to read or remove.
    symlinkSync(join(dir, id), join(dir, '20261120T050102Z-1111'));
    expect(parseListing(run(remote.LIST_BACKUPS, { DIR: dir }))).toEqual({
      complete: [id],
      partial: ['20261121T050102Z-0000'],
      symlinks: ['20261120T050102Z-1111'],
    });
    expect(existsSync(join(dir, id, 'manifest.json.part'))).toBe(false);
    run(remote.REMOVE_BACKUPS, { DIR: dir, IDS: ['20261121T050102Z-0000'] });
    expect(() => run(remote.REMOVE_BACKUPS, { DIR: dir, IDS: ['../etc'] })).toThrow();
    expect(parseListing(run(remote.LIST_BACKUPS, { DIR: dir })).partial).toEqual([]);
    expect(existsSync(join(dir, 'NOTES.txt')) && existsSync(join(dir, 'not-a-backup'))).toBe(true);
  });
});

describe('MySQL/MariaDB credentials inside the container', () => {
  // The in-container script run with a stand-in client that shows what it was given.
  const fakeBin = mkdtempSync(join(tmpdir(), 'berth-fake-mysql-'));
  const tmp = mkdtempSync(join(tmpdir(), 'berth-fake-tmp-'));
  for (const tool of ['mariadb-dump', 'mariadb']) {
    writeFileSync(
      join(fakeBin, tool),
      `#!/bin/sh\nf=\${1#--defaults-extra-file=}\necho "mode $(stat -c %a "$f")"\ncat "$f"\nshift\necho "args $*"\n`,
    );
    chmodSync(join(fakeBin, tool), 0o755);
  }
  const inContainer = remote.MY_IN_CONTAINER;
  const runIn = (env: Record<string, string>, ...args: string[]): string =>
    execFileSync('sh', ['-c', inContainer, 'berth-my', ...args], {
      encoding: 'utf8',
      env: { PATH: `${fakeBin}:/usr/bin:/bin`, TMPDIR: tmp, ...env },
    });

  it('reads the root password file and gives it through a 0600 defaults file, quoted, then deletes it', () => {
    const secret = join(tmp, 'root_password');
    writeFileSync(secret, 'p\'w"\\$(touch /tmp/x) #1 ');
    const out = runIn({ MARIADB_ROOT_PASSWORD_FILE: secret }, 'dump', 'shop', '--single-transaction');
    expect(out).toBe(
      'mode 600\n[client]\nuser="root"\npassword="p\'w\\"\\\\$(touch /tmp/x) #1 "\nargs --single-transaction shop\n',
    );
    expect(readdirSync(tmp)).toEqual(['root_password']);
  });

  it('falls back to MYSQL_ROOT_PASSWORD, then to *_USER with *_PASSWORD', () => {
    expect(runIn({ MYSQL_ROOT_PASSWORD: 'a\nb' }, 'client', 'shop')).toContain('password="a\\nb"');
    const out = runIn({ MARIADB_USER: 'app', MARIADB_PASSWORD: 'pw' }, 'client', 'shop', '-N');
    expect(out).toContain('user="app"\npassword="pw"');
    expect(out).toContain('args -N shop');
  });
});

describe('fromFile', () => {
  it('feeds the script the file on stdin, its parameters left alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-fromfile-'));
    writeFileSync(join(dir, 'dump'), 'data\n');
    expect(
      run(remote.fromFile('cat; echo "$1 $#"'), { STAGED_FILE: join(dir, 'dump') }, undefined, ['x y']),
    ).toBe('data\nx y 1\n');
  });
});

describe('PIPE_CHECK', () => {
  // A stand-in docker that answers as the probe container would, or fails to run it.
  const bin = mkdtempSync(join(tmpdir(), 'berth-fake-docker-'));
  const check = (docker: string): string => {
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\n${docker}\n`);
    chmodSync(join(bin, 'docker'), 0o755);
    return execFileSync(
      'bash',
      ['-c', renderHostScript(remote.PIPE_CHECK, { IMAGE: 'img' }), 'berth-script'],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: bin },
      },
    );
  };

  it('says the FIFO was not seen only when a container ran and did not find it', () => {
    expect(check('echo yes')).toBe('::berth::transport=pipe\n');
    expect(check('echo no')).toBe('::berth::transport=attach\n::berth::fifo=unseen\n');
    expect(check('exit 125')).toBe('::berth::transport=attach\n');
    expect(readdirSync(bin)).toEqual(['docker']);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyProjectFiles, sharedOverride, tarSize } from './stage.js';

let wd: string;
let staged: string;
beforeEach(() => {
  const root = mkdtempSync(join(tmpdir(), 'berth-stage-'));
  wd = join(root, 'wd');
  staged = join(root, 'staged');
  mkdirSync(join(wd, 'conf/sub'), { recursive: true });
  mkdirSync(staged);
  writeFileSync(join(wd, 'conf/sub/a.conf'), 'a', { mode: 0o600 });
  writeFileSync(join(wd, 'conf/run.sh'), '#!/bin/sh', { mode: 0o700 });
  symlinkSync('sub/a.conf', join(wd, 'conf/inside-link'));
});
afterEach(() => rmSync(join(wd, '..'), { recursive: true, force: true }));

describe('copyProjectFiles', () => {
  it('copies directories whole, readable by everyone (x kept), following symlinks that stay inside', () => {
    const out = copyProjectFiles(wd, staged, [{ path: 'conf', origin: 'compose.yml: service web' }]);
    expect(out.errors).toEqual([]);
    expect(out.files.sort()).toEqual(['conf/inside-link', 'conf/run.sh', 'conf/sub/a.conf']);
    expect(statSync(join(staged, 'conf/sub/a.conf')).mode & 0o777).toBe(0o644);
    expect(statSync(join(staged, 'conf/run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(staged, 'conf/sub')).mode & 0o555).toBe(0o555);
    expect(readFileSync(join(staged, 'conf/inside-link'), 'utf8')).toBe('a');
  });

  it('refuses a symlink out of the working directory and a fifo inside a copied directory', () => {
    symlinkSync('/etc', join(wd, 'conf/escape'));
    execFileSync('mkfifo', [join(wd, 'conf/pipe')]);
    const out = copyProjectFiles(wd, staged, [{ path: 'conf', origin: 'compose.yml: service web' }]);
    expect(out.errors.sort()).toEqual([
      'compose.yml: service web: conf/escape is a symlink to /etc, outside working-directory',
      'compose.yml: service web: conf/pipe is a socket, fifo or device',
    ]);
  });
});

describe('tarSize', () => {
  it('is the size of the tar stream the upload sends', () => {
    writeFileSync(join(wd, 'big'), Buffer.alloc(70_000, 1));
    const tar = execFileSync('tar', ['-C', wd, '-cf', '-', '.'], { maxBuffer: 1e8 });
    const size = tarSize(wd);
    expect(size.bytes).toBe(tar.length);
    expect(size.largest[0]).toEqual(['big', 70_000]);
  });
});

describe('sharedOverride', () => {
  it('points each data mount at <remote-dir>/shared/<path>, keeping its other settings', () => {
    const volume = {
      type: 'bind',
      source: '/runner/wd/data',
      target: '/var/lib/app',
      bind: { propagation: 'rprivate' },
    };
    const text = sharedOverride(
      [
        {
          service: 'api',
          path: 'data',
          mount: { service: 'api', source: '/runner/wd/data', written: './data', readOnly: false, volume },
        },
      ],
      '/opt/shop',
    );
    expect(parse(text)).toEqual({
      services: { api: { volumes: [{ ...volume, source: '/opt/shop/shared/data' }] } },
    });
  });
});

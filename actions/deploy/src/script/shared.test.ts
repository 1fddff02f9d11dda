// The data-directory snippet, run by bash in a scratch remote-dir (no docker needed).
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderHostScript } from '../../../../lib/ssh/host-script.js';
import { SHARED } from './shared.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-shared-'));
  mkdirSync(join(dir, 'releases/new/seeded'), { recursive: true });
  writeFileSync(join(dir, 'releases/new/seeded/first.txt'), 'from the repository');
  mkdirSync(join(dir, 'releases/old/moved'), { recursive: true });
  writeFileSync(join(dir, 'releases/old/moved/db'), 'written before');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(dataDirs: string[], previous = 'old'): string {
  const script = renderHostScript(
    `cd "$REMOTE_DIR"\nprevious=${previous}\nrel="$REMOTE_DIR/releases/new"\nfail() { echo "FAIL $1"; exit 1; }\n${SHARED}`,
    { REMOTE_DIR: dir, DATA_DIRS: dataDirs },
  );
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' });
}

describe('SHARED', () => {
  it('creates each data directory once: empty, seeded from the release, or carried over from the previous one', () => {
    const out = run(['plain/nested', 'seeded', 'moved']);
    expect(statSync(join(dir, 'shared/plain/nested')).isDirectory()).toBe(true);
    expect(readFileSync(join(dir, 'shared/seeded/first.txt'), 'utf8')).toBe('from the repository');
    expect(readFileSync(join(dir, 'shared/moved/db'), 'utf8')).toBe('written before');
    expect(out).toBe('::berth::data-moved=moved\n');
    // The old release still finds its data (a rollback to it), through a symlink.
    expect(readlinkSync(join(dir, 'releases/old/moved'))).toBe(join(dir, 'shared/moved'));
  });

  it('never touches an existing data directory again', () => {
    run(['seeded']);
    writeFileSync(join(dir, 'shared/seeded/first.txt'), 'changed by a container');
    const before = lstatSync(join(dir, 'shared/seeded'));
    expect(run(['seeded', 'moved'], 'old')).toBe('::berth::data-moved=moved\n');
    expect(run(['seeded', 'moved'], 'old')).toBe('');
    expect(readFileSync(join(dir, 'shared/seeded/first.txt'), 'utf8')).toBe('changed by a container');
    expect(lstatSync(join(dir, 'shared/seeded')).ctimeMs).toBe(before.ctimeMs);
  });
});

// The content-addressed files snippet, run by bash in a scratch remote-dir (read_mounts, which asks
// docker, is exercised by test/deploy-project.test.ts against the lab's engine).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderHostScript } from '../../../../lib/ssh/host-script.js';
import { FILES } from './files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-files-'));
  mkdirSync(join(dir, 'releases/new/.berth'), { recursive: true });
  mkdirSync(join(dir, 'releases/new/nginx/conf.d'), { recursive: true });
  writeFileSync(join(dir, 'releases/new/nginx/conf.d/a.conf'), 'new a');
  writeFileSync(join(dir, 'releases/new/site.conf'), 'site');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(ids: string[], paths: string[], after = ''): string {
  try {
    return runScript(ids, paths, after);
  } catch (err) {
    return String((err as { stdout?: string }).stdout);
  }
}

function runScript(ids: string[], paths: string[], after: string): string {
  const script = renderHostScript(
    `cd "$REMOTE_DIR"\nrel="$REMOTE_DIR/releases/new"\nfail() { echo "FAIL $1"; exit 1; }\n${FILES}\n${after}`,
    { REMOTE_DIR: dir, FILE_IDS: ids, FILE_PATHS: paths, MODE: 'compose', PROJECT: 'p' },
  );
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' });
}

describe('FILES', () => {
  it('stores each entry at files/<id>/<name> once, never changing one that exists; lists the ids in the release', () => {
    run(['c1', 's1'], ['nginx/conf.d', 'site.conf']);
    expect(readFileSync(join(dir, 'files/c1/conf.d/a.conf'), 'utf8')).toBe('new a');
    expect(readFileSync(join(dir, 'files/s1/site.conf'), 'utf8')).toBe('site');
    expect(readFileSync(join(dir, 'releases/new/.berth/file-ids'), 'utf8')).toBe('c1\ns1\n');
    writeFileSync(join(dir, 'releases/new/site.conf'), 'other content, same id (cannot happen)');
    run(['s1'], ['site.conf']);
    expect(readFileSync(join(dir, 'files/s1/site.conf'), 'utf8')).toBe('site');
    expect(readdirSync(join(dir, 'files')).sort()).toEqual(['c1', 's1']);
  });

  it('fails naming the file, leaving no entry behind, when the copy fails; a run with none writes no list', () => {
    expect(run(['m1'], ['missing.conf'])).toContain('FAIL cannot store missing.conf in');
    expect(readdirSync(join(dir, 'files'))).toEqual([]);
    run([], []);
    expect(existsSync(join(dir, 'releases/new/.berth/file-ids'))).toBe(false);
  });

  it('removes the entries no kept release names and no container mounts', () => {
    run(['c1', 's1'], ['nginx/conf.d', 'site.conf']);
    mkdirSync(join(dir, 'files/gone'));
    mkdirSync(join(dir, 'files/mounted'));
    const out = run([], [], 'mounted_file[mounted]=1\nremove_unused_files');
    expect(out).toBe('::berth::removed-files=gone\n');
    expect(readdirSync(join(dir, 'files')).sort()).toEqual(['c1', 'mounted', 's1']);
  });
});

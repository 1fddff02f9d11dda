// The dist check is what keeps committed bundles honest: prove it fails on drift, on a clone.
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const clone = join(mkdtempSync(join(tmpdir(), 'berth-dist-')), 'repo');

async function checkDist(): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec('bash', ['scripts/check-dist.sh'], { cwd: clone });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}

describe('check:dist', () => {
  afterAll(() => rmSync(join(clone, '..'), { recursive: true, force: true }));

  it('passes on the committed tree and fails on a source change not rebuilt or a new generated file', async () => {
    await exec('git', ['clone', '--quiet', repoRoot, clone]);
    // Its own node_modules, as after `npm ci` (hard links: fast). A symlink would not do: bundle
    // module ids derive from resolved paths, which must lie inside the clone.
    await exec('cp', ['-al', join(repoRoot, 'node_modules'), join(clone, 'node_modules')]);
    const clean = await checkDist();
    expect(clean.code, clean.output).toBe(0);

    // A source edit whose bundle was not rebuilt, and a file the build makes that was never committed.
    appendFileSync(join(clone, 'actions/scan/src/index.ts'), "\nconsole.log('drift');\n");
    const git = ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid'];
    await exec('git', [...git, 'rm', '--quiet', '--cached', 'actions/deploy/dist/licenses.txt'], {
      cwd: clone,
    });
    await exec('git', [...git, 'commit', '--quiet', '-am', 'drift'], { cwd: clone });
    const drift = await checkDist();
    expect(drift.code).toBe(1);
    expect(drift.output).toContain('actions/scan/dist/index.js');
    expect(drift.output).toContain('actions/deploy/dist/licenses.txt');
    expect(drift.output).toMatch(/npm run build/);
  });
});

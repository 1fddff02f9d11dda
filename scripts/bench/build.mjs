// Build rows: cold vs warm build of the example api, and the action's wall time over a bare
// `docker buildx build` with the same arguments and cache (median of 5). Every run starts with an
// empty engine build cache, as on a fresh runner whose layer cache comes from the cache backend.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildxArgs } from '../../actions/build/src/buildx.ts';
import { runAction } from '../lab/harness.ts';
import { readLab, repoRoot } from '../lab/lab.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const image = `${lab.registry}/berth-bench/api`;
const cacheDir = join(mkdtempSync(join(tmpdir(), 'berth-bench-cache-')), 'api');
const context = join(repoRoot, 'example/api');

const prune = () => execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' });

async function actionRun() {
  const start = process.hrtime.bigint();
  const r = await runAction('build', {
    inputs: {
      context,
      image,
      tags: 'bench',
      'build-args': `BASE_IMAGE=${lab.baseImage}`,
      cache: 'local',
      'cache-dir': cacheDir,
      load: true,
    },
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.exitCode !== 0) throw new Error(`bench: build action failed: ${r.errors.join('; ')}`);
  return { ms, ratio: Number(r.outputs['cache-hit-ratio']) };
}

function bareRun() {
  // The command line the action runs (its own buildxArgs), with the same rotation of the cache.
  const args = buildxArgs(
    {
      context,
      file: join(context, 'Dockerfile'),
      'build-args': [`BASE_IMAGE=${lab.baseImage}`],
      platforms: [],
      target: undefined,
      secrets: {},
      image,
      tags: ['bench'],
      labels: [],
      push: 'false',
      load: true,
      cache: 'local',
      'cache-ref': '',
      'cache-dir': cacheDir,
      'cache-mode': 'max',
      'cache-scope': '',
      'require-non-root': 'error',
      'driver-opts': [],
      provenance: 'false',
      sbom: false,
      keyless: false,
      'transparency-log': true,
      'cosign-version': '',
      'cosign-download-url': '',
    },
    {
      builder: 'default',
      refs: [`${image}:bench`],
      labels: {},
      metadataFile: join(tmpdir(), 'berth-bench-metadata.json'),
      secretFiles: {},
      cache: {
        backend: 'local',
        mode: 'max',
        scope: '',
        ref: '',
        dir: cacheDir,
        dirExists: true,
        inlineFrom: '',
      },
    },
  );
  const start = process.hrtime.bigint();
  execFileSync('docker', args, { stdio: 'ignore' });
  rmSync(cacheDir, { recursive: true, force: true });
  execFileSync('mv', [`${cacheDir}-new`, cacheDir]);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function rows() {
  prune();
  rmSync(cacheDir, { recursive: true, force: true });
  const cold = await actionRun();
  prune();
  const warm = await actionRun();
  const action = [];
  const bare = [];
  for (let i = 0; i < 5; i++) {
    prune();
    bare.push(bareRun());
    prune();
    action.push((await actionRun()).ms);
  }
  const ratio = median(action) / median(bare);
  return [
    { area: 'build', metric: 'example api cold build (s)', value: (cold.ms / 1000).toFixed(1) },
    {
      area: 'build',
      metric: 'example api warm build from local cache (s)',
      value: (warm.ms / 1000).toFixed(1),
    },
    { area: 'build', metric: 'warm / cold wall time', value: (warm.ms / cold.ms).toFixed(2) },
    {
      area: 'build',
      metric: 'warm cache-hit-ratio',
      value: warm.ratio.toFixed(2),
      target: '>= 0.9',
      ok: warm.ratio >= 0.9,
    },
    {
      area: 'build',
      metric: `action / bare buildx, warm (median of 5: ${(median(action) / 1000).toFixed(2)} s / ${(median(bare) / 1000).toFixed(2)} s)`,
      value: ratio.toFixed(3),
      target: '<= 1.10',
      ok: ratio <= 1.1,
    },
  ];
}

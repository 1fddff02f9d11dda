// Scan rows: the action's wall time over a bare `trivy image` of the same image with a warm DB (the
// median of 7 back-to-back pairs), for the example api (191 MB) and db (PostgreSQL, 630 MB) images,
// in the two places a warm DB can be:
// - in the cache dir (a self-hosted runner that keeps it): the action and the bare run both start
//   with the same fresh DB in place, so the ratio is the action's own cost;
// - in the GitHub cache (a hosted runner): the action restores it from the loopback cache service
//   first, which the bare run (DB already in place) does not have to do.
// Also the fixed cost in ms, and what warm runs download. Both start with no layer analyses, Trivy
// from the tool cache, the image read from the registry by digest; the bare run runs the command line
// the action builds (its own trivyScanArgs).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trivyEnv, trivyScanArgs } from '../../actions/scan/src/command.ts';
import { DEFAULT_SCANNERS } from '../../actions/scan/src/constants.ts';
import { startCacheServer } from '../lab/cache-server.ts';
import { runAction } from '../lab/harness.ts';
import { buildPush, labDir, readLab, repoRoot } from '../lab/lab.ts';
import { median } from './_measure.mjs';

const RUNS = 7;
const lab = readLab();
const work = mkdtempSync(join(tmpdir(), 'berth-bench-scan-'));
const toolCache = join(work, 'tool-cache');
const actionCacheDir = join(work, 'action-cache');
const bareCacheDir = join(work, 'bare-cache');
const dockerConfig = join(work, 'docker-config');
const releasesLog = join(labDir, 'releases.log');
const registryLog = join(labDir, 'registry.log');
const dbPath = `/v2/${lab.trivyDbRepository.replace(/^[^/]+\//, '').replace(/:[^:/]+$/, '')}/`;
const tags = ['api', 'db'].map((name) => `${lab.registry}/berth-bench/scan-${name}:t`);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const size = (file) => (existsSync(file) ? statSync(file).size : 0);
const since = (file, offset) => readFileSync(file).subarray(offset).toString('utf8').split('\n');
const seconds = (values) => `${(median(values) / 1000).toFixed(2)} s`;

/** Release downloads of Trivy and requests for the DB during `fn`. */
async function downloadsDuring(fn) {
  const releases = size(releasesLog);
  const registry = size(registryLog);
  const result = await fn();
  await new Promise((resolve) => setTimeout(resolve, 200)); // both servers log after they answer
  const prefix = new URL(lab.trivyDownloadUrl).pathname;
  const count =
    since(releasesLog, releases).filter((line) => line.includes(`GET ${prefix}/`)).length +
    since(registryLog, registry).filter((line) => line.includes(dbPath)).length;
  return { result, count };
}

export async function rows() {
  mkdirSync(toolCache);
  mkdirSync(dockerConfig);
  const [api, db] = await Promise.all([
    buildPush(lab, join(repoRoot, 'example/api'), tags[0]),
    buildPush(lab, join(repoRoot, 'example/db'), tags[1]),
  ]);
  const cache = await startCacheServer();
  try {
    const action = async (image, where = 'github-cache') => {
      rmSync(actionCacheDir, { recursive: true, force: true });
      if (where === 'cache-dir') cpSync(lab.trivyDbDir, join(actionCacheDir, 'db'), { recursive: true });
      const start = process.hrtime.bigint();
      const r = await runAction('scan', {
        toolCache,
        env: { ...cache.env, DOCKER_CONFIG: dockerConfig },
        inputs: {
          image,
          'fail-on': 'none',
          'trivy-download-url': lab.trivyDownloadUrl,
          'db-repository': lab.trivyDbRepository,
          'registry-username': lab.registryUser,
          'registry-password': lab.registryPassword,
          'cache-dir': actionCacheDir,
        },
      });
      const elapsed = ms(start);
      if (r.exitCode !== 0) throw new Error(`bench: scan action failed: ${r.errors.join('; ')}`);
      return elapsed;
    };
    // Warm-up: installs Trivy into the tool cache and saves today's DB to the GitHub cache.
    await action(api);
    const trivy = join(toolCache, 'trivy', lab.trivyVersion, process.arch, 'trivy');
    const bareEnv = {
      ...process.env,
      DOCKER_CONFIG: dockerConfig,
      ...trivyEnv(process.env, { username: lab.registryUser, password: lab.registryPassword }),
    };
    const bare = (image) => {
      const args = trivyScanArgs({
        target: { kind: 'image', ref: image, source: 'remote' },
        scanners: DEFAULT_SCANNERS.image,
        cacheDir: bareCacheDir,
        output: join(work, 'bare.json'),
        timeoutMs: 600_000,
        dbRepositories: [lab.trivyDbRepository],
        skipDbUpdate: true,
        javaDb: false,
        skipCheckUpdate: true,
      });
      rmSync(bareCacheDir, { recursive: true, force: true });
      cpSync(lab.trivyDbDir, join(bareCacheDir, 'db'), { recursive: true });
      const start = process.hrtime.bigint();
      execFileSync(trivy, args, { env: bareEnv, stdio: 'ignore', cwd: work });
      return ms(start);
    };

    // Pairs run back to back and the median of their ratios: other load on the machine drifts, and
    // a pair sees about the same.
    let downloads = 0;
    const compare = async (image, where) => {
      const actionTimes = [];
      const bareTimes = [];
      const ratios = [];
      for (let i = 0; i < RUNS; i++) {
        bareTimes.push(bare(image));
        const { result, count } = await downloadsDuring(() => action(image, where));
        actionTimes.push(result);
        downloads += count;
        ratios.push(result / bareTimes.at(-1));
      }
      return { actionTimes, bareTimes, ratio: median(ratios) };
    };
    const places = {
      'cache-dir': 'warm DB in the cache dir (self-hosted)',
      'github-cache': 'warm DB restored from the GitHub cache (hosted)',
    };
    const results = [];
    for (const where of Object.keys(places)) {
      results.push({ where, what: 'example api (191 MB)', r: await compare(api, where) });
      results.push({ where, what: 'example db (PostgreSQL, 630 MB)', r: await compare(db, where) });
    }
    const overhead = (r) => median(r.actionTimes) - median(r.bareTimes);
    return [
      ...results.map(({ where, what, r }) => ({
        area: 'scan',
        metric: `action / bare \`trivy image\` with the DB in place, ${places[where]}, ${what} by digest (median of ${RUNS} pairs; medians ${seconds(r.actionTimes)} / ${seconds(r.bareTimes)})`,
        value: r.ratio.toFixed(2),
        target: '<= 1.10',
        ok: r.ratio <= 1.1,
      })),
      ...Object.keys(places).map((where) => ({
        area: 'scan',
        metric: `the action's fixed cost, ${places[where]}: median action - median bare (ms; api, db)`,
        value: results
          .filter((x) => x.where === where)
          .map((x) => overhead(x.r).toFixed(0))
          .join(', '),
      })),
      {
        area: 'scan',
        metric: `downloads on a warm tool cache and DB cache (Trivy release + DB registry requests, ${4 * RUNS} runs)`,
        value: String(downloads),
        target: '0',
        ok: downloads === 0,
      },
    ];
  } finally {
    await cache.close();
    execFileSync('docker', ['image', 'rm', ...tags], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

// Zero-downtime rows: a routine api release of the example under steady load (the lab load client,
// about 30 sequential HTTPS requests a second through nginx), side by side in one run: failed
// requests and the longest gap with `zero-downtime: api` and with plain `up`; and the deploy's wall
// time with zero-downtime over the floor (the same release by hand: compose pull, up -d --wait).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../lab/harness.ts';
import { buildPush as buildPushTo, readLab, repoRoot, sshInputs } from '../lab/lab.ts';
import { startLoad } from '../lab/load.ts';
import { freePort } from '../lab/net.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-zd';
const remoteDir = '/home/deploy/berth-bench-zd';
const DRAIN = 2;
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

export async function rows() {
  const repo = (n) => `${lab.registry}/berth-bench-zd/${n}`;
  const buildPush = (context, ref, args = []) => buildPushTo(lab, context, ref, args);
  const [apiA, apiB, nginx, db] = await Promise.all([
    buildPush(join(repoRoot, 'example/api'), repo('api:a'), ['--build-arg', 'VERSION=a']),
    buildPush(join(repoRoot, 'example/api'), repo('api:b'), ['--build-arg', 'VERSION=b']),
    buildPush(join(repoRoot, 'example/nginx'), repo('nginx:t')),
    buildPush(join(repoRoot, 'example/db'), repo('db:t')),
  ]);
  const api = [apiA, apiB];
  const workdir = mkdtempSync(join(tmpdir(), 'berth-bench-zd-'));
  cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const secrets = {
    db_password: 'bench-password',
    tls_cert: readFileSync(lab.tlsCert, 'utf8').trim(),
    tls_key: readFileSync(lab.tlsKey, 'utf8').trim(),
  };

  const deploy = async (i, zeroDowntime) => {
    const start = process.hrtime.bigint();
    const r = await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...sshInputs(lab),
        project,
        'remote-dir': remoteDir,
        env: `HTTPS_PORT=${httpsPort}\nHTTP_PORT=${httpPort}\nBIND_ADDRESS=127.0.0.1`,
        secrets: Object.entries(secrets)
          .map(([k, v]) => `${k}<<EOF\n${v}\nEOF`)
          .join('\n'),
        images: `api=${api[i % 2]}\nnginx=${nginx}\ndb=${db}`,
        registry: lab.registry,
        'registry-username': lab.registryUser,
        'registry-password': lab.registryPassword,
        ...(zeroDowntime ? { 'zero-downtime': 'api', proxy: 'nginx', 'drain-seconds': String(DRAIN) } : {}),
      },
    });
    if (r.exitCode !== 0) throw new Error(`bench: deploy failed: ${r.errors.join('; ')}`);
    return ms(start);
  };

  const underLoad = async (i, zeroDowntime) => {
    const load = startLoad({ caFile: lab.caFile, port: httpsPort, path: '/healthz', maxSeconds: 300 });
    await new Promise((r) => setTimeout(r, 1000));
    const took = await deploy(i, zeroDowntime);
    await new Promise((r) => setTimeout(r, 1000));
    return { took, load: await load.stop() };
  };

  // The floor: the current release's files on the host, compose run by hand, the other api.
  const floorDir = mkdtempSync(join(tmpdir(), 'berth-bench-zd-floor-'));
  const floor = (i) => {
    execFileSync('bash', [
      '-c',
      `rm -rf ${floorDir}/r && cp -a "$(readlink -f ${remoteDir}/current)" ${floorDir}/r`,
    ]);
    writeFileSync(
      join(floorDir, 'r/docker-compose.berth-images.yml'),
      `services:\n  api:\n    image: "${api[i % 2]}"\n  nginx:\n    image: "${nginx}"\n  db:\n    image: "${db}"\n`,
    );
    const files = readFileSync(join(floorDir, 'r/.berth/compose-files'), 'utf8')
      .split('\n')
      .filter((f) => f && f !== '.berth/pins.yml')
      .flatMap((f) => ['-f', join(floorDir, 'r', f)]);
    const base = ['compose', '-p', project, '--project-directory', join(floorDir, 'r'), ...files];
    const start = process.hrtime.bigint();
    execFileSync('docker', [...base, 'pull', '--quiet', '--ignore-buildable'], { stdio: 'ignore' });
    execFileSync(
      'docker',
      [...base, 'up', '-d', '--wait', '--wait-timeout', '180', '--remove-orphans', '--no-build'],
      {
        stdio: 'ignore',
      },
    );
    return ms(start);
  };

  let release = 0;
  await deploy(release++, true); // the first release: volumes, database initialisation
  const zd = [];
  const floorTimes = [];
  for (let i = 0; i < 3; i++) {
    floorTimes.push(floor(release++));
    zd.push(await underLoad(release++, true));
  }
  const plain = await underLoad(release++, false);
  execFileSync('bash', [
    '-c',
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${floorDir}`,
  ]);

  const failed = Math.max(...zd.map((z) => z.load.failed));
  const gap = Math.max(...zd.map((z) => z.load.longestGapMs));
  const total = zd.reduce((n, z) => n + z.load.total, 0);
  const wall = median(zd.map((z) => z.took));
  const ratio = wall / median(floorTimes);
  const sec = (x) => (x / 1000).toFixed(1);
  return [
    {
      area: 'deploy',
      metric: `failed requests during a routine api release under load, zero-downtime (worst of 3, ${total} requests) vs plain up (${plain.load.total} requests)`,
      value: `${failed} vs ${plain.load.failed}`,
      target: '0',
      ok: failed === 0,
    },
    {
      area: 'deploy',
      metric: 'longest gap between two answers, zero-downtime vs plain up',
      value: `${sec(gap)} s vs ${sec(plain.load.longestGapMs)} s`,
      target: '< 1 s',
      ok: gap < 1000,
    },
    {
      area: 'deploy',
      metric: `zero-downtime deploy / floor (median of 3: ${sec(wall)} s / ${sec(median(floorTimes))} s; the drain is ${DRAIN} s of it, ${((DRAIN * 1000 * 100) / wall).toFixed(0)}%)`,
      value: ratio.toFixed(2),
      target: '<= 1.5',
      ok: ratio <= 1.5,
    },
  ];
}

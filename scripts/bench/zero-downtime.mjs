// Zero-downtime rows: a routine api release of the example under steady load (the lab load client,
// about 30 sequential HTTPS requests a second through nginx), side by side in one run: failed
// requests and the longest gap with `zero-downtime: api` and with plain `up`; and the deploy's wall
// time with zero-downtime over the floor (the same release by hand: compose pull, up -d --wait).
import { execFileSync } from 'node:child_process';
import { readLab } from '../lab/lab.ts';
import { startLoad } from '../lab/load.ts';
import { freePort } from '../lab/net.ts';
import { benchDeploy, benchWorkdir, exampleBenchImages, floorDir, floorRelease } from './_example.mjs';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-zd';
const remoteDir = '/home/deploy/berth-bench-zd';
const DRAIN = 2;

export async function rows() {
  const images = await exampleBenchImages(lab, 'berth-bench-zd');
  const workdir = benchWorkdir('berth-bench-zd');
  const httpsPort = await freePort();
  const httpPort = await freePort();

  const env = `HTTPS_PORT=${httpsPort}\nHTTP_PORT=${httpPort}\nBIND_ADDRESS=127.0.0.1`;
  const zdInputs = { 'zero-downtime': 'api', proxy: 'nginx', 'drain-seconds': String(DRAIN) };
  const deploy = async (i, zeroDowntime) =>
    (await benchDeploy(lab, { workdir, project, remoteDir, env, images }, i, zeroDowntime ? zdInputs : {}))
      .ms;

  const underLoad = async (i, zeroDowntime) => {
    const load = startLoad({ caFile: lab.caFile, port: httpsPort, path: '/healthz', maxSeconds: 300 });
    await new Promise((r) => setTimeout(r, 1000));
    const took = await deploy(i, zeroDowntime);
    await new Promise((r) => setTimeout(r, 1000));
    return { took, load: await load.stop() };
  };

  const dir = floorDir();
  const floor = (i) => floorRelease({ project, remoteDir, images, dir }, i);

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
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${dir}`,
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

// Deploy rows: the action's wall time for a release of the example app over the floor (the same
// release files, config files included, `docker compose pull` then `up -d --wait` run directly on
// the host), SSH connections per deploy and the bytes each deploy uploads. Releases alternate between two api builds, so each one recreates the api.
import { execFileSync } from 'node:child_process';
import { readLab } from '../lab/lab.ts';
import { sshdConnections } from '../lab/net.ts';
import { benchDeploy, benchWorkdir, exampleBenchImages, floorDir, floorRelease } from './_example.mjs';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench';
const remoteDir = '/home/deploy/berth-bench';

const connections = () => sshdConnections(lab.sshLog);

export async function rows() {
  const images = await exampleBenchImages(lab, 'berth-bench');
  const workdir = benchWorkdir('berth-bench-deploy');
  const env = 'HTTPS_PORT=18443\nHTTP_PORT=18080\nBIND_ADDRESS=127.0.0.1';

  const deploy = async (i) => {
    const { ms: took, result } = await benchDeploy(lab, { workdir, project, remoteDir, env, images }, i, {
      environment: 'development',
    });
    uploaded = Number(/^Bundle: (\d+) bytes uploaded$/m.exec(result.log)?.[1] ?? NaN);
    return took;
  };

  const dir = floorDir();
  const floor = (i) => floorRelease({ project, remoteDir, images, dir }, i);

  // Every release, the action's or the floor's, switches the api to the other build.
  let release = 0;
  let uploaded = NaN;
  await deploy(release++); // the first release: volumes, database initialisation
  const actionTimes = [];
  const floorTimes = [];
  let perDeploy = 0;
  for (let i = 0; i < 5; i++) {
    floorTimes.push(floor(release++));
    const before = connections();
    actionTimes.push(await deploy(release++));
    perDeploy = Math.max(perDeploy, connections() - before);
  }
  execFileSync('bash', [
    '-c',
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${dir}`,
  ]);
  const ratio = median(actionTimes) / median(floorTimes);
  return [
    {
      area: 'deploy',
      metric: `action / floor, example app (median of 5: ${(median(actionTimes) / 1000).toFixed(2)} s / ${(median(floorTimes) / 1000).toFixed(2)} s)`,
      value: ratio.toFixed(2),
      target: '<= 1.15',
      ok: ratio <= 1.15,
    },
    {
      area: 'deploy',
      metric: 'SSH connections per deploy',
      value: String(perDeploy),
      target: '1',
      ok: perDeploy === 1,
    },
    {
      area: 'deploy',
      metric: 'bundle upload bytes per deploy (example app: compose files, config files, secrets)',
      value: String(uploaded),
      target: '<= 100000',
      ok: uploaded <= 100_000,
    },
  ];
}

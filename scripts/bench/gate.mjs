// Alert gate rows: what the Alertmanager gate (a real Alertmanager on the lab host's loopback) costs
// beyond the bake-seconds it is asked to watch: on the host (the bake stage's time from the
// summary's stage clock, minus bake-seconds), and for the whole step (a gated deploy's wall time,
// minus an ungated one's, minus bake-seconds: that includes preflight's Alertmanager checks).
// Gated and ungated releases alternate, each switching the api to the other build.
import { execFileSync } from 'node:child_process';
import { startAlertmanager } from '../lab/alertmanager.ts';
import { readLab } from '../lab/lab.ts';
import { freePort } from '../lab/net.ts';
import { benchDeploy, benchWorkdir, exampleBenchImages } from './_example.mjs';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-gate';
const remoteDir = '/home/deploy/berth-bench-gate';
const BAKE = 5;
const RUNS = 5;

export async function rows() {
  const [images, am] = await Promise.all([exampleBenchImages(lab, 'berth-bench-gate'), startAlertmanager()]);
  const workdir = benchWorkdir('berth-bench-gate');
  const env = `HTTPS_PORT=${await freePort()}\nHTTP_PORT=${await freePort()}\nBIND_ADDRESS=127.0.0.1`;
  const gate = { 'alertmanager-url': am.url, 'bake-seconds': String(BAKE) };
  const deploy = (i, extra) => benchDeploy(lab, { workdir, project, remoteDir, env, images }, i, extra);

  let release = 0;
  await deploy(release++, {}); // the first release: volumes, database initialisation
  const gated = [];
  const plain = [];
  const bakeStage = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      plain.push((await deploy(release++, {})).ms);
      const { ms, result } = await deploy(release++, gate);
      gated.push(ms);
      const bake = /Time on the host \|.*\bbake (\d+\.\d) s/.exec(result.summary)?.[1];
      bakeStage.push(Number(bake ?? NaN));
    }
  } finally {
    await am.stop();
    execFileSync('bash', [
      '-c',
      `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
    ]);
  }
  const onHost = median(bakeStage) - BAKE;
  const step = (median(gated) - median(plain)) / 1000 - BAKE;
  return [
    {
      area: 'deploy',
      metric: `alert gate: bake stage beyond bake-seconds (median of ${RUNS}, bake ${BAKE} s, ~1 poll/s)`,
      value: `${onHost.toFixed(2)} s`,
      target: '< 1 s',
      ok: onHost < 1,
    },
    {
      area: 'deploy',
      metric: `alert gate: step wall time gated - ungated - bake-seconds (medians of ${RUNS}: ${(median(gated) / 1000).toFixed(2)} s / ${(median(plain) / 1000).toFixed(2)} s)`,
      value: `${step.toFixed(2)} s`,
      target: '< 1 s',
      ok: step < 1,
    },
  ];
}

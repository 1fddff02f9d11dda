// Deploy rows: the action's wall time for a release of the example app over the floor (the same
// release files, config files included, `docker compose pull` then `up -d --wait` run directly on
// the host), SSH connections per deploy and the bytes each deploy uploads. Releases alternate between two api builds, so each one recreates the api.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../lab/harness.ts';
import { buildPush as buildPushTo, readLab, repoRoot, sshInputs } from '../lab/lab.ts';
import { sshdConnections } from '../lab/net.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench';
const remoteDir = '/home/deploy/berth-bench';

const connections = () => sshdConnections(lab.sshLog);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

export async function rows() {
  const repo = (n) => `${lab.registry}/berth-bench/${n}`;
  const buildPush = (context, ref, args = []) => buildPushTo(lab, context, ref, args);
  const [apiA, apiB, nginx, db] = await Promise.all([
    buildPush(join(repoRoot, 'example/api'), repo('api:a'), ['--build-arg', 'VERSION=a']),
    buildPush(join(repoRoot, 'example/api'), repo('api:b'), ['--build-arg', 'VERSION=b']),
    buildPush(join(repoRoot, 'example/nginx'), repo('nginx:t')),
    buildPush(join(repoRoot, 'example/db'), repo('db:t')),
  ]);
  const api = [apiA, apiB];
  const workdir = mkdtempSync(join(tmpdir(), 'berth-bench-deploy-'));
  cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
  const secrets = {
    db_password: 'bench-password',
    tls_cert: readFileSync(lab.tlsCert, 'utf8').trim(),
    tls_key: readFileSync(lab.tlsKey, 'utf8').trim(),
  };
  const env = 'HTTPS_PORT=18443\nHTTP_PORT=18080\nBIND_ADDRESS=127.0.0.1';

  const deploy = async (i) => {
    const start = process.hrtime.bigint();
    const r = await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...sshInputs(lab),
        project,
        environment: 'development',
        'remote-dir': remoteDir,
        env,
        secrets: Object.entries(secrets)
          .map(([k, v]) => `${k}<<EOF\n${v}\nEOF`)
          .join('\n'),
        images: `api=${api[i % 2]}\nnginx=${nginx}\ndb=${db}`,
        registry: lab.registry,
        'registry-username': lab.registryUser,
        'registry-password': lab.registryPassword,
      },
    });
    if (r.exitCode !== 0) throw new Error(`bench: deploy failed: ${r.errors.join('; ')}`);
    const took = ms(start);
    uploaded = Number(/^Bundle: (\d+) bytes uploaded$/m.exec(r.log)?.[1] ?? NaN);
    return took;
  };

  // The floor: the same files on the host, compose run by hand (as root, no SSH, no lock, no probes).
  const floorDir = mkdtempSync(join(tmpdir(), 'berth-bench-floor-'));
  const floor = (i) => {
    execFileSync('bash', [
      '-c',
      `rm -rf ${floorDir}/r && cp -a "$(readlink -f ${remoteDir}/current)" ${floorDir}/r`,
    ]);
    writeFileSync(
      join(floorDir, 'r/docker-compose.berth-images.yml'),
      `services:\n  api:\n    image: "${api[i % 2]}"\n  nginx:\n    image: "${nginx}"\n  db:\n    image: "${db}"\n`,
    );
    // The release's own compose files (the user's, the project-files override, the images override),
    // without the pins of what ran when it was current: this floor release runs the other api.
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
      { stdio: 'ignore' },
    );
    return ms(start);
  };

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
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${floorDir}`,
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

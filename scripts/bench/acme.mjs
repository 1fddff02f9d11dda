// ACME rows: certificate issuance in the lab, the example (docker-compose.acme.yml) against the lab's
// Pebble (a real ACME server: every HTTP-01 challenge fetched through nginx's port 80, no random
// validation delay). The first deploy, from nothing to a Pebble certificate served and probed; then
// forced renewals (`berth-certbot renew --force` in the certbot container: a new order, its
// validation, the certificate, published for nginx), each followed until nginx serves it (its health
// check notices the new certificate and reloads nginx).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeImages, ACME_LAB_OVERRIDE, servedCertificate, writeAcmeLabOverride } from '../lab/acme.ts';
import { runAction } from '../lab/harness.ts';
import { readLab, sshInputs } from '../lab/lab.ts';
import { freePort } from '../lab/net.ts';
import { pebbleRoot, readPebbleLab } from '../lab/pebble.ts';
import { benchWorkdir } from './_example.mjs';
import { median } from './_measure.mjs';

const lab = readLab();
const pebble = readPebbleLab();
const project = 'berth-bench-acme';
const remoteDir = '/home/deploy/berth-bench-acme';
const domain = `${project}.localhost`;
const RUNS = 5;

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const now = () => Number(process.hrtime.bigint()) / 1e6;

export async function rows() {
  const images = await acmeImages(lab, project);
  const workdir = benchWorkdir(project);
  writeAcmeLabOverride(workdir, pebble);
  writeFileSync(join(workdir, 'pebble-root.pem'), await pebbleRoot(pebble));
  const root = readFileSync(join(workdir, 'pebble-root.pem'), 'utf8');
  const httpsPort = await freePort();

  const issuance = [];
  const toServed = [];
  let firstDeploy;
  try {
    const start = now();
    const r = await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...sshInputs(lab),
        project,
        'remote-dir': remoteDir,
        'compose-files': ['docker-compose.yml', 'docker-compose.acme.yml', ACME_LAB_OVERRIDE].join('\n'),
        env: [
          `DOMAIN=${domain}`,
          `ACME_SERVER=${pebble.url}`,
          `HTTPS_PORT=${httpsPort}`,
          `HTTP_PORT=${pebble.httpPort}`,
          'BIND_ADDRESS=127.0.0.1',
        ].join('\n'),
        secrets: 'db_password=bench-password',
        images: `api=${images.api}\nnginx=${images.nginx}\ndb=${images.db}\ncertbot=${images.certbot}`,
        registry: lab.registry,
        'registry-username': lab.registryUser,
        'registry-password': lab.registryPassword,
        'health-urls': `https://${domain}:${httpsPort}/healthz 200`,
        'ca-file': 'pebble-root.pem',
      },
    });
    firstDeploy = now() - start;
    if (r.exitCode !== 0) throw new Error(`bench: the ACME example's deploy failed: ${r.errors.join('; ')}`);

    const certbot = execFileSync('docker', [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      'label=com.docker.compose.service=certbot',
    ])
      .toString()
      .trim();
    for (let i = 0; i < RUNS; i++) {
      const before = (await servedCertificate(httpsPort, domain, root)).serialNumber;
      const t0 = now();
      execFileSync('docker', ['exec', certbot, 'berth-certbot', 'renew', '--force'], { stdio: 'ignore' });
      const t1 = now();
      issuance.push(t1 - t0);
      while ((await servedCertificate(httpsPort, domain, root)).serialNumber === before) {
        if (now() - t1 > 60_000)
          throw new Error('bench: nginx did not serve the renewed certificate within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      toServed.push(now() - t1);
    }
  } finally {
    execFileSync('bash', [
      '-c',
      `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
    ]);
  }
  return [
    {
      area: 'acme',
      metric: `certificate issuance from the lab's Pebble: \`berth-certbot renew --force\` (order, HTTP-01 through nginx, certificate, published), median of ${RUNS}`,
      value: seconds(median(issuance)),
      target: '',
    },
    {
      area: 'acme',
      metric: `then until nginx serves it (its health check every 5 s reloads it), median of ${RUNS} (max ${seconds(Math.max(...toServed))})`,
      value: seconds(median(toServed)),
      target: '<= 5.5 s',
      ok: median(toServed) <= 5500,
    },
    {
      area: 'acme',
      metric:
        'first deploy of the ACME example: nothing to a Pebble certificate served and probed (the deploy step)',
      value: seconds(firstDeploy),
      target: '',
    },
  ];
}

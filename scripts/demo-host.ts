// The demo's last act (`npm run demo`, scripts/demo.ts): a bare server made ready by Berth and served
// over HTTPS with a certificate from ACME. The lab's bare host (systemd, sshd, root by key, nothing
// else) is bootstrapped by berth/deploy `mode: bootstrap`, bootstrapped again (nothing changes), and
// the example deployed to it as the deploy user with docker-compose.acme.yml: certbot obtains the
// certificate from the lab's Pebble, which validates it over HTTP against the bare host itself.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACME_LAB_OVERRIDE, writeAcmeLabOverride } from './lab/acme.js';
import {
  addBareAccounts,
  bareSshInputs,
  bootstrapBare,
  readBareHost,
  resetBareHost,
} from './lab/bare-host.js';
import { runAction, type ActionResult } from './lab/harness.js';
import { repoRoot, type Lab } from './lab/lab.js';
import { clearARecord, pebbleRoot, readPebbleLab, setARecord } from './lab/pebble.js';

export interface DemoSteps {
  lab: Lab;
  stage: (name: string, fn: () => Promise<string>) => Promise<void>;
  build: (service: string, extra?: Record<string, string>) => Promise<ActionResult>;
  expectOk: (r: ActionResult, what: string) => ActionResult;
  /** service -> repo@digest, of the builds before (api, nginx, db); certbot is added here */
  pins: Record<string, string>;
}

const PROJECT = 'berth-demo-host';
const DOMAIN = 'shop.berth-demo.localhost';

/** The change table's one summary row (`changed | 37 of 42 items ...`), from a bootstrap's summary. */
function changedRow(r: ActionResult): string {
  return /\| changed \| ([^|]+) \|/.exec(r.summary)?.[1]?.trim() ?? 'see the summary';
}

export async function bareHostStages(d: DemoSteps): Promise<void> {
  const bare = readBareHost();
  const pebble = readPebbleLab();

  await d.stage('bootstrap a bare server (mode bootstrap, profile development)', async () => {
    await resetBareHost();
    // As a cloud image comes: `admin` with passwordless sudo (and root), both with the team's key.
    await addBareAccounts(bare);
    // development: no firewall, since the lab's Pebble validates on its port 5002 (Let's Encrypt: 80).
    const r = d.expectOk(
      await bootstrapBare(bare, 'admin', PROJECT, { 'bootstrap-profile': 'development' }),
      'bootstrap',
    );
    return `admin@${bare.host}:${bare.sshPort} -> deploy user with the team's key, Docker, sshd hardened; changed: ${changedRow(r)}`;
  });

  await d.stage('bootstrap it again (idempotent)', async () => {
    const r = d.expectOk(
      await bootstrapBare(bare, 'admin', PROJECT, { 'bootstrap-profile': 'development' }),
      'second bootstrap',
    );
    return changedRow(r);
  });

  await d.stage('build certbot (Debian certbot, for certificates from ACME)', async () => {
    const r = d.expectOk(await d.build('certbot'), 'build certbot');
    d.pins.certbot = r.outputs.ref!;
    return `pushed ${r.outputs.ref}`;
  });

  await d.stage('deploy to it with a certificate from ACME (Pebble), as the deploy user', async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'berth-demo-host-'));
    cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
    // Inside the bare host the lab's Pebble is at the lab engine's gateway, not at host-gateway.
    writeAcmeLabOverride(workdir, pebble, pebble.gateway);
    writeFileSync(join(workdir, 'pebble-root.pem'), await pebbleRoot(pebble));
    const address = execFileSync(
      'docker',
      ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', bare.container],
      { encoding: 'utf8' },
    ).trim();
    await setARecord(pebble, DOMAIN, [address]);
    try {
      const r = d.expectOk(
        await runAction('deploy', {
          workspace: workdir,
          inputs: {
            ...bareSshInputs(bare, 'deploy'),
            project: PROJECT,
            // Not the development override: it binds nginx to 127.0.0.1, where Pebble cannot reach it.
            'compose-files': ['docker-compose.yml', 'docker-compose.acme.yml', ACME_LAB_OVERRIDE].join('\n'),
            env: [
              `DOMAIN=${DOMAIN}`,
              `ACME_SERVER=${pebble.url}`,
              `HTTP_PORT=${pebble.httpPort}`,
              'HTTPS_PORT=443',
              'BIND_ADDRESS=0.0.0.0',
            ].join('\n'),
            secrets: `db_password=demo-host-${Date.now()}`,
            images: ['api', 'nginx', 'db', 'certbot'].map((s) => `${s}=${d.pins[s]}`).join('\n'),
            registry: d.lab.registry,
            'registry-username': d.lab.registryUser,
            'registry-password': d.lab.registryPassword,
            // *.localhost is the host itself for curl: the probe reaches nginx on the host's 443.
            'health-urls': `https://${DOMAIN}/healthz 200`,
            'ca-file': 'pebble-root.pem',
            'pre-deploy': 'api: migrate',
            'wait-timeout': '240',
          },
        }),
        'deploy to the bootstrapped host',
      );
      const cert = /\| Certificate \| ([^|]+) \|/.exec(r.summary)?.[1]?.trim() ?? 'no certificate row';
      return `release ${r.outputs.release} ${r.outputs.status}; ${cert}, issued by Pebble for ${DOMAIN}`;
    } finally {
      await clearARecord(pebble, DOMAIN);
    }
  });
}

// The example with ACME certificates (example/docker-compose.acme.yml) on the lab, for the tests, the
// demo and the bench: its images, the lab's compose override that points certbot at the lab's Pebble
// (scripts/lab/pebble.ts), a forced renewal, and the certificate nginx serves.
import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { shellQuote } from '../../lib/ssh/shell.js';
import { buildPush, labSsh, repoRoot, type Lab } from './lab.js';
import type { PebbleLab } from './pebble.js';

const exec = promisify(execFile);

export interface AcmeImages {
  api: string;
  nginx: string;
  db: string;
  certbot: string;
}

/** Builds and pushes the four images under `<registry>/<namespace>/`; returns repo@digest refs. */
export async function acmeImages(lab: Lab, namespace: string): Promise<AcmeImages> {
  const repo = (name: string) => `${lab.registry}/${namespace}/${name}`;
  const names = ['api', 'nginx', 'db', 'certbot'] as const;
  const refs = await Promise.all(
    names.map((n) =>
      buildPush(
        lab,
        join(repoRoot, 'example', n),
        repo(`${n}:t`),
        n === 'api' ? ['--build-arg', 'VERSION=v1'] : [],
      ),
    ),
  );
  // Every deploy must pull what it runs.
  await exec('docker', ['image', 'rm', '--force', ...names.map((n) => repo(`${n}:t`)), ...refs]);
  return { api: refs[0]!, nginx: refs[1]!, db: refs[2]!, certbot: refs[3]! };
}

/** The lab's compose override, written into the working copy beside docker-compose.acme.yml. */
export const ACME_LAB_OVERRIDE = 'docker-compose.acme-lab.yml';

/**
 * certbot's way to the lab's Pebble: the name `pebble` for `address` (default host-gateway, the lab
 * engine's docker0 address where Pebble listens), and the CA of Pebble's HTTPS certificate (the lab
 * CA, copied into the working copy as lab-ca.pem) as the bundle Python's requests trusts.
 */
export function writeAcmeLabOverride(workdir: string, pebble: PebbleLab, address = 'host-gateway'): void {
  copyFileSync(pebble.caFile, join(workdir, 'lab-ca.pem'));
  writeFileSync(
    join(workdir, ACME_LAB_OVERRIDE),
    [
      "# The lab's Pebble (scripts/lab/pebble.sh): its HTTPS certificate is from the lab's test CA.",
      'services:',
      '  certbot:',
      `    extra_hosts: ['pebble:${address}']`,
      '    environment:',
      '      REQUESTS_CA_BUNDLE: /etc/berth/lab-ca.pem',
      '    volumes:',
      '      - type: bind',
      '        source: ./lab-ca.pem',
      '        target: /etc/berth/lab-ca.pem',
      '        read_only: true',
      '',
    ].join('\n'),
  );
}

/** A service's running container on the lab host (its id), by compose labels. */
export async function containerOf(lab: Lab, project: string, service: string): Promise<string> {
  const { stdout } = await labSsh(
    lab,
    `docker ps -q --filter ${shellQuote(`label=com.docker.compose.project=${project}`)} ` +
      `--filter ${shellQuote(`label=com.docker.compose.service=${service}`)}`,
  );
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length !== 1) throw new Error(`${project}: ${ids.length} running ${service} containers`);
  return ids[0]!;
}

/** `berth-certbot renew --force` in the project's certbot container: a new certificate now; its output. */
export async function forceRenewal(lab: Lab, project: string): Promise<string> {
  const id = await containerOf(lab, project, 'certbot');
  const { stdout, stderr } = await labSsh(lab, `docker exec ${id} berth-certbot renew --force 2>&1`);
  return stdout + stderr;
}

/** The certificate served on 127.0.0.1:`port` for `servername`, verified against `ca` only. */
export function servedCertificate(port: number, servername: string, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, timeout: 10_000 }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake on port ${port} within 10 s`)));
    socket.on('error', reject);
  });
}

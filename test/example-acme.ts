// The example with ACME certificates (docker-compose.acme.yml) from the lab's Pebble, as deploy tests
// use it: its images, the lab's own compose override (certbot reaches Pebble as `pebble` and trusts
// the lab CA), the deploy inputs (no TLS secret: the certificate comes from Pebble, and the deploy's
// HTTPS probe trusts only Pebble's root), and the certificate nginx serves.
//
// For a test that needs a deployed example with a Pebble certificate of known lifetime:
//   const pebble = readPebbleLab();
//   const images = await acmeImages(lab, 'my-test');
//   const t = await acmeTarget(lab, pebble, 'my-test');
//   const r = await deployAcmeExample(lab, pebble, t, images, { ...extra inputs });
//   // https://<t.domain>:<t.httpsPort>/ serves a certificate for t.domain, issued by Pebble, that
//   // lives pebble.certDays days; t.rootFile (relative to t.workdir) is Pebble's root.
//   ...
//   await removeExample(lab, t);
// Pebble validates on one port (pebble.httpPort, where the target publishes nginx's HTTP): one such
// deploy at a time, as every lab test runs under the integration lock.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { buildPush, labSsh, repoRoot, sshInputs, type Lab } from '../scripts/lab/lab.js';
import { pebbleRoot, type PebbleLab } from '../scripts/lab/pebble.js';
import { shellQuote } from '../lib/ssh/shell.js';
import { exampleTarget, type ExampleTarget } from './example-release.js';

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
 * engine's docker0 address where Pebble listens), and the lab CA (ca.pem, which exampleWorkdir
 * writes) as the CA bundle Python's requests trusts.
 */
export function writeAcmeLabOverride(workdir: string, address = 'host-gateway'): void {
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
      '        source: ./ca.pem',
      '        target: /etc/berth/lab-ca.pem',
      '        read_only: true',
      '',
    ].join('\n'),
  );
}

export interface AcmeTarget extends ExampleTarget {
  /** the certificate's name: `<project>.localhost`, which Pebble's DNS and curl resolve to 127.0.0.1 */
  domain: string;
  /** Pebble's root in the working copy (the deploy's ca-file), written by deployAcmeExample */
  rootFile: string;
}

/** A fresh target whose nginx publishes HTTP on Pebble's validation port, with the lab override. */
export async function acmeTarget(lab: Lab, pebble: PebbleLab, label: string): Promise<AcmeTarget> {
  const t = await exampleTarget(lab, label);
  writeAcmeLabOverride(t.workdir);
  return { ...t, httpPort: pebble.httpPort, domain: `${t.project}.localhost`, rootFile: 'pebble-root.pem' };
}

/** The deploy inputs of the ACME example on the lab host: no TLS secret, probed trusting Pebble's root only. */
export function acmeDeployInputs(
  lab: Lab,
  pebble: PebbleLab,
  t: AcmeTarget,
  images: AcmeImages,
): Record<string, string> {
  return {
    ...sshInputs(lab),
    project: t.project,
    'compose-files': ['docker-compose.yml', 'docker-compose.acme.yml', ACME_LAB_OVERRIDE].join('\n'),
    'remote-dir': t.remoteDir,
    env: [
      `DOMAIN=${t.domain}`,
      `ACME_SERVER=${pebble.url}`,
      `HTTPS_PORT=${t.httpsPort}`,
      `HTTP_PORT=${t.httpPort}`,
      'BIND_ADDRESS=127.0.0.1',
    ].join('\n'),
    secrets: `db_password=pw-${t.project}`,
    images: `api=${images.api}\nnginx=${images.nginx}\ndb=${images.db}\ncertbot=${images.certbot}`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    'health-urls': `https://${t.domain}:${t.httpsPort}/healthz 200`,
    'ca-file': t.rootFile,
    'wait-timeout': '180',
  };
}

/** Writes Pebble's current root into the working copy, then deploys; `extra` inputs on top. */
export async function deployAcmeExample(
  lab: Lab,
  pebble: PebbleLab,
  t: AcmeTarget,
  images: AcmeImages,
  extra: Record<string, string> = {},
): Promise<ActionResult> {
  writeFileSync(join(t.workdir, t.rootFile), await pebbleRoot(pebble));
  return runAction('deploy', {
    workspace: t.workdir,
    inputs: { ...acmeDeployInputs(lab, pebble, t, images), ...extra },
  });
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

/** `berth-certbot renew --force` in the target's certbot container: a new certificate now. */
export async function forceRenewal(lab: Lab, t: AcmeTarget): Promise<string> {
  const id = await containerOf(lab, t.project, 'certbot');
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

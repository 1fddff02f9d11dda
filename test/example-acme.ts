// The example with ACME certificates (docker-compose.acme.yml) from the lab's Pebble, deployed to the
// lab host by berth/deploy: a target (its domain, nginx's HTTP on Pebble's validation port) and the
// deploy inputs (no TLS secret: the certificate comes from Pebble, and the deploy's HTTPS probe
// trusts only Pebble's root). The images, the lab's override and the served certificate are in
// scripts/lab/acme.ts.
//
// For a test that needs a deployed example with a Pebble certificate of known lifetime:
//   const pebble = readPebbleLab();
//   const images = await acmeImages(lab, 'my-test');            // scripts/lab/acme.ts
//   const t = await acmeTarget(lab, pebble, 'my-test');
//   const r = await deployAcmeExample(lab, pebble, t, images, { ...extra inputs });
//   // https://<t.domain>:<t.httpsPort>/ serves a certificate for t.domain, issued by Pebble, that
//   // lives pebble.certDays days; t.rootFile (relative to t.workdir) is Pebble's root.
//   ...
//   await removeExample(lab, t);
// Pebble validates on one port (pebble.httpPort, where the target publishes nginx's HTTP): one such
// deploy at a time, as every lab test runs under the integration lock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACME_LAB_OVERRIDE, writeAcmeLabOverride, type AcmeImages } from '../scripts/lab/acme.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { sshInputs, type Lab } from '../scripts/lab/lab.js';
import { pebbleRoot, type PebbleLab } from '../scripts/lab/pebble.js';
import { exampleTarget, type ExampleTarget } from './example-release.js';

export interface AcmeTarget extends ExampleTarget {
  /** the certificate's name: `<project>.localhost`, which Pebble's DNS and curl resolve to 127.0.0.1 */
  domain: string;
  /** Pebble's root in the working copy (the deploy's ca-file), written by deployAcmeExample */
  rootFile: string;
}

/** A fresh target whose nginx publishes HTTP on Pebble's validation port, with the lab override. */
export async function acmeTarget(lab: Lab, pebble: PebbleLab, label: string): Promise<AcmeTarget> {
  const t = await exampleTarget(lab, label);
  writeAcmeLabOverride(t.workdir, pebble);
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

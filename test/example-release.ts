// The example app's images and a working copy of its files, as deploy tests use them: two api
// versions, one api that never gets healthy, nginx and db, all pushed to the lab registry and then
// removed from the engine so that every deploy must pull what it runs.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPush, repoRoot, type Lab } from '../scripts/lab/lab.js';

const exec = promisify(execFile);

export interface ExampleImages {
  api1: string;
  api2: string;
  broken: string;
  nginx: string;
  db: string;
}

/** A copy of example/ (in a path with a space, on purpose) with the lab CA as ca.pem. */
export function exampleWorkdir(lab: Lab, label: string): string {
  const workdir = mkdtempSync(join(tmpdir(), `berth ${label} `));
  cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
  writeFileSync(join(workdir, 'ca.pem'), readFileSync(lab.caFile));
  return workdir;
}

/** Builds and pushes the example images under `<registry>/<namespace>/`; returns repo@digest refs. */
export async function exampleImages(lab: Lab, namespace: string): Promise<ExampleImages> {
  const repo = (name: string) => `${lab.registry}/${namespace}/${name}`;
  const [api1, api2, nginx, db] = await Promise.all([
    buildPush(lab, join(repoRoot, 'example/api'), repo('api:v1'), ['--build-arg', 'VERSION=v1']),
    buildPush(lab, join(repoRoot, 'example/api'), repo('api:v2'), ['--build-arg', 'VERSION=v2']),
    buildPush(lab, join(repoRoot, 'example/nginx'), repo('nginx:t')),
    buildPush(lab, join(repoRoot, 'example/db'), repo('db:t')),
  ]);
  // An api that starts but never answers its health check, and logs workflow commands (which the
  // deploy prints with the failing container's last log lines): none may be obeyed.
  const broken = mkdtempSync(join(tmpdir(), 'berth-broken-'));
  const hostileLog = "echo '::error::pwned'; echo 'x ##[warning]pwned'; echo '::add-mask::pwned'";
  writeFileSync(
    join(broken, 'Dockerfile'),
    `FROM ${api2}\nENTRYPOINT ["/bin/sh", "-c", "${hostileLog}; exec sleep infinity"]\n`,
  );
  const brokenRef = await buildPush(lab, broken, repo('api:broken'));
  const images = { api1, api2, broken: brokenRef, nginx, db };
  const tags = ['api:v1', 'api:v2', 'api:broken', 'nginx:t', 'db:t'].map(repo);
  await exec('docker', ['image', 'rm', '--force', ...tags, ...Object.values(images)]);
  return images;
}

/** The `images` input pinning each service. */
export function pins(images: ExampleImages, api: string): string {
  return `api=${api}\nnginx=${images.nginx}\ndb=${images.db}`;
}

/** The `secrets` input the example needs: a database password and the lab's TLS pair, as heredocs. */
export function exampleSecrets(lab: Lab, dbPassword: string): string {
  const secrets = {
    db_password: dbPassword,
    tls_cert: readFileSync(lab.tlsCert, 'utf8'),
    tls_key: readFileSync(lab.tlsKey, 'utf8'),
  };
  return Object.entries(secrets)
    .map(([k, v]) => `${k}<<BERTH_EOF\n${v.replace(/\n$/, '')}\nBERTH_EOF`)
    .join('\n');
}

/** The deploy inputs that log in to the lab registry and probe the example over HTTPS. */
export function registryAndProbeInputs(lab: Lab, httpsPort: number): Record<string, string> {
  return {
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
    'health-urls': `https://localhost:${httpsPort}/healthz 200 2000`,
    'ca-file': 'ca.pem',
  };
}

// The example app's images and a working copy of its files, as deploy tests use them: two api
// versions, one api that never gets healthy, nginx and db, all pushed to the lab registry and then
// removed from the engine so that every deploy must pull what it runs.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { buildPush, labSsh, MONITORING_SERVICES, repoRoot, sshInputs, type Lab } from '../scripts/lab/lab.js';
import { freePort, httpsGet } from '../scripts/lab/net.js';

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

export type MonitoringImages = Record<(typeof MONITORING_SERVICES)[number], string>;

/**
 * Builds and pushes the monitoring images under `<registry>/<namespace>/`; returns repo@digest refs.
 * One Dockerfile installs every package in a shared stage, so BuildKit builds it once for all six
 * targets (and not again while its content is unchanged); the registry stores its layer once.
 */
export async function monitoringImages(lab: Lab, namespace: string): Promise<MonitoringImages> {
  const context = join(repoRoot, 'example/monitoring');
  const tags = MONITORING_SERVICES.map((s) => `${lab.registry}/${namespace}/${s}:t`);
  const refs = await Promise.all(
    MONITORING_SERVICES.map((s, i) => buildPush(lab, context, tags[i]!, ['--target', s])),
  );
  await exec('docker', ['image', 'rm', '--force', ...tags, ...refs]);
  return Object.fromEntries(MONITORING_SERVICES.map((s, i) => [s, refs[i]!])) as MonitoringImages;
}

/** The `images` input lines pinning the monitoring services. */
export function monitoringPins(images: MonitoringImages): string {
  return MONITORING_SERVICES.map((s) => `${s}=${images[s]}`).join('\n');
}

/** The `images` input pinning each service. */
export function pins(images: ExampleImages, api: string): string {
  return `api=${api}\nnginx=${images.nginx}\ndb=${images.db}`;
}

/** The `secrets` input the example needs: the database password and the lab's TLS pair, plus `extra` lines. */
export function exampleSecrets(lab: Lab, dbPassword: string, extra: string[] = []): string {
  return [
    `db_password=${dbPassword}`,
    ...extra,
    `tls_cert<<EOF\n${readFileSync(lab.tlsCert, 'utf8').trim()}\nEOF`,
    `tls_key<<EOF\n${readFileSync(lab.tlsKey, 'utf8').trim()}\nEOF`,
  ].join('\n');
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

/** One deploy target of the example on the lab host: its project, remote-dir, ports and working copy. */
export interface ExampleTarget {
  project: string;
  remoteDir: string;
  workdir: string;
  httpsPort: number;
  httpPort: number;
}

/** A fresh target named `berth-<label>-<random>`, with free ports and its own copy of example/. */
export async function exampleTarget(lab: Lab, label: string): Promise<ExampleTarget> {
  const name = `berth-${label}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    project: name,
    remoteDir: `/home/deploy/${name}`,
    workdir: exampleWorkdir(lab, label),
    httpsPort: await freePort(),
    httpPort: await freePort(),
  };
}

/** Deploys the example's base compose file to `t` with `api`, probed over HTTPS; `extra` on top. */
export function deployExample(
  lab: Lab,
  t: ExampleTarget,
  images: ExampleImages,
  api: string,
  extra: Record<string, string> = {},
): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: t.workdir,
    inputs: {
      ...sshInputs(lab),
      project: t.project,
      'compose-files': 'docker-compose.yml',
      'remote-dir': t.remoteDir,
      env: [`HTTPS_PORT=${t.httpsPort}`, `HTTP_PORT=${t.httpPort}`, 'BIND_ADDRESS=127.0.0.1'].join('\n'),
      secrets: exampleSecrets(lab, `pw-${t.project}`),
      images: pins(images, api),
      ...registryAndProbeInputs(lab, t.httpsPort),
      'wait-timeout': '120',
      ...extra,
    },
  });
}

/** The version the example's api reports through nginx on `httpsPort` ('' while it does not answer it). */
export async function exampleVersion(lab: Lab, httpsPort: number): Promise<string> {
  const res = await httpsGet(lab.caFile, httpsPort, '/healthz').catch(() => undefined);
  try {
    return res?.status === 200 ? ((JSON.parse(res.body) as { version?: string }).version ?? '') : '';
  } catch {
    return ''; // a proxy's error page while the api restarts
  }
}

/** Takes the target's stack down (volumes too) and removes its remote-dir. */
export async function removeExample(lab: Lab, t: ExampleTarget): Promise<void> {
  await labSsh(
    lab,
    `docker compose -p ${t.project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${t.remoteDir}`,
  ).catch(() => undefined);
}

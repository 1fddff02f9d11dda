// berth/deploy's inputs: the typed interface (keys as in action.yml) and getInputs(), the only
// place that reads them. Every value that will reach the host is validated here or quoted later.
import * as core from '@actions/core';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { isRegistryHost, parseImageRef } from '../../../lib/tools/docker.js';
import {
  getBooleanInput,
  getByteSizeInput,
  getDurationInput,
  getKeyValueInput,
  getListInput,
  getString,
  inputError,
} from '../../../lib/action/inputs.js';
import { getRegistryCredentials, parseProjectName } from '../../../lib/action/input-checks.js';
import { getSshInputs, type SshInputs } from '../../../lib/ssh/inputs.js';
import { maskSecret } from '../../../lib/action/secrets.js';
import { parseMetricsDir } from '../../../lib/ssh/textfile.js';
import { Inputs as I } from './constants.js';
import { parseHeaders, parseProbes, type Probe } from './probes.js';
import { deploysNewRelease, getModeInputs, type Mode } from './modes/mode.js';
import { getGateInputs, type GateInputs } from './gate.js';
import { getBootstrapInputs, type BootstrapInputs } from './bootstrap/inputs.js';
import { getVerifyInputs, type VerifyInputs } from './verify.js';

export interface Inputs extends SshInputs, GateInputs, VerifyInputs {
  project: string;
  /** paths relative to working-directory, base first, the environment's override included */
  'compose-files': string[];
  environment?: string;
  'working-directory': string;
  env: Record<string, string>;
  secrets: Record<string, string>;
  /** service -> repo@sha256:... */
  images: Record<string, string>;
  registry?: string;
  'registry-username'?: string;
  'registry-password'?: string;
  'remote-dir': string;
  /** seconds */
  'wait-timeout': number;
  'health-urls': Probe[];
  /** `Name: value`, sent with every probe */
  'health-headers': string[];
  /** path relative to working-directory */
  'ca-file'?: string;
  /** an https probe fails when the served certificate has fewer days left (0: only report them) */
  'cert-min-days': number;
  /** globs relative to working-directory */
  files: string[];
  /** absolute host paths a service may bind-mount */
  'host-paths': string[];
  /** bytes */
  'max-bundle-size': number;
  rollback: boolean;
  'keep-releases': number;
  prune: boolean;
  /** seconds */
  'lock-timeout': number;
  mode: Mode;
  /** mode rollback: the release to bring back (an id, or `previous`) */
  release?: string;
  /** services updated start-first (mode swarm: by swarm's own update_config) */
  /** read by rollout.ts's getRolloutInputs; mode swarm's stack rewrite reads it here */
  'zero-downtime'?: string[];
  /** the node exporter's textfile directory on the host (metrics.ts) */
  'metrics-dir'?: string;
  /** mode bootstrap's inputs (bootstrap/inputs.ts) */
  bootstrap?: BootstrapInputs;
}

/** A service, secret or environment name. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULT_COMPOSE = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

function fail(name: string, detail: string): never {
  throw inputError(name, detail);
}

/** A path inside the working directory, as a relative path with no `..`. */
function insideDir(name: string, dir: string, path: string): string {
  const rel = relative(dir, resolve(dir, path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) fail(name, `${path} is not inside ${dir}`);
  if (/[\n\r]/.test(rel)) fail(name, `${JSON.stringify(path)} has a line break`);
  return normalize(rel);
}

function existingFile(name: string, dir: string, path: string): string {
  const rel = insideDir(name, dir, path);
  const full = join(dir, rel);
  if (!existsSync(full) || !statSync(full).isFile()) fail(name, `${full} does not exist`);
  return rel;
}

function optionalFile(name: string, dir: string): string | undefined {
  const path = getString(name);
  return path ? existingFile(name, dir, path) : undefined;
}

export function parseImagePins(name: string, lines: string[]): Record<string, string> {
  const pins: Record<string, string> = {};
  lines.forEach((line, i) => {
    const eq = line.indexOf('=');
    const service = line.slice(0, eq);
    const ref = line.slice(eq + 1);
    if (eq <= 0 || !NAME.test(service)) fail(name, `line ${i + 1} is not "service=repo@sha256:..."`);
    const parsed = parseImageRef(ref);
    if (!parsed?.digest)
      fail(name, `line ${i + 1}: ${JSON.stringify(ref)} is not pinned by digest (repo@sha256:...)`);
    pins[service] = ref;
  });
  return pins;
}

export function parseHostPaths(lines: string[]): string[] {
  return lines.map((line) => {
    if (!line.startsWith('/') || line.split('/').includes('..'))
      fail(I.HostPaths, `${JSON.stringify(line)} is not an absolute path without ".."`);
    return line === '/' ? line : line.replace(/\/+$/, '');
  });
}

/** What the release carries besides the compose model's files (project/). */
function projectInputs(): Pick<Inputs, 'files' | 'host-paths' | 'max-bundle-size'> {
  return {
    files: getListInput(I.Files, { newlinesOnly: true }),
    'host-paths': parseHostPaths(getListInput(I.HostPaths, { newlinesOnly: true })),
    'max-bundle-size': getByteSizeInput(I.MaxBundleSize, { default: 100 * 1000 ** 2 }),
  };
}

function remoteDir(project: string): string {
  const dir = getString(I.RemoteDir) || `/opt/${project}`;
  if (!dir.startsWith('/') || /[\n\r\0]/.test(dir) || dir.split('/').includes('..') || dir === '/') {
    fail(I.RemoteDir, `${JSON.stringify(dir)} is not an absolute directory path without ".."`);
  }
  return dir.replace(/\/+$/, '');
}

function wholeNumber(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = getString(name);
  if (!raw) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    fail(name, `${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`);
  return n;
}

const positiveInt = (name: string, fallback: number): number => wholeNumber(name, fallback, 1);

const seconds = (name: string, fallback: number): number =>
  Math.ceil(getDurationInput(name, { default: fallback * 1000 }) / 1000);

export function getInputs(env: Record<string, string | undefined> = process.env): Inputs {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const ssh = getSshInputs();
  const workingDirectory = resolve(workspace, getString(I.WorkingDirectory, { default: '.' }));
  if (!existsSync(workingDirectory) || !statSync(workingDirectory).isDirectory()) {
    fail(I.WorkingDirectory, `${workingDirectory} is not a directory`);
  }

  const project = parseProjectName(I.Project, getString(I.Project, { required: true }));
  const modes = getModeInputs();

  const listed = getListInput(I.ComposeFiles, { newlinesOnly: true });
  const composeFiles =
    listed.length > 0 ? listed.map((f) => existingFile(I.ComposeFiles, workingDirectory, f)) : [];
  if (composeFiles.length === 0 && deploysNewRelease(modes.mode)) {
    const found = DEFAULT_COMPOSE.find((f) => existsSync(join(workingDirectory, f)));
    if (!found)
      fail(I.ComposeFiles, `not set, and ${workingDirectory} has none of ${DEFAULT_COMPOSE.join(', ')}`);
    composeFiles.push(found);
  }
  const environment = getString(I.Environment) || undefined;
  if (environment) {
    if (!NAME.test(environment))
      fail(I.Environment, `${JSON.stringify(environment)} is not a valid environment name`);
    const override = [
      `docker-compose.${environment}.yml`,
      `docker-compose.${environment}.yaml`,
      `compose.${environment}.yaml`,
      `compose.${environment}.yml`,
    ].find((f) => existsSync(join(workingDirectory, f)));
    if (override && !composeFiles.includes(override)) composeFiles.push(override);
    if (!override) core.info(`No compose override for environment "${environment}" in ${workingDirectory}`);
  }

  const envVars = getKeyValueInput(I.Env);
  for (const [key, value] of Object.entries(envVars)) {
    if (!ENV_KEY.test(key)) fail(I.Env, `${JSON.stringify(key)} is not a variable name`);
    // Users put secrets here (the reusable workflow passes APP_ENV_SECRET): every value is masked.
    maskSecret(value);
  }
  const secrets = getKeyValueInput(I.Secrets);
  for (const [name, value] of Object.entries(secrets)) {
    if (!NAME.test(name)) fail(I.Secrets, `${JSON.stringify(name)} is not a valid secret file name`);
    maskSecret(value);
  }

  const registry = getString(I.Registry) || undefined;
  const credentials = getRegistryCredentials();
  if (registry && !credentials) fail(I.RegistryUsername, 'is required with "registry"');
  if (!registry && credentials) fail(I.Registry, 'is required with registry credentials');
  if (registry && !isRegistryHost(registry))
    fail(I.Registry, `${JSON.stringify(registry)} is not a registry host[:port]`);

  const images = parseImagePins(I.Images, getListInput(I.Images, { newlinesOnly: true }));
  return {
    ...ssh,
    project,
    'compose-files': composeFiles,
    environment,
    'working-directory': workingDirectory,
    env: envVars,
    secrets,
    images,
    registry,
    'registry-username': credentials?.username,
    'registry-password': credentials?.password,
    'remote-dir': remoteDir(project),
    'wait-timeout': seconds(I.WaitTimeout, 180),
    'health-urls': parseProbes(I.HealthUrls, getListInput(I.HealthUrls, { newlinesOnly: true })),
    'health-headers': parseHeaders(I.HealthHeaders, getListInput(I.HealthHeaders, { newlinesOnly: true })),
    'ca-file': optionalFile(I.CaFile, workingDirectory),
    'cert-min-days': wholeNumber(I.CertMinDays, 14, 0, 3650),
    ...projectInputs(),
    rollback: getBooleanInput(I.Rollback, { default: true }),
    'keep-releases': positiveInt(I.KeepReleases, 5),
    prune: getBooleanInput(I.Prune, { default: true }),
    'lock-timeout': seconds(I.LockTimeout, 300),
    'metrics-dir': parseMetricsDir(I.MetricsDir, getString(I.MetricsDir) ?? ''),
    ...modes,
    ...getGateInputs(project, modes.mode),
    ...getBootstrapInputs(modes.mode),
    ...getVerifyInputs(images),
  };
}

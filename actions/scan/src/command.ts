// The Trivy command lines berth/scan runs, built from settings alone: the scan (once per target,
// JSON, no filtering: evaluate() decides what counts), the optional separate DB download, the
// child's environment, and which Trivy process may see the registry credentials. What Trivy's
// failures mean is trivy-failure.ts.
import { parseImageRef } from '../../../lib/tools/docker.js';
import type { Scanner } from './constants.js';

/** What one Trivy run scans. */
export type TrivyTarget =
  /** an image reference, read from the registry (`remote`) or the local Docker engine (`docker`) */
  | { kind: 'image'; ref: string; source: 'remote' | 'docker' }
  /** a `docker save` or OCI layout archive */
  | { kind: 'archive'; path: string }
  /** a directory or file, for vulnerabilities, secrets and misconfigurations */
  | { kind: 'fs'; path: string }
  /** a directory or file, for misconfigurations only */
  | { kind: 'config'; path: string };

export interface ScanCommand {
  target: TrivyTarget;
  scanners: readonly Scanner[];
  cacheDir: string;
  /** where Trivy writes the JSON report */
  output: string;
  timeoutMs: number;
  dbRepositories: readonly string[];
  /** the DB in the cache dir is fresh (or was just downloaded): no DB update */
  skipDbUpdate: boolean;
  /** download Trivy's Java DB when the target has JAR files (else --skip-java-db-update) */
  javaDb: boolean;
  /** use the checks embedded in Trivy instead of fetching the checks bundle */
  skipCheckUpdate: boolean;
}

/** A Go duration for `--timeout`: whole seconds when it is some, else milliseconds. */
export function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const COMMON = ['--skip-version-check', '--disable-telemetry'];

export function needsVulnerabilityDb(target: TrivyTarget, scanners: readonly Scanner[]): boolean {
  return target.kind !== 'config' && scanners.includes('vuln');
}

/**
 * `trivy <image|fs|config> ... <target>`: JSON to a file, every severity, no ignore file and no
 * --ignore-unfixed, since Berth applies those itself to the report, the SARIF, the outputs and the gate.
 */
export function trivyScanArgs(c: ScanCommand): string[] {
  const { target } = c;
  const subcommand = target.kind === 'archive' ? 'image' : target.kind;
  const args = [
    subcommand,
    '--cache-dir',
    c.cacheDir,
    ...COMMON,
    '--timeout',
    goDuration(c.timeoutMs),
    '--format',
    'json',
    '--output',
    c.output,
  ];
  if (target.kind !== 'config') {
    args.push('--no-progress', '--list-all-pkgs=false', '--scanners', c.scanners.join(','));
    if (needsVulnerabilityDb(target, c.scanners)) {
      if (c.skipDbUpdate) args.push('--skip-db-update');
      else args.push('--db-repository', c.dbRepositories.join(','));
      if (!c.javaDb) args.push('--skip-java-db-update');
    }
  }
  if (c.skipCheckUpdate && (target.kind === 'config' || c.scanners.includes('misconfig'))) {
    args.push('--skip-check-update');
  }
  // `--` before the target: whatever it says, Trivy reads it as the target, never as an option.
  switch (target.kind) {
    case 'image':
      args.push('--image-src', target.source, '--', target.ref);
      break;
    case 'archive':
      args.push('--input', target.path);
      break;
    case 'fs':
    case 'config':
      args.push('--', target.path);
      break;
  }
  return args;
}

/** `trivy image --download-db-only`: the DB alone, in its own process (see planTrivyRuns). */
export function trivyDbDownloadArgs(
  c: Pick<ScanCommand, 'cacheDir' | 'timeoutMs' | 'dbRepositories'>,
): string[] {
  return [
    'image',
    '--cache-dir',
    c.cacheDir,
    ...COMMON,
    '--timeout',
    goDuration(c.timeoutMs),
    '--no-progress',
    '--download-db-only',
    '--db-repository',
    c.dbRepositories.join(','),
  ];
}

/**
 * The environment of a Trivy child process: the runner's, without any TRIVY_* variable (Trivy reads
 * its flags from them too, and the inputs alone must decide what is scanned and reported), plus the
 * registry credentials when this process may have them.
 */
export function trivyEnv(
  base: Readonly<Record<string, string | undefined>>,
  credentials?: { username: string; password: string },
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(base)) if (key.toUpperCase().startsWith('TRIVY_')) env[key] = undefined;
  if (credentials) {
    env.TRIVY_USERNAME = credentials.username;
    env.TRIVY_PASSWORD = credentials.password;
  }
  return env;
}

/** The registry host of a repository or image reference (`docker.io` when it names none). */
export function registryHost(ref: string): string | undefined {
  return parseImageRef(ref)?.registry;
}

export interface RunPlanInput {
  /** registry-username and registry-password are set */
  credentials: boolean;
  /** the registry they are for (see credentialHost) */
  credentialHost?: string;
  /** the registry of an image Trivy reads remotely */
  imageHost?: string;
  /** the registries of db-repository, when the DB is to be downloaded */
  dbHosts: readonly string[];
}

export interface RunPlan {
  /** download the DB in a process of its own before the scan, which then skips the DB update */
  separateDbDownload: boolean;
  downloadCredentials: boolean;
  scanCredentials: boolean;
  /**
   * The scan uses the checks built into Trivy rather than fetching the checks bundle (from
   * mirror.gcr.io), because it holds the credentials.
   */
  skipCheckUpdate: boolean;
}

/**
 * The registry the credentials are for: the image's for an image scan, else the first DB
 * repository's (a private DB mirror).
 */
export function credentialHost(
  image: string | undefined,
  dbRepositories: readonly string[],
): string | undefined {
  if (image !== undefined) return registryHost(image);
  return dbRepositories[0] === undefined ? undefined : registryHost(dbRepositories[0]);
}

/**
 * Trivy offers TRIVY_USERNAME/TRIVY_PASSWORD to every registry it contacts, so a process only gets
 * them when every registry it contacts is the one they are for. When the image's registry and the
 * DB's differ in that respect, the DB is downloaded by a process of its own.
 */
export function planTrivyRuns(p: RunPlanInput): RunPlan {
  const plan = (separateDbDownload: boolean, download: boolean, scan: boolean): RunPlan => ({
    separateDbDownload,
    downloadCredentials: download,
    scanCredentials: scan,
    skipCheckUpdate: scan,
  });
  if (!p.credentials || p.credentialHost === undefined) return plan(false, false, false);
  const onlyOurs = (hosts: readonly string[]) =>
    hosts.length > 0 && hosts.every((h) => h === p.credentialHost);
  const scanHosts = p.imageHost === undefined ? [] : [p.imageHost];
  const scanGets = onlyOurs(scanHosts);
  const dbGets = onlyOurs(p.dbHosts);
  if (p.dbHosts.length === 0) return plan(false, false, scanGets);
  if (scanHosts.length === 0) return plan(false, dbGets, dbGets);
  if (scanGets === dbGets) return plan(false, scanGets, scanGets);
  return plan(true, dbGets, scanGets);
}

export interface TrivySettings extends Omit<ScanCommand, 'skipDbUpdate' | 'skipCheckUpdate'> {
  /** the scan needs the vulnerability DB and the one in the cache dir is not fresh */
  updateDb: boolean;
  /** registry-username and registry-password are set */
  credentials: boolean;
  /** the `image` input, when it is set (see credentialHost) */
  image?: string;
}

/** One Trivy process: its arguments, and whether it gets the registry credentials. */
export interface TrivyCommand {
  args: string[];
  credentials: boolean;
}

/** The Trivy processes of a scan, in order: the DB download when it needs one of its own, then the scan. */
export function trivyCommands(s: TrivySettings): TrivyCommand[] {
  const { target } = s;
  const plan = planTrivyRuns({
    credentials: s.credentials,
    credentialHost: credentialHost(s.image, s.dbRepositories),
    imageHost: target.kind === 'image' && target.source === 'remote' ? registryHost(target.ref) : undefined,
    dbHosts: s.updateDb ? s.dbRepositories.map((r) => registryHost(r) ?? r) : [],
  });
  const download = s.updateDb && plan.separateDbDownload;
  const scan = trivyScanArgs({
    ...s,
    skipDbUpdate: !s.updateDb || plan.separateDbDownload,
    skipCheckUpdate: plan.skipCheckUpdate,
  });
  return [
    ...(download ? [{ args: trivyDbDownloadArgs(s), credentials: plan.downloadCredentials }] : []),
    { args: scan, credentials: plan.scanCredentials },
  ];
}

// berth/scan's inputs: the typed interface (keys as in action.yml; the gate's four as one `gate`
// value) and getInputs(), the only place that reads them, checks them against the workspace and says
// which input is wrong. The pure parsers are exported for the unit tests.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  getBooleanInput,
  getDurationInput,
  getEnumInput,
  getListInput,
  getString,
  inputError,
  parseDuration,
  parseList,
} from '../../../lib/action/inputs.js';
import { getRegistryCredentials } from '../../../lib/action/input-checks.js';
import { maskSecret } from '../../../lib/action/secrets.js';
import { parseSha256Pin } from '../../../lib/tools/installer.js';
import {
  DEFAULT_DB_REPOSITORIES,
  DEFAULT_SCANNERS,
  DEFAULT_TIMEOUT,
  Inputs as I,
  SCAN_TYPES,
  SCANNERS,
  type ScanType,
  type Scanner,
} from './constants.js';
import { isImageReference, safeImageRef } from './image-ref.js';
import { parseGateSettings, type GateSettings } from './gate.js';
import { IgnoreFileError, readIgnoreFile, resolveIgnoreFile, type IgnoreEntry } from './ignore.js';
import { parseMonitoringDownloadUrl, parseMonitoringVersion } from './monitoring-install.js';
import { parseTrivyDownloadUrl, resolveTrivyVersion } from './trivy-install.js';

export interface Inputs {
  'scan-type': ScanType;
  /** an image reference (scan-type image) */
  image?: string;
  /** absolute path of a `docker save` or OCI archive (scan-type image) */
  input?: string;
  /** absolute path of what fs and config scans read */
  'scan-ref': string;
  scanners: Scanner[];
  /**
   * `severity`, `fail-on`, `ignore-unfixed` and `audit`, parsed together: what counts and what fails
   * the step, as evaluate() takes it
   */
  gate: GateSettings;
  /** workspace-relative, as messages name it; undefined when there is none */
  'ignore-file'?: string;
  /** compose files, workspace-relative or absolute, base first */
  'compose-files': string[];
  /** Prometheus configs, rule files and Alertmanager configs, workspace-relative as given */
  'monitoring-configs': string[];
  /** x.y.z */
  'prometheus-version': string;
  /** x.y.z */
  'alertmanager-version': string;
  'monitoring-download-url': string;
  /** x.y.z or `preinstalled` */
  'trivy-version': string;
  'trivy-download-url': string;
  'trivy-sha256'?: string;
  /** masked; sent only with downloads from github.com */
  'github-token'?: string;
  'db-repository': string[];
  'cache-db': boolean;
  /** absolute */
  'cache-dir': string;
  'java-db': boolean;
  'registry-username'?: string;
  /** masked */
  'registry-password'?: string;
  /** milliseconds */
  timeout: number;
  /** absolute */
  'output-dir': string;
}

/**
 * `scanners`: comma- or newline-separated, each one Berth turns into findings; empty means the
 * scan type's default. `trivy config` scans misconfigurations only.
 */
export function parseScanners(type: ScanType, value: string): Scanner[] {
  const items = parseList(value).map((s) => s.toLowerCase());
  if (items.length === 0) return [...DEFAULT_SCANNERS[type]];
  for (const item of items) {
    if (item === 'license') {
      throw inputError(I.Scanners, `license scanning is not supported (use ${SCANNERS.join(', ')})`);
    }
    if (!(SCANNERS as readonly string[]).includes(item)) {
      throw inputError(I.Scanners, `"${item}" is not a scanner (use ${SCANNERS.join(', ')})`);
    }
  }
  const scanners = SCANNERS.filter((s) => items.includes(s));
  if (type === 'config' && scanners.some((s) => s !== 'misconfig')) {
    throw inputError(
      I.Scanners,
      `scan-type config finds misconfigurations only; use scan-type fs for ${scanners.filter((s) => s !== 'misconfig').join(', ')}`,
    );
  }
  return scanners;
}

/** `db-repository`: OCI references of Trivy's DB, in order of priority; empty means Trivy's default. */
export function parseDbRepositories(value: string): string[] {
  const items = parseList(value);
  if (items.length === 0) return [...DEFAULT_DB_REPOSITORIES];
  for (const item of items) {
    const ref = safeImageRef(item);
    if (!ref || (!ref.tag && !ref.digest)) {
      throw inputError(
        I.DbRepository,
        `${JSON.stringify(item)} is not an OCI reference with a tag (example: ${DEFAULT_DB_REPOSITORIES[0]})`,
      );
    }
  }
  return items;
}

/** An image reference Trivy can scan: `registry/repo:tag`, `repo@sha256:...` or both. */
export function parseImageInput(value: string): string {
  if (!isImageReference(value)) {
    throw inputError(
      I.Image,
      `${JSON.stringify(value)} is not an image reference (examples: ghcr.io/acme/api:1.2.3, ghcr.io/acme/api@sha256:<digest>)`,
    );
  }
  return value;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** `image` or `input` (scan-type image only, one of the two), the archive resolved against the workspace. */
function getImageInputs(type: ScanType, workspace: string): Pick<Inputs, 'image' | 'input'> {
  const imageText = getString(I.Image);
  const inputText = getString(I.Input);
  if (type !== 'image') {
    const stray = imageText ? I.Image : inputText ? I.Input : undefined;
    if (stray)
      throw inputError(stray, `applies to scan-type image only; scan-type ${type} reads ${I.ScanRef}`);
    return { image: undefined, input: undefined };
  }
  if (imageText && inputText) throw inputError(I.Input, `give ${I.Image} or ${I.Input}, not both`);
  if (!imageText && !inputText) {
    throw inputError(
      I.Image,
      `is required for scan-type image (an image reference), unless ${I.Input} names an image archive`,
    );
  }
  const image = imageText ? parseImageInput(imageText) : undefined;
  const input = inputText ? resolve(workspace, inputText) : undefined;
  if (input !== undefined && !isFile(input)) {
    throw inputError(I.Input, `the image archive ${inputText} does not exist`);
  }
  return { image, input };
}

/** A list of files, one per line, each of which must be a file of the workspace. */
function getFilesInput(name: string, workspace: string): string[] {
  const files = getListInput(name, { newlinesOnly: true });
  for (const file of files) {
    if (!isFile(resolve(workspace, file))) throw inputError(name, `${file} does not exist in the workspace`);
  }
  return files;
}

export function getInputs(env: Record<string, string | undefined> = process.env): Inputs {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const type = getEnumInput(I.ScanType, SCAN_TYPES, { default: 'image' });
  const { image, input } = getImageInputs(type, workspace);

  const scanRefText = getString(I.ScanRef, { default: '.' });
  const scanRef = resolve(workspace, scanRefText);
  if (type !== 'image' && !existsSync(scanRef)) {
    throw inputError(I.ScanRef, `${scanRefText} does not exist in the workspace`);
  }

  const gate = parseGateSettings({
    severity: getString(I.Severity),
    'fail-on': getString(I.FailOn),
    'ignore-unfixed': getString(I.IgnoreUnfixed),
    audit: getString(I.Audit),
  });
  const ignoreFile = resolveIgnoreFile(getString(I.IgnoreFile) ?? '', (path) =>
    existsSync(resolve(workspace, path)),
  );

  const composeFiles = getFilesInput(I.ComposeFiles, workspace);
  const monitoringConfigs = getFilesInput(I.MonitoringConfigs, workspace);

  const token = getString(I.GithubToken) || undefined;
  if (token) maskSecret(token);
  const credentials = getRegistryCredentials();
  const pin = parseSha256Pin(I.TrivySha256, getString(I.TrivySha256) ?? '');

  const timeout = getDurationInput(I.Timeout) ?? parseDuration(I.Timeout, DEFAULT_TIMEOUT);
  if (timeout < 1000) throw inputError(I.Timeout, 'must be at least one second');

  const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const cacheDirText = getString(I.CacheDir);
  const outputDirText = getString(I.OutputDir);
  const runnerTemp = env.RUNNER_TEMP || join(cacheHome, 'berth', 'tmp');

  return {
    'scan-type': type,
    image,
    input,
    'scan-ref': scanRef,
    scanners: parseScanners(type, getString(I.Scanners) ?? ''),
    gate,
    'ignore-file': ignoreFile,
    'compose-files': composeFiles,
    'monitoring-configs': monitoringConfigs,
    'prometheus-version': parseMonitoringVersion('promtool', getString(I.PrometheusVersion) ?? ''),
    'alertmanager-version': parseMonitoringVersion('amtool', getString(I.AlertmanagerVersion) ?? ''),
    'monitoring-download-url': parseMonitoringDownloadUrl(getString(I.MonitoringDownloadUrl) ?? ''),
    'trivy-version': resolveTrivyVersion(getString(I.TrivyVersion) ?? ''),
    'trivy-download-url': parseTrivyDownloadUrl(getString(I.TrivyDownloadUrl) ?? '', pin),
    'trivy-sha256': pin,
    'github-token': token,
    'db-repository': parseDbRepositories(getString(I.DbRepository) ?? ''),
    'cache-db': getBooleanInput(I.CacheDb, { default: true }),
    'cache-dir': cacheDirText ? resolve(workspace, cacheDirText) : join(cacheHome, 'berth', 'trivy'),
    'java-db': getBooleanInput(I.JavaDb, { default: false }),
    'registry-username': credentials?.username,
    'registry-password': credentials?.password,
    timeout,
    'output-dir': outputDirText ? resolve(workspace, outputDirText) : join(runnerTemp, 'berth-scan'),
  };
}

/** The entries of the ignore file, expired ones included; a file that cannot be read is an input error. */
export function loadIgnores(inputs: Pick<Inputs, 'ignore-file'>, workspace: string): IgnoreEntry[] {
  const file = inputs['ignore-file'];
  if (file === undefined) return [];
  try {
    return readIgnoreFile(resolve(workspace, file), file);
  } catch (error) {
    if (error instanceof IgnoreFileError) throw inputError(I.IgnoreFile, error.message);
    throw error;
  }
}

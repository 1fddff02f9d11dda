// Trivy on the runner: the `trivy-version` input, the release's asset names and URLs, its checksums
// file, and the install through the tool cache, which verifies the archive's SHA-256 before it is
// unpacked. Pure parts are exported for unit tests.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import * as tc from '@actions/tool-cache';
import { run, which } from '../action/exec.js';
import { inputError } from '../action/inputs.js';

/** The Trivy release installed when `trivy-version` is empty. */
export const DEFAULT_TRIVY_VERSION = '0.74.0';
/** Where upstream publishes releases; `<base>/v<version>/<asset>`. */
export const DEFAULT_TRIVY_DOWNLOAD_URL = 'https://github.com/aquasecurity/trivy/releases/download';
/** `trivy-version: preinstalled` uses the `trivy` already on PATH. */
export const PREINSTALLED = 'preinstalled';
export const TOOL_NAME = 'trivy';

export const TrivyInputs = {
  Version: 'trivy-version',
  DownloadUrl: 'trivy-download-url',
  Sha256: 'trivy-sha256',
} as const;

/** Releases refused by name, with the reason. */
export const REFUSED_TRIVY_VERSIONS: Readonly<Record<string, string>> = {
  '0.69.4':
    "it is the malicious release published in March 2026 through Trivy's compromised release automation; " +
    `pin another release, e.g. ${DEFAULT_TRIVY_VERSION}`,
};

/** `x.y.z` (a leading `v` is dropped), `preinstalled`, or the default when empty. */
export function resolveTrivyVersion(input: string): string {
  const name = TrivyInputs.Version;
  const value = input.trim();
  if (value === '') return DEFAULT_TRIVY_VERSION;
  if (value.toLowerCase() === PREINSTALLED) return PREINSTALLED;
  if (value.toLowerCase() === 'latest') {
    throw inputError(
      name,
      `"latest" is not allowed: pin an exact release such as ${DEFAULT_TRIVY_VERSION}, so every run installs ` +
        'the same, checksum-verified Trivy',
    );
  }
  const match = /^v?(\d+\.\d+\.\d+)$/.exec(value);
  if (!match) {
    const looksLikeRange = /^[\^~<>=*]|[*x]$|\|\||^v?\d+(\.\d+)?$|\s-\s/i.test(value);
    throw inputError(
      name,
      looksLikeRange
        ? `${JSON.stringify(value)} is a version range: pin an exact release such as ${DEFAULT_TRIVY_VERSION}`
        : `${JSON.stringify(value)} is not a Trivy release version (x.y.z, e.g. ${DEFAULT_TRIVY_VERSION}) or "${PREINSTALLED}"`,
    );
  }
  const version = match[1]!;
  const refused = REFUSED_TRIVY_VERSIONS[version];
  if (refused !== undefined) throw inputError(name, `Trivy ${version} is refused: ${refused}`);
  return version;
}

/** The base URL releases are downloaded from, without a trailing slash; http(s) only. */
export function parseTrivyDownloadUrl(input: string): string {
  const value = input.trim();
  if (value === '') return DEFAULT_TRIVY_DOWNLOAD_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw inputError(TrivyInputs.DownloadUrl, `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw inputError(TrivyInputs.DownloadUrl, `${JSON.stringify(value)} is not an http(s) URL`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw inputError(
      TrivyInputs.DownloadUrl,
      'give the base URL only (no query, fragment or credentials): releases are fetched from <base>/v<version>/<asset>',
    );
  }
  return value.replace(/\/+$/, '');
}

/** An optional SHA-256 pin of the release archive: 64 hex digits, `sha256:` prefix allowed. */
export function parseSha256Pin(input: string): string | undefined {
  const value = input.trim().toLowerCase();
  if (value === '') return undefined;
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw inputError(
      TrivyInputs.Sha256,
      'is not a SHA-256 (64 hex digits, optionally prefixed with sha256:)',
    );
  }
  return hex;
}

const RELEASE_ARCH: Readonly<Record<string, string>> = { x64: '64bit', arm64: 'ARM64' };

export interface TrivyAssets {
  archive: string;
  checksums: string;
}

/** Upstream's asset names for Linux on `arch` (`process.arch` and `process.platform` values). */
export function trivyAssets(
  version: string,
  arch: string = process.arch,
  platform: string = process.platform,
): TrivyAssets {
  const suffix = RELEASE_ARCH[arch];
  if (suffix === undefined || platform !== 'linux') {
    throw new Error(
      `Trivy releases are installed on Linux x64 and arm64 runners only, this one is ${platform} ${arch}; ` +
        `install Trivy yourself and set ${TrivyInputs.Version}: ${PREINSTALLED}`,
    );
  }
  return {
    archive: `trivy_${version}_Linux-${suffix}.tar.gz`,
    checksums: `trivy_${version}_checksums.txt`,
  };
}

export function trivyAssetUrl(base: string, version: string, asset: string): string {
  return `${base.replace(/\/+$/, '')}/v${version}/${asset}`;
}

/**
 * A `sha256sum`-style checksums file (`<hex>  <name>`, or `<hex> *<name>`) as a map from file name
 * to lower-case hash. Throws on a line that is neither blank nor such a line, and on a name listed
 * twice with different hashes.
 */
export function parseChecksums(text: string, fileName = 'the checksums file'): Map<string, string> {
  const sums = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    const match = /^([0-9a-fA-F]{64}) [ *](\S.*?)\s*$/.exec(line);
    if (!match) throw new Error(`${fileName}: line ${index + 1} is not "<sha256>  <file name>"`);
    const [, hash, name] = match;
    const known = sums.get(name!);
    if (known !== undefined && known !== hash!.toLowerCase()) {
      throw new Error(`${fileName}: ${name} is listed twice with different hashes`);
    }
    sums.set(name!, hash!.toLowerCase());
  }
  return sums;
}

/** The hash the archive must have: its line in the checksums file, which a pin must agree with. */
export function expectedSha256(checksumsText: string, assets: TrivyAssets, pin: string | undefined): string {
  const listed = parseChecksums(checksumsText, assets.checksums).get(assets.archive);
  if (listed === undefined) {
    throw new Error(
      `${assets.checksums} has no line for ${assets.archive}: this release has no such archive, ` +
        'or the checksums file is not the one published with it',
    );
  }
  if (pin !== undefined && pin !== listed) {
    throw new Error(
      `${TrivyInputs.Sha256} is ${pin}, but ${assets.checksums} lists ${listed} for ${assets.archive}; ` +
        'not installed (the pin and the release must agree)',
    );
  }
  return listed;
}

/** The version in `trivy --version` output (`Version: 0.74.0`). */
export function parseTrivyVersionOutput(output: string): string | undefined {
  return /^Version:\s*v?(\S+)/m.exec(output)?.[1];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface TrivyInstallOptions {
  /** a resolved version (`resolveTrivyVersion`) or `preinstalled` */
  version: string;
  /** base URL (`parseTrivyDownloadUrl`); default upstream's */
  downloadUrl?: string;
  /** a pin of the archive's SHA-256 (`parseSha256Pin`) */
  sha256?: string;
  /** sent only to github.com, never to another download host */
  token?: string;
  /** a `process.arch` value; default this runner's */
  arch?: string;
}

export interface TrivyInstall {
  /** absolute path of the `trivy` binary */
  path: string;
  version: string;
  /** where it came from; `downloaded` is true only for `download` */
  source: 'download' | 'tool-cache' | 'preinstalled';
  downloaded: boolean;
  /** the verified SHA-256 of the archive, when it was downloaded */
  sha256?: string;
}

/** The version the `trivy` at `path` reports. */
export async function trivyVersionOf(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version'], { silent: true });
  const version = parseTrivyVersionOutput(stdout);
  if (version === undefined) throw new Error(`\`${path} --version\` printed no version: ${stdout.trim()}`);
  return version;
}

/** The Authorization header for a download: the token goes to github.com only, never to a mirror. */
export function downloadAuth(url: string, token: string | undefined): string | undefined {
  if (!token) return undefined;
  return new URL(url).origin === 'https://github.com' ? `token ${token}` : undefined;
}

async function download(url: string, token: string | undefined): Promise<string> {
  try {
    return await tc.downloadTool(url, undefined, downloadAuth(url, token));
  } catch (error) {
    const status = error instanceof tc.HTTPError ? error.httpStatusCode : undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const hint =
      status === 404
        ? `; check ${TrivyInputs.Version} and ${TrivyInputs.DownloadUrl} (expected <base>/v<version>/<asset>)`
        : '';
    throw new Error(`Downloading ${url} failed: ${reason}${hint}`, { cause: error });
  }
}

/**
 * Installs Trivy into the runner's tool cache and returns its binary. A version already in the tool
 * cache is used as it is (nothing is downloaded). Otherwise the checksums file and the archive are
 * downloaded, the archive's SHA-256 is checked against its line (and the optional pin) before it is
 * unpacked, and a mismatch deletes the archive and fails, leaving the tool cache untouched.
 */
export async function installTrivy(options: TrivyInstallOptions): Promise<TrivyInstall> {
  const { version } = options;
  if (version === PREINSTALLED) {
    const path = await which(
      TOOL_NAME,
      `install Trivy on the runner, or set ${TrivyInputs.Version} to a release such as ${DEFAULT_TRIVY_VERSION}`,
    );
    const found = await trivyVersionOf(path);
    const refused = REFUSED_TRIVY_VERSIONS[found];
    if (refused !== undefined)
      throw new Error(`The trivy on PATH (${path}) is ${found}, which is refused: ${refused}`);
    return { path, version: found, source: PREINSTALLED, downloaded: false };
  }
  const refused = REFUSED_TRIVY_VERSIONS[version];
  if (refused !== undefined) throw new Error(`Trivy ${version} is refused: ${refused}`);
  const arch = options.arch ?? process.arch;
  const assets = trivyAssets(version, arch);

  const cached = tc.find(TOOL_NAME, version, arch);
  if (cached !== '' && existsSync(join(cached, TOOL_NAME))) {
    core.info(`Trivy ${version} found in the tool cache: ${cached}`);
    return { path: join(cached, TOOL_NAME), version, source: 'tool-cache', downloaded: false };
  }

  const base = options.downloadUrl ?? DEFAULT_TRIVY_DOWNLOAD_URL;
  const checksumsUrl = trivyAssetUrl(base, version, assets.checksums);
  const archiveUrl = trivyAssetUrl(base, version, assets.archive);
  core.info(`Downloading Trivy ${version}: ${archiveUrl}`);

  const checksumsFile = await download(checksumsUrl, options.token);
  let expected: string;
  try {
    expected = expectedSha256(await readFile(checksumsFile, 'utf8'), assets, options.sha256);
  } finally {
    await rm(checksumsFile, { force: true });
  }

  const archive = await download(archiveUrl, options.token);
  let extracted: string | undefined;
  try {
    const actual = await sha256File(archive);
    if (actual !== expected) {
      throw new Error(
        `${assets.archive} from ${archiveUrl} has SHA-256 ${actual}, but ${assets.checksums} lists ${expected}; ` +
          'the download is corrupt or tampered with, so it was deleted and nothing was installed',
      );
    }
    core.info(`${assets.archive}: SHA-256 ${actual} matches ${assets.checksums}`);
    extracted = await tc.extractTar(archive);
    if (!existsSync(join(extracted, TOOL_NAME))) {
      throw new Error(`${assets.archive} has no ${TOOL_NAME} binary at its root`);
    }
    const dir = await tc.cacheDir(extracted, TOOL_NAME, version, arch);
    return { path: join(dir, TOOL_NAME), version, source: 'download', downloaded: true, sha256: actual };
  } finally {
    await rm(archive, { force: true });
    if (extracted !== undefined) await rm(extracted, { recursive: true, force: true });
  }
}

// A release archive installed into the runner's tool cache, checksum-verified: the archive is
// downloaded, its SHA-256 checked against the release's checksums file (and an optional pin) before it
// is unpacked, and the tool cached under its name and version. What a tool's release looks like (asset
// names, URL layout, the version input) is the caller's; this module knows none of it.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import * as tc from '@actions/tool-cache';
import { inputError } from '../action/inputs.js';

/** An optional SHA-256 pin of a release archive: 64 hex digits, `sha256:` prefix allowed. */
export function parseSha256Pin(name: string, input: string): string | undefined {
  const value = input.trim().toLowerCase();
  if (value === '') return undefined;
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw inputError(name, 'is not a SHA-256 (64 hex digits, optionally prefixed with sha256:)');
  }
  return hex;
}

/** The file names of a release: the archive for this runner and the checksums file that lists it. */
export interface ReleaseAssets {
  archive: string;
  checksums: string;
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

/**
 * The hash the archive must have: its line in the checksums file, which a pin must agree with.
 * `pinName` is how messages name the pin (the input that sets it).
 */
export function expectedSha256(
  checksumsText: string,
  assets: ReleaseAssets,
  pin: string | undefined,
  pinName = 'the SHA-256 pin',
): string {
  const listed = parseChecksums(checksumsText, assets.checksums).get(assets.archive);
  if (listed === undefined) {
    throw new Error(
      `${assets.checksums} has no line for ${assets.archive}: this release has no such archive, ` +
        'or the checksums file is not the one published with it',
    );
  }
  if (pin !== undefined && pin !== listed) {
    throw new Error(
      `${pinName} is ${pin}, but ${assets.checksums} lists ${listed} for ${assets.archive}; ` +
        'not installed (the pin and the release must agree)',
    );
  }
  return listed;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The Authorization header for a download: the token goes to github.com only, never to a mirror. */
export function downloadAuth(url: string, token: string | undefined): string | undefined {
  if (!token) return undefined;
  return new URL(url).origin === 'https://github.com' ? `token ${token}` : undefined;
}

/** Downloads `url` to a temporary file; a failure names the URL, plus `notFoundHint` on a 404. */
export async function download(url: string, token: string | undefined, notFoundHint = ''): Promise<string> {
  try {
    return await tc.downloadTool(url, undefined, downloadAuth(url, token));
  } catch (error) {
    const status = error instanceof tc.HTTPError ? error.httpStatusCode : undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const hint = status === 404 ? notFoundHint : '';
    throw new Error(`Downloading ${url} failed: ${reason}${hint}`, { cause: error });
  }
}

export interface ReleaseInstall {
  /** the tool-cache name, also the binary's name at the archive's root */
  tool: string;
  /** how the log names the tool, e.g. `Trivy` */
  displayName: string;
  version: string;
  /** a `process.arch` value: the tool cache keeps one copy per architecture */
  arch: string;
  /** the release archive (a .tar.gz with the binary at its root) */
  archive: { name: string; url: string };
  /** the release's checksums file; without one, `sha256` alone says what the archive must hash to */
  checksums?: { name: string; url: string };
  /** a pin of the archive's SHA-256 (parseSha256Pin); with a checksums file, the two must agree */
  sha256?: string;
  /** how messages name the pin (the input that sets it) */
  sha256Name?: string;
  /** sent only to github.com, never to another download host */
  token?: string;
  /** appended to a download's error when the server answers 404 (which input to check) */
  notFoundHint?: string;
}

export interface InstalledTool {
  /** absolute path of the binary */
  path: string;
  source: 'download' | 'tool-cache';
  /** the verified SHA-256 of the archive, when it was downloaded */
  sha256?: string;
}

/** The hash the archive must have and where that comes from, before the archive is downloaded. */
async function expectedHash(r: ReleaseInstall): Promise<{ sha256: string; from: string }> {
  const pinName = r.sha256Name ?? 'the SHA-256 pin';
  if (r.checksums === undefined) {
    if (r.sha256 === undefined) throw new Error(`${r.displayName}: no checksums file and no SHA-256 pin`);
    return { sha256: r.sha256, from: pinName };
  }
  const file = await download(r.checksums.url, r.token, r.notFoundHint);
  try {
    const assets = { archive: r.archive.name, checksums: r.checksums.name };
    const sha256 = expectedSha256(await readFile(file, 'utf8'), assets, r.sha256, pinName);
    return { sha256, from: r.checksums.name };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Installs a release into the runner's tool cache and returns its binary. A version already in the
 * tool cache is used as it is (nothing is downloaded). Otherwise the checksums file and the archive are
 * downloaded, the archive's SHA-256 is checked against its line (and the optional pin) before it is
 * unpacked, and a mismatch deletes the archive and fails, leaving the tool cache untouched.
 */
export async function installRelease(r: ReleaseInstall): Promise<InstalledTool> {
  const cached = tc.find(r.tool, r.version, r.arch);
  if (cached !== '' && existsSync(join(cached, r.tool))) {
    core.info(`${r.displayName} ${r.version} found in the tool cache: ${cached}`);
    return { path: join(cached, r.tool), source: 'tool-cache' };
  }
  core.info(`Downloading ${r.displayName} ${r.version}: ${r.archive.url}`);
  const expected = await expectedHash(r);
  const archive = await download(r.archive.url, r.token, r.notFoundHint);
  let extracted: string | undefined;
  try {
    const actual = await sha256File(archive);
    if (actual !== expected.sha256) {
      throw new Error(
        `${r.archive.name} from ${r.archive.url} has SHA-256 ${actual}, but ${expected.from} lists ${expected.sha256}; ` +
          'the download is corrupt or tampered with, so it was deleted and nothing was installed',
      );
    }
    core.info(`${r.archive.name}: SHA-256 ${actual} matches ${expected.from}`);
    extracted = await tc.extractTar(archive);
    if (!existsSync(join(extracted, r.tool))) {
      throw new Error(`${r.archive.name} has no ${r.tool} binary at its root`);
    }
    const dir = await tc.cacheDir(extracted, r.tool, r.version, r.arch);
    return { path: join(dir, r.tool), source: 'download', sha256: actual };
  } finally {
    await rm(archive, { force: true });
    if (extracted !== undefined) await rm(extracted, { recursive: true, force: true });
  }
}

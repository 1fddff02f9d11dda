// A release archive installed into the runner's tool cache, checksum-verified: the archive is
// downloaded, its SHA-256 checked against the release's checksums file (and an optional pin) before it
// is unpacked, and the tool cached under its name and version. What a tool's release looks like (asset
// names, URL layout, the version input) is the caller's; this module knows none of it.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import * as tc from '@actions/tool-cache';
import { inputError } from '../action/inputs.js';
import { cachedToolProblem, sha256File, writeInstallRecord } from './install-record.js';

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

export { sha256File } from './install-record.js';

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
  /** the tool-cache name, also the binary's name at the archive's root unless `binary` says otherwise */
  tool: string;
  /** the binary's path inside the archive (`/`-separated), when it is not `tool` at its root */
  binary?: string;
  /** how the log names the tool, e.g. `Trivy` */
  displayName: string;
  version: string;
  /** a `process.arch` value: the tool cache keeps one copy per architecture (and download URL) */
  arch: string;
  /**
   * The release archive: a .tar.gz with the binary at its root (`binary` says where otherwise), or
   * with `format: 'binary'` the executable itself (as cosign publishes `cosign-linux-amd64`), cached
   * under the name `tool`.
   */
  archive: { name: string; url: string; format?: 'tar.gz' | 'binary' };
  /** the release's checksums file; without one, `sha256` or `knownSha256` alone says what the archive must hash to */
  checksums?: { name: string; url: string };
  /** a pin of the archive's SHA-256 (parseSha256Pin); with a checksums file, the two must agree */
  sha256?: string;
  /** how messages name the pin (the input that sets it) */
  sha256Name?: string;
  /**
   * The archive's SHA-256 as the caller knows it from elsewhere (e.g. shipped in its code for the
   * official release), and how messages name it: checked like a pin, but a mismatch in the tool
   * cache reinstalls instead of failing.
   */
  knownSha256?: { sha256: string; from: string };
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
  const known = r.knownSha256;
  if (r.sha256 !== undefined && known !== undefined && r.sha256 !== known.sha256) {
    throw new Error(
      `${pinName} is ${r.sha256}, but ${known.from} is ${known.sha256} for ${r.archive.name}; ` +
        'not installed (the pin and the known hash must agree)',
    );
  }
  const pin = r.sha256 ?? known?.sha256;
  const from = r.sha256 !== undefined ? pinName : known?.from;
  if (r.checksums === undefined) {
    if (pin === undefined) throw new Error(`${r.displayName}: no checksums file and no SHA-256 pin`);
    return { sha256: pin, from: from! };
  }
  const file = await download(r.checksums.url, r.token, r.notFoundHint);
  try {
    const assets = { archive: r.archive.name, checksums: r.checksums.name };
    const sha256 = expectedSha256(await readFile(file, 'utf8'), assets, pin, from);
    return { sha256, from: from === undefined ? r.checksums.name : `${r.checksums.name} (and ${from})` };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Where the tool cache keeps this release: the architecture plus a short hash of the archive's URL,
 * so a release from one download URL is never taken for another's.
 */
export function toolCacheArch(arch: string, archiveUrl: string): string {
  return `${arch}-${createHash('sha256').update(archiveUrl).digest('hex').slice(0, 12)}`;
}

/** A new directory holding what the verified archive holds: its files, or the executable itself. */
async function unpack(archive: string, r: ReleaseInstall): Promise<string> {
  if (r.archive.format !== 'binary') return tc.extractTar(archive);
  const dir = await mkdtemp(join(process.env['RUNNER_TEMP'] || tmpdir(), `berth-${r.tool}-`));
  await copyFile(archive, join(dir, r.tool));
  await chmod(join(dir, r.tool), 0o755);
  return dir;
}

/** Installs the verified archive into the tool cache, with its record; returns the cached binary. */
async function downloadAndCache(r: ReleaseInstall, cacheArch: string): Promise<InstalledTool> {
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
    extracted = await unpack(archive, r);
    const binary = join(extracted, r.binary ?? r.tool);
    if (!existsSync(binary)) {
      throw new Error(`${r.archive.name} has no ${r.binary ?? `${r.tool} binary at its root`}`);
    }
    await writeInstallRecord(extracted, {
      url: r.archive.url,
      archiveSha256: actual,
      binarySha256: await sha256File(binary),
    });
    const dir = await tc.cacheDir(extracted, r.tool, r.version, cacheArch);
    return { path: join(dir, r.binary ?? r.tool), source: 'download', sha256: actual };
  } finally {
    await rm(archive, { force: true });
    if (extracted !== undefined) await rm(extracted, { recursive: true, force: true });
  }
}

/**
 * Installs a release into the runner's tool cache and returns its binary. A copy already in the tool
 * cache (same version, architecture and archive URL) is used when its binary still hashes to what was
 * recorded when it was installed, and that record agrees with the pin (or the known hash); otherwise
 * it is not trusted: with a pin the install fails, without one it is installed again. A download
 * fetches the checksums file and the archive, checks the archive's SHA-256 against its line (and the
 * pin) before it is unpacked, and a mismatch deletes the archive and fails, leaving the tool cache
 * untouched.
 */
export async function installRelease(r: ReleaseInstall): Promise<InstalledTool> {
  const cacheArch = toolCacheArch(r.arch, r.archive.url);
  const cached = tc.find(r.tool, r.version, cacheArch);
  if (cached !== '') {
    const expected =
      r.sha256 === undefined ? r.knownSha256 : { sha256: r.sha256, from: r.sha256Name ?? 'the SHA-256 pin' };
    const problem = await cachedToolProblem(cached, r.binary ?? r.tool, r.archive.url, expected);
    if (problem === undefined) {
      core.info(`${r.displayName} ${r.version} found in the tool cache, its binary as recorded: ${cached}`);
      return { path: join(cached, r.binary ?? r.tool), source: 'tool-cache' };
    }
    const what = `${r.displayName} ${r.version} in the tool cache (${cached}) ${problem}`;
    if (r.sha256 !== undefined) {
      throw new Error(
        `${what}; with ${r.sha256Name ?? 'a SHA-256 pin'} set it is neither used nor replaced: remove it from the tool cache`,
      );
    }
    core.warning(`${what}; installing it again`);
  }
  return downloadAndCache(r, cacheArch);
}

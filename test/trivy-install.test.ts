// The Trivy installer for real: @actions/tool-cache downloads the lab's Trivy release (built from
// source and packaged like upstream's by lab:up) from the lab's release server, the archive is verified
// against the release's checksums file before it is unpacked, and the binary runs. Requests are counted
// in the release server's log.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installTrivy, trivyAssets } from '../actions/scan/src/trivy-install.js';
import { labDir, readLab } from '../scripts/lab/lab.js';

const execFileP = promisify(execFile);
const lab = readLab();
const assets = trivyAssets(lab.trivyVersion);
const releaseLog = join(labDir, 'releases.log');
const releaseDir = join(lab.releasesDir, new URL(lab.trivyDownloadUrl).pathname, `v${lab.trivyVersion}`);
const listedSha256 = readFileSync(join(releaseDir, assets.checksums), 'utf8')
  .split('\n')
  .find((line) => line.endsWith(`  ${assets.archive}`))!
  .slice(0, 64);

let runnerDir: string;
let toolCache: string;
let temp: string;

beforeEach(() => {
  runnerDir = mkdtempSync(join(tmpdir(), 'berth-trivy-install-'));
  toolCache = join(runnerDir, 'tool-cache');
  temp = join(runnerDir, 'temp');
  mkdirSync(toolCache);
  mkdirSync(temp);
  // @actions/tool-cache reads these when it downloads and caches, as on a runner.
  vi.stubEnv('RUNNER_TOOL_CACHE', toolCache);
  vi.stubEnv('RUNNER_TEMP', temp);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(runnerDir, { recursive: true, force: true });
});

/** Runs `fn` and returns the release server's GET requests for `base` made meanwhile. */
async function requestsDuring<T>(base: string, fn: () => Promise<T>): Promise<{ result: T; gets: string[] }> {
  const offset = existsSync(releaseLog) ? statSync(releaseLog).size : 0;
  const result = await fn();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the server logs after it answers
  const path = new URL(base).pathname;
  const gets = readFileSync(releaseLog)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .map((line) => /"GET (\S+) HTTP/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined && p.startsWith(`${path}/`));
  return { result, gets };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

const install = (extra: { downloadUrl?: string; sha256?: string; version?: string } = {}) =>
  installTrivy({ version: lab.trivyVersion, downloadUrl: lab.trivyDownloadUrl, ...extra });

describe('installTrivy', () => {
  it('downloads the release, verifies it, caches it, and the binary runs; a second run downloads nothing', async () => {
    const first = await requestsDuring(lab.trivyDownloadUrl, () => install());
    expect(first.result).toMatchObject({ version: lab.trivyVersion, source: 'download', downloaded: true });
    expect(first.result.sha256).toBe(listedSha256);
    expect(first.result.path).toBe(join(toolCache, 'trivy', lab.trivyVersion, process.arch, 'trivy'));
    const prefix = new URL(lab.trivyDownloadUrl).pathname;
    expect(first.gets.sort()).toEqual(
      [
        `${prefix}/v${lab.trivyVersion}/${assets.archive}`,
        `${prefix}/v${lab.trivyVersion}/${assets.checksums}`,
      ].sort(),
    );
    const { stdout } = await execFileP(first.result.path, ['--version']);
    expect(stdout).toMatch(new RegExp(`^Version: ${lab.trivyVersion.replaceAll('.', '\\.')}$`, 'm'));
    // The upstream archive's other files came along; nothing is left in RUNNER_TEMP.
    expect(readdirSync(dirname(first.result.path)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'contrib',
      'trivy',
    ]);
    expect(readdirSync(temp)).toEqual([]);

    const second = await requestsDuring(lab.trivyDownloadUrl, () => install());
    expect(second.result).toEqual({
      path: first.result.path,
      version: lab.trivyVersion,
      source: 'tool-cache',
      downloaded: false,
    });
    expect(second.gets).toEqual([]);
  });

  it('refuses a tampered archive before unpacking it, deletes it and leaves the tool cache empty', async () => {
    // A copy of the release whose archive holds another `trivy`, served with the genuine checksums file.
    const mirror = mkdtempSync(join(lab.releasesDir, 'berth-test-tampered-'));
    try {
      const dir = join(mirror, `v${lab.trivyVersion}`);
      const payload = join(mirror, 'payload');
      mkdirSync(dir);
      mkdirSync(payload);
      copyFileSync(join(releaseDir, assets.checksums), join(dir, assets.checksums));
      await execFileP('sh', [
        '-c',
        'printf "#!/bin/sh\\necho Version: 0.74.0\\n" > "$1/trivy"',
        'sh',
        payload,
      ]);
      await execFileP('tar', ['-czf', join(dir, assets.archive), '-C', payload, 'trivy']);
      const url = `${lab.releasesUrl}/${mirror.slice(lab.releasesDir.length + 1)}`;

      const { result: message, gets } = await requestsDuring(url, () =>
        rejection(install({ downloadUrl: url })),
      );
      expect(gets).toHaveLength(2);
      const tamperedSha256 = (await execFileP('sha256sum', [join(dir, assets.archive)])).stdout.slice(0, 64);
      expect(message).toBe(
        `${assets.archive} from ${url}/v${lab.trivyVersion}/${assets.archive} has SHA-256 ${tamperedSha256}, ` +
          `but ${assets.checksums} lists ${listedSha256}; the download is corrupt or tampered with, ` +
          'so it was deleted and nothing was installed',
      );
      expect(readdirSync(toolCache)).toEqual([]);
      expect(readdirSync(temp)).toEqual([]);
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
  });

  it('refuses a trivy-sha256 pin that disagrees with the release before downloading the archive', async () => {
    const wrong = 'f'.repeat(64);
    const { result: message, gets } = await requestsDuring(lab.trivyDownloadUrl, () =>
      rejection(install({ sha256: wrong })),
    );
    expect(message).toBe(
      `trivy-sha256 is ${wrong}, but ${assets.checksums} lists ${listedSha256} for ${assets.archive}; ` +
        'not installed (the pin and the release must agree)',
    );
    expect(gets.map((p) => p.split('/').pop())).toEqual([assets.checksums]);
    expect(readdirSync(toolCache)).toEqual([]);
    expect(readdirSync(temp)).toEqual([]);

    const pinned = await install({ sha256: listedSha256 });
    expect(pinned).toMatchObject({ downloaded: true, sha256: listedSha256 });
  });

  it('says which URL failed when the release does not exist', async () => {
    const message = await rejection(install({ version: '0.73.0' }));
    expect(message).toBe(
      `Downloading ${lab.trivyDownloadUrl}/v0.73.0/trivy_0.73.0_checksums.txt failed: Unexpected HTTP ` +
        'response: 404; check trivy-version and trivy-download-url (expected <base>/v<version>/<asset>)',
    );
  });

  it('uses a preinstalled trivy from PATH and reports its version', async () => {
    vi.stubEnv('PATH', `${dirname(lab.trivyBin)}:${process.env['PATH']}`);
    expect(await installTrivy({ version: 'preinstalled' })).toEqual({
      path: lab.trivyBin,
      version: lab.trivyVersion,
      source: 'preinstalled',
      downloaded: false,
    });
    vi.stubEnv('PATH', '/nonexistent');
    expect(await rejection(installTrivy({ version: 'preinstalled' }))).toMatch(/^`trivy` is not on PATH; /);
  });
});

// The Trivy installer for real: @actions/tool-cache downloads the lab's Trivy release (built from
// source and packaged like upstream's by lab:up) from the lab's release server, the archive is verified
// against the release's checksums file before it is unpacked, and the binary runs. Requests are counted
// in the release server's log.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { installTrivy, trivyAssetUrl, trivyAssets } from '../actions/scan/src/trivy-install.js';
import { toolCacheArch } from '../lib/tools/installer.js';
import { readLab } from '../scripts/lab/lab.js';
import { useRunnerDirs } from './runner-dirs.js';
import { releaseGetsDuring } from '../scripts/lab/releases.js';

const execFileP = promisify(execFile);
const lab = readLab();
const assets = trivyAssets(lab.trivyVersion);
const releaseDir = join(lab.releasesDir, new URL(lab.trivyDownloadUrl).pathname, `v${lab.trivyVersion}`);
const listedSha256 = readFileSync(join(releaseDir, assets.checksums), 'utf8')
  .split('\n')
  .find((line) => line.endsWith(`  ${assets.archive}`))!
  .slice(0, 64);

const runner = useRunnerDirs('berth-trivy-install');

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
    const first = await releaseGetsDuring(lab.trivyDownloadUrl, () => install());
    expect(first.result).toMatchObject({ version: lab.trivyVersion, source: 'download', downloaded: true });
    expect(first.result.sha256).toBe(listedSha256);
    // Cached under an identity that includes the download URL.
    const archiveUrl = trivyAssetUrl(lab.trivyDownloadUrl, lab.trivyVersion, assets.archive);
    expect(first.result.path).toBe(
      join(runner.toolCache, 'trivy', lab.trivyVersion, toolCacheArch(process.arch, archiveUrl), 'trivy'),
    );
    expect(first.gets.sort()).toEqual(
      [`v${lab.trivyVersion}/${assets.archive}`, `v${lab.trivyVersion}/${assets.checksums}`].sort(),
    );
    const { stdout } = await execFileP(first.result.path, ['--version']);
    expect(stdout).toMatch(new RegExp(`^Version: ${lab.trivyVersion.replaceAll('.', '\\.')}$`, 'm'));
    // The upstream archive's other files came along, with the install's record; nothing is left in
    // RUNNER_TEMP.
    expect(readdirSync(dirname(first.result.path)).sort()).toEqual([
      '.berth-installed.json',
      'LICENSE',
      'README.md',
      'contrib',
      'trivy',
    ]);
    expect(readdirSync(runner.temp)).toEqual([]);
    const binarySha256 = (await execFileP('sha256sum', [first.result.path])).stdout.slice(0, 64);
    expect(
      JSON.parse(readFileSync(join(dirname(first.result.path), '.berth-installed.json'), 'utf8')),
    ).toEqual({
      url: archiveUrl,
      archiveSha256: listedSha256,
      binarySha256,
    });

    const second = await releaseGetsDuring(lab.trivyDownloadUrl, () => install());
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

      const { result: message, gets } = await releaseGetsDuring(url, () =>
        rejection(install({ downloadUrl: url })),
      );
      expect(gets).toHaveLength(2);
      const tamperedSha256 = (await execFileP('sha256sum', [join(dir, assets.archive)])).stdout.slice(0, 64);
      expect(message).toBe(
        `${assets.archive} from ${url}/v${lab.trivyVersion}/${assets.archive} has SHA-256 ${tamperedSha256}, ` +
          `but ${assets.checksums} lists ${listedSha256}; the download is corrupt or tampered with, ` +
          'so it was deleted and nothing was installed',
      );
      expect(readdirSync(runner.toolCache)).toEqual([]);
      expect(readdirSync(runner.temp)).toEqual([]);
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
  });

  it('refuses a trivy-sha256 pin that disagrees with the release before downloading the archive', async () => {
    const wrong = 'f'.repeat(64);
    const { result: message, gets } = await releaseGetsDuring(lab.trivyDownloadUrl, () =>
      rejection(install({ sha256: wrong })),
    );
    expect(message).toBe(
      `trivy-sha256 is ${wrong}, but ${assets.checksums} lists ${listedSha256} for ${assets.archive}; ` +
        'not installed (the pin and the release must agree)',
    );
    expect(gets.map((p) => p.split('/').pop())).toEqual([assets.checksums]);
    expect(readdirSync(runner.toolCache)).toEqual([]);
    expect(readdirSync(runner.temp)).toEqual([]);

    const pinned = await install({ sha256: listedSha256 });
    expect(pinned).toMatchObject({ downloaded: true, sha256: listedSha256 });
  });

  /** A fake `trivy` in place of `path`, as a step earlier in the job could plant it. */
  function plant(path: string): void {
    writeFileSync(path, '#!/bin/sh\necho "Version: 0.74.0"\necho planted\n', { mode: 0o755 });
  }

  /** What the step wrote as warnings (`::warning::` lines) since the spy started. */
  function warnings(): string[] {
    return vi
      .mocked(process.stdout.write)
      .mock.calls.map(([chunk]) => String(chunk))
      .filter((line) => line.startsWith('::warning::'));
  }

  it('catches a binary replaced in the tool cache: reinstalled without a pin, refused with one', async () => {
    const genuine = await install();
    const genuineSha256 = (await execFileP('sha256sum', [genuine.path])).stdout.slice(0, 64);
    plant(genuine.path);
    const plantedSha256 = (await execFileP('sha256sum', [genuine.path])).stdout.slice(0, 64);

    // With the (right) pin, the planted binary is neither run nor silently replaced.
    const message = await rejection(install({ sha256: listedSha256 }));
    expect(message).toBe(
      `Trivy ${lab.trivyVersion} in the tool cache (${dirname(genuine.path)}) has a trivy binary with SHA-256 ` +
        `${plantedSha256}, but ${genuineSha256} was installed (it was replaced); with trivy-sha256 set it is ` +
        'neither used nor replaced: remove it from the tool cache',
    );
    expect((await execFileP(genuine.path, ['--version'])).stdout).toContain('planted');

    // Without a pin: a warning, and the release is downloaded and verified again.
    const again = await releaseGetsDuring(lab.trivyDownloadUrl, () => install());
    expect(again.result).toMatchObject({ path: genuine.path, source: 'download', sha256: listedSha256 });
    expect(again.gets).toHaveLength(2);
    expect(warnings()).toEqual([
      expect.stringContaining(
        `::warning::Trivy ${lab.trivyVersion} in the tool cache (${dirname(genuine.path)}) has a trivy binary ` +
          `with SHA-256 ${plantedSha256}`,
      ),
    ]);
    expect((await execFileP('sha256sum', [genuine.path])).stdout.slice(0, 64)).toBe(genuineSha256);
  });

  it('catches a fake binary planted in the tool cache with no record, even with a pin of zeros', async () => {
    // Where the tool cache keeps this release: a complete-looking entry holding only the fake.
    const archiveUrl = trivyAssetUrl(lab.trivyDownloadUrl, lab.trivyVersion, assets.archive);
    const dir = join(runner.toolCache, 'trivy', lab.trivyVersion, toolCacheArch(process.arch, archiveUrl));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}.complete`, '');
    plant(join(dir, 'trivy'));

    const zeros = '0'.repeat(64);
    const { result: message, gets } = await releaseGetsDuring(lab.trivyDownloadUrl, () =>
      rejection(install({ sha256: zeros })),
    );
    expect(message).toBe(
      `Trivy ${lab.trivyVersion} in the tool cache (${dir}) has no readable .berth-installed.json (it was not ` +
        'installed by Berth); with trivy-sha256 set it is neither used nor replaced: remove it from the tool cache',
    );
    expect(gets).toEqual([]);

    const reinstalled = await install();
    expect(reinstalled).toMatchObject({ path: join(dir, 'trivy'), source: 'download', sha256: listedSha256 });
    expect((await execFileP(reinstalled.path, ['--version'])).stdout).not.toContain('planted');
  });

  it("does not reuse another download URL's cached Trivy", async () => {
    // The same release served from a second path: another URL, so another tool-cache entry.
    const mirror = mkdtempSync(join(lab.releasesDir, 'berth-test-mirror-'));
    try {
      const dir = join(mirror, `v${lab.trivyVersion}`);
      mkdirSync(dir);
      copyFileSync(join(releaseDir, assets.checksums), join(dir, assets.checksums));
      copyFileSync(join(releaseDir, assets.archive), join(dir, assets.archive));
      const url = `${lab.releasesUrl}/${mirror.slice(lab.releasesDir.length + 1)}`;

      const upstream = await install();
      const other = await releaseGetsDuring(url, () => install({ downloadUrl: url }));
      expect(other.result).toMatchObject({ source: 'download', downloaded: true, sha256: listedSha256 });
      expect(other.gets).toHaveLength(2);
      expect(dirname(other.result.path)).not.toBe(dirname(upstream.path));
      expect(readdirSync(join(runner.toolCache, 'trivy', lab.trivyVersion)).sort()).toEqual(
        [
          basename(dirname(upstream.path)),
          `${basename(dirname(upstream.path))}.complete`,
          basename(dirname(other.result.path)),
          `${basename(dirname(other.result.path))}.complete`,
        ].sort(),
      );
      // Each URL's entry is its own from then on.
      expect((await releaseGetsDuring(url, () => install({ downloadUrl: url }))).result.source).toBe(
        'tool-cache',
      );
      expect((await install()).source).toBe('tool-cache');
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
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

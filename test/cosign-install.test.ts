// The cosign installer for real: @actions/tool-cache downloads the lab's cosign release (Debian's
// cosign served in upstream's layout by lab:up: a raw executable and cosign_checksums.txt) from the
// lab's release server; the executable is checked against the checksums file before it is made
// executable and cached, and runs. A tampered executable is refused and nothing is cached.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cosignAssets, cosignAssetUrl, installCosign } from '../lib/tools/cosign-install.js';
import { toolCacheArch } from '../lib/tools/installer.js';
import { readCosignLab } from '../scripts/lab/cosign.js';
import { readLab } from '../scripts/lab/lab.js';
import { useRunnerDirs } from './runner-dirs.js';
import { releaseGetsDuring } from '../scripts/lab/releases.js';

const execFileP = promisify(execFile);
const lab = readLab();
const cl = readCosignLab();
const assets = cosignAssets();
const releaseDir = join(lab.releasesDir, new URL(cl.downloadUrl).pathname, `v${cl.version}`);
const listedSha256 = readFileSync(join(releaseDir, assets.checksums), 'utf8').slice(0, 64);

const runner = useRunnerDirs('berth-cosign-install');

describe('installCosign', () => {
  it('downloads the executable, verifies it, caches it, and it runs; a second run downloads nothing', async () => {
    const install = () => installCosign({ version: cl.version, downloadUrl: cl.downloadUrl });
    const first = await releaseGetsDuring(cl.downloadUrl, install);
    const url = cosignAssetUrl(cl.downloadUrl, cl.version, assets.archive);
    expect(first.result).toEqual({
      path: join(runner.toolCache, 'cosign', cl.version, toolCacheArch(process.arch, url), 'cosign'),
      version: cl.version,
      source: 'download',
    });
    expect(first.gets.sort()).toEqual([
      `v${cl.version}/${assets.archive}`,
      `v${cl.version}/${assets.checksums}`,
    ]);
    expect(readdirSync(dirname(first.result.path)).sort()).toEqual(['.berth-installed.json', 'cosign']);
    expect(
      JSON.parse(readFileSync(join(dirname(first.result.path), '.berth-installed.json'), 'utf8')),
    ).toEqual({
      url,
      archiveSha256: listedSha256,
      binarySha256: listedSha256,
    });
    const { stdout } = await execFileP(first.result.path, ['version']);
    expect(stdout).toMatch(/cosign: A tool for Container Signing/);
    expect(readdirSync(runner.temp)).toEqual([]);

    const second = await releaseGetsDuring(cl.downloadUrl, install);
    expect(second.result).toEqual({ ...first.result, source: 'tool-cache' });
    expect(second.gets).toEqual([]);
  });

  it('refuses a tampered executable before it is cached, naming both hashes', async () => {
    const mirror = mkdtempSync(join(lab.releasesDir, 'berth-test-cosign-'));
    try {
      const dir = join(mirror, `v${cl.version}`);
      mkdirSync(dir);
      copyFileSync(join(releaseDir, assets.checksums), join(dir, assets.checksums));
      writeFileSync(join(dir, assets.archive), '#!/bin/sh\necho pwned\n');
      const url = `${lab.releasesUrl}/${mirror.slice(lab.releasesDir.length + 1)}`;
      await expect(installCosign({ version: cl.version, downloadUrl: url })).rejects.toThrow(
        new RegExp(
          `^${assets.archive} from ${url}/v${cl.version}/${assets.archive} has SHA-256 [0-9a-f]{64}, but ${assets.checksums} lists ${listedSha256}; the download is corrupt or tampered with`,
        ),
      );
      expect(readdirSync(runner.toolCache)).toEqual([]);
      expect(readdirSync(runner.temp)).toEqual([]);
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
  });

  it('says which inputs to check when the release is not there', async () => {
    await expect(installCosign({ version: '9.9.9', downloadUrl: cl.downloadUrl })).rejects.toThrow(
      /404.*; check cosign-version and cosign-download-url \(expected <base>\/v<version>\/<asset>\)$/,
    );
  });
});

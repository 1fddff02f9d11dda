// The Trivy specifics of the install: the version input, the download URL, asset names and URLs, the
// version in `trivy --version` output, and a preinstalled trivy. The checksum-verified install is
// lib/tools/installer.test.ts; the install itself runs against the lab's release server in
// test/trivy-install.test.ts.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import {
  DEFAULT_TRIVY_DOWNLOAD_URL,
  DEFAULT_TRIVY_SHA256,
  DEFAULT_TRIVY_VERSION,
  PREINSTALLED,
  builtInTrivySha256,
  installTrivy,
  parseTrivyDownloadUrl,
  parseTrivyVersionOutput,
  resolveTrivyVersion,
  trivyAssetUrl,
  trivyAssets,
} from './trivy-install.js';

describe('resolveTrivyVersion', () => {
  it('takes x.y.z with or without a leading v, and defaults to the pinned release', () => {
    expect(DEFAULT_TRIVY_VERSION).toBe('0.74.0');
    expect(resolveTrivyVersion('0.74.0')).toBe('0.74.0');
    expect(resolveTrivyVersion(' v0.74.0 ')).toBe('0.74.0');
    expect(resolveTrivyVersion('1.2.10')).toBe('1.2.10');
    expect(resolveTrivyVersion('')).toBe(DEFAULT_TRIVY_VERSION);
    expect(resolveTrivyVersion('  ')).toBe(DEFAULT_TRIVY_VERSION);
  });

  it('takes preinstalled', () => {
    expect(resolveTrivyVersion('preinstalled')).toBe(PREINSTALLED);
    expect(resolveTrivyVersion('Preinstalled')).toBe(PREINSTALLED);
  });

  it('refuses latest, saying to pin a release', () => {
    const error = inputErrorOf(() => resolveTrivyVersion('latest'));
    expect(error.input).toBe('trivy-version');
    expect(error.message).toMatch(/^Input "trivy-version": "latest" is not allowed: pin an exact release/);
  });

  it.each([
    '^0.74.0',
    '~0.74.0',
    '>=0.70.0',
    '0.74',
    '0.74.x',
    '0.*',
    '1',
    '0.70.0 - 0.74.0',
    '0.74.0 || 0.73.0',
  ])('refuses the range %s', (value) => {
    expect(inputErrorOf(() => resolveTrivyVersion(value)).message).toContain('is a version range');
  });

  it.each(['0.74.0-rc1', 'trivy', '0.74.0.1', 'v', '0..1', '0.74.0; rm -rf /'])('refuses %s', (value) => {
    const error = inputErrorOf(() => resolveTrivyVersion(value));
    expect(error.message).toBe(
      `Input "trivy-version": ${JSON.stringify(value)} is not a Trivy release version (x.y.z, e.g. 0.74.0) or "preinstalled"`,
    );
  });

  it('refuses the compromised 0.69.4 by name, with or without v', () => {
    for (const value of ['0.69.4', 'v0.69.4']) {
      const error = inputErrorOf(() => resolveTrivyVersion(value));
      expect(error.message).toMatch(/^Input "trivy-version": Trivy 0\.69\.4 is refused: .*compromised/);
    }
    expect(resolveTrivyVersion('0.69.3')).toBe('0.69.3');
  });
});

describe('parseTrivyDownloadUrl', () => {
  it('defaults to upstream and drops trailing slashes', () => {
    expect(parseTrivyDownloadUrl('')).toBe(DEFAULT_TRIVY_DOWNLOAD_URL);
    expect(parseTrivyDownloadUrl('http://127.0.0.1:8089/mirror/trivy//')).toBe(
      'http://127.0.0.1:8089/mirror/trivy',
    );
  });

  it('refuses what is not a plain http(s) base URL', () => {
    for (const value of ['releases', 'ftp://example.com/trivy', 'file:///tmp/trivy']) {
      expect(inputErrorOf(() => parseTrivyDownloadUrl(value)).input).toBe('trivy-download-url');
    }
    expect(inputErrorOf(() => parseTrivyDownloadUrl('https://u:p@example.com/x')).message).toContain(
      'base URL only',
    );
    expect(inputErrorOf(() => parseTrivyDownloadUrl('https://example.com/x?y=1')).message).toContain(
      'base URL only',
    );
  });
});

describe('parseTrivyDownloadUrl and plain http', () => {
  const pin = 'a'.repeat(64);

  it('refuses plain http to another machine without a trivy-sha256 pin, naming the input', () => {
    for (const value of [
      'http://mirror.example.com/trivy',
      'http://10.0.0.5:8080/trivy',
      'HTTP://example.com/t',
    ]) {
      const error = inputErrorOf(() => parseTrivyDownloadUrl(value));
      expect(error.input).toBe('trivy-download-url');
      expect(error.message).toBe(
        `Input "trivy-download-url": ${JSON.stringify(value)} is plain http, which anyone on the way can ` +
          "alter together with its checksums file: use https, or set trivy-sha256 to the archive's SHA-256",
      );
    }
  });

  it('accepts plain http with a pin, and to this machine (nothing on the way)', () => {
    expect(parseTrivyDownloadUrl('http://mirror.example.com/trivy/', pin)).toBe(
      'http://mirror.example.com/trivy',
    );
    for (const value of [
      'http://127.0.0.1:8089/x',
      'http://localhost/x',
      'http://[::1]:80/x',
      'http://127.1.2.3/x',
    ]) {
      expect(parseTrivyDownloadUrl(value)).toBe(value);
    }
    // Look-alikes of loopback are other machines.
    for (const value of ['http://127.0.0.1.example.com/x', 'http://localhost.example.com/x']) {
      expect(inputErrorOf(() => parseTrivyDownloadUrl(value)).message).toContain('is plain http');
    }
    expect(parseTrivyDownloadUrl('https://mirror.example.com/trivy')).toBe(
      'https://mirror.example.com/trivy',
    );
  });

  it('is checked again by installTrivy, before anything is downloaded', async () => {
    await expect(
      installTrivy({ version: '0.74.0', downloadUrl: 'http://mirror.example.com/t' }),
    ).rejects.toThrow(/^Input "trivy-download-url": .* is plain http/);
  });
});

describe('builtInTrivySha256', () => {
  it("ships upstream's hashes of the default release for the official URL only", () => {
    expect(Object.keys(DEFAULT_TRIVY_SHA256)).toEqual([DEFAULT_TRIVY_VERSION]);
    const x64 = builtInTrivySha256(DEFAULT_TRIVY_DOWNLOAD_URL, DEFAULT_TRIVY_VERSION, 'x64');
    const arm64 = builtInTrivySha256(DEFAULT_TRIVY_DOWNLOAD_URL, DEFAULT_TRIVY_VERSION, 'arm64');
    expect(x64).toBe('2ae6fe3ee734b7fdf11335663e18c75ea12dccc76062f09f164a3b0f8be4371a');
    expect(arm64).toBe('b94ce1976bbf3c15b514b605ee88be7c6d94a29be2302847ff01cb794d47aad5');
    expect(
      builtInTrivySha256('http://127.0.0.1:8089/aquasecurity/trivy/releases/download', '0.74.0', 'x64'),
    ).toBe(undefined);
    expect(builtInTrivySha256(DEFAULT_TRIVY_DOWNLOAD_URL, '0.73.0', 'x64')).toBeUndefined();
    expect(builtInTrivySha256(DEFAULT_TRIVY_DOWNLOAD_URL, DEFAULT_TRIVY_VERSION, 's390x')).toBeUndefined();
  });
});

describe('trivyAssets and trivyAssetUrl', () => {
  it('names upstream Linux assets by architecture', () => {
    expect(trivyAssets('0.74.0', 'x64', 'linux')).toEqual({
      archive: 'trivy_0.74.0_Linux-64bit.tar.gz',
      checksums: 'trivy_0.74.0_checksums.txt',
    });
    expect(trivyAssets('0.74.0', 'arm64', 'linux').archive).toBe('trivy_0.74.0_Linux-ARM64.tar.gz');
  });

  it('refuses other architectures and platforms, pointing at preinstalled', () => {
    expect(() => trivyAssets('0.74.0', 's390x', 'linux')).toThrow(
      /linux s390x; .*trivy-version: preinstalled/,
    );
    expect(() => trivyAssets('0.74.0', 'x64', 'darwin')).toThrow(/darwin x64/);
  });

  it('puts assets under <base>/v<version>/ like GitHub release downloads', () => {
    expect(trivyAssetUrl(DEFAULT_TRIVY_DOWNLOAD_URL, '0.74.0', 'trivy_0.74.0_checksums.txt')).toBe(
      'https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt',
    );
    expect(trivyAssetUrl('http://127.0.0.1:8089/x/', '1.0.0', 'a.tar.gz')).toBe(
      'http://127.0.0.1:8089/x/v1.0.0/a.tar.gz',
    );
  });
});

describe('parseTrivyVersionOutput', () => {
  it('reads the Version line', () => {
    expect(parseTrivyVersionOutput('Version: 0.74.0\n')).toBe('0.74.0');
    expect(
      parseTrivyVersionOutput('Version: 0.74.0\nVulnerability DB:\n  Version: 2\n  UpdatedAt: 2026-01-01\n'),
    ).toBe('0.74.0');
    expect(parseTrivyVersionOutput('trivy: command not found')).toBeUndefined();
  });
});

describe('installTrivy', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** A directory with a fake `trivy` that reports `version`, first on PATH. */
  function fakeTrivyOnPath(version: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'berth-fake-trivy-'));
    writeFileSync(join(dir, 'trivy'), `#!/bin/sh\necho "Version: ${version}"\n`);
    chmodSync(join(dir, 'trivy'), 0o755);
    vi.stubEnv('PATH', `${dir}:${process.env['PATH']}`);
    return join(dir, 'trivy');
  }

  it('uses a preinstalled trivy and reports its version', async () => {
    const path = fakeTrivyOnPath('0.70.1');
    expect(await installTrivy({ version: PREINSTALLED })).toEqual({
      path,
      version: '0.70.1',
      source: 'preinstalled',
      downloaded: false,
    });
  });

  it('refuses a preinstalled trivy that is a refused release', async () => {
    const path = fakeTrivyOnPath('0.69.4');
    await expect(installTrivy({ version: PREINSTALLED })).rejects.toThrow(
      `The trivy on PATH (${path}) is 0.69.4, which is refused: it is the malicious release`,
    );
  });

  it('refuses to install a refused release even when asked directly', async () => {
    await expect(installTrivy({ version: '0.69.4' })).rejects.toThrow(/^Trivy 0\.69\.4 is refused: /);
  });
});

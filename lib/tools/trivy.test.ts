// The pure parts of the Trivy installer: the version input, asset names and URLs, the checksums file
// and the pin, and the version in `trivy --version` output. The install itself runs against the lab's
// release server in test/trivy-install.test.ts.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputErrorOf } from '../action/testing.js';
import {
  DEFAULT_TRIVY_DOWNLOAD_URL,
  DEFAULT_TRIVY_VERSION,
  PREINSTALLED,
  downloadAuth,
  expectedSha256,
  installTrivy,
  parseChecksums,
  parseSha256Pin,
  parseTrivyDownloadUrl,
  parseTrivyVersionOutput,
  resolveTrivyVersion,
  sha256File,
  trivyAssetUrl,
  trivyAssets,
} from './trivy.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

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

describe('parseSha256Pin', () => {
  it('is optional, lower-cases and takes a sha256: prefix', () => {
    expect(parseSha256Pin('')).toBeUndefined();
    expect(parseSha256Pin(A.toUpperCase())).toBe(A);
    expect(parseSha256Pin(`sha256:${B}`)).toBe(B);
  });

  it('refuses what is not 64 hex digits, without echoing the value', () => {
    const error = inputErrorOf(() => parseSha256Pin('abc123'));
    expect(error.message).toBe(
      'Input "trivy-sha256": is not a SHA-256 (64 hex digits, optionally prefixed with sha256:)',
    );
    expect(inputErrorOf(() => parseSha256Pin(`${A}0`)).input).toBe('trivy-sha256');
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

const assets = trivyAssets('0.74.0', 'x64', 'linux');
const checksums = [
  `${A}  trivy_0.74.0_Linux-ARM64.tar.gz`,
  `${B.toUpperCase()}  trivy_0.74.0_Linux-64bit.tar.gz`,
  `${C} *trivy_0.74.0_windows-64bit.zip`,
  '',
].join('\n');

describe('downloadAuth', () => {
  it('sends the token to github.com only', () => {
    const url = trivyAssetUrl(DEFAULT_TRIVY_DOWNLOAD_URL, '0.74.0', 'trivy_0.74.0_checksums.txt');
    expect(downloadAuth(url, 'ghs_x')).toBe('token ghs_x');
    expect(downloadAuth(url, undefined)).toBeUndefined();
    expect(downloadAuth(url, '')).toBeUndefined();
    expect(downloadAuth('https://mirror.example.com/trivy/v0.74.0/x.tar.gz', 'ghs_x')).toBeUndefined();
    expect(
      downloadAuth('http://github.com/aquasecurity/trivy/releases/download/v0.74.0/x', 'ghs_x'),
    ).toBeUndefined();
    expect(downloadAuth('https://github.com.evil.example/x', 'ghs_x')).toBeUndefined();
  });
});

describe('parseChecksums', () => {
  it('reads sha256sum lines, text and binary mode, CRLF and blank lines', () => {
    const sums = parseChecksums(checksums.replaceAll('\n', '\r\n') + '\n\n');
    expect([...sums]).toEqual([
      ['trivy_0.74.0_Linux-ARM64.tar.gz', A],
      ['trivy_0.74.0_Linux-64bit.tar.gz', B],
      ['trivy_0.74.0_windows-64bit.zip', C],
    ]);
  });

  it('refuses malformed lines and conflicting duplicates', () => {
    expect(() => parseChecksums(`${A}  ok.tar.gz\nnot a checksum line\n`, 'sums.txt')).toThrow(
      'sums.txt: line 2 is not "<sha256>  <file name>"',
    );
    expect(() => parseChecksums(`${A.slice(1)}  short.tar.gz`)).toThrow(/line 1/);
    expect(() => parseChecksums(`${A}  x.tar.gz\n${B}  x.tar.gz`)).toThrow('x.tar.gz is listed twice');
    expect(parseChecksums(`${A}  x.tar.gz\n${A}  x.tar.gz`).size).toBe(1);
  });
});

describe('expectedSha256', () => {
  it("returns the archive's line", () => {
    expect(expectedSha256(checksums, assets, undefined)).toBe(B);
  });

  it('accepts a pin that agrees and refuses one that does not, naming both', () => {
    expect(expectedSha256(checksums, assets, B)).toBe(B);
    expect(() => expectedSha256(checksums, assets, A)).toThrow(
      `trivy-sha256 is ${A}, but trivy_0.74.0_checksums.txt lists ${B} for trivy_0.74.0_Linux-64bit.tar.gz`,
    );
  });

  it('says so when the checksums file has no line for the archive', () => {
    expect(() => expectedSha256(`${A}  trivy_0.74.0_Linux-ARM64.tar.gz\n`, assets, undefined)).toThrow(
      'trivy_0.74.0_checksums.txt has no line for trivy_0.74.0_Linux-64bit.tar.gz',
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

describe('sha256File', () => {
  it('hashes a file by streaming it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'berth-sha-')), 'f');
    writeFileSync(file, 'abc');
    expect(await sha256File(file)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
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

// The checksum-verified install of a release archive: the SHA-256 pin, the checksums file and the
// hash the archive must have, the download's Authorization header, and hashing a file. The install
// itself (Trivy's release) runs against the lab's release server in test/trivy-install.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../action/testing.js';
import { INSTALL_RECORD, cachedToolProblem, writeInstallRecord } from './install-record.js';
import {
  downloadAuth,
  expectedSha256,
  parseChecksums,
  parseSha256Pin,
  sha256File,
  toolCacheArch,
} from './installer.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('parseSha256Pin', () => {
  it('is optional, lower-cases and takes a sha256: prefix', () => {
    expect(parseSha256Pin('trivy-sha256', '')).toBeUndefined();
    expect(parseSha256Pin('trivy-sha256', A.toUpperCase())).toBe(A);
    expect(parseSha256Pin('trivy-sha256', `sha256:${B}`)).toBe(B);
  });

  it('refuses what is not 64 hex digits, without echoing the value', () => {
    const error = inputErrorOf(() => parseSha256Pin('trivy-sha256', 'abc123'));
    expect(error.message).toBe(
      'Input "trivy-sha256": is not a SHA-256 (64 hex digits, optionally prefixed with sha256:)',
    );
    expect(inputErrorOf(() => parseSha256Pin('trivy-sha256', `${A}0`)).input).toBe('trivy-sha256');
  });
});

// A release's assets, named as Trivy names them for Linux x64.
const assets = { archive: 'trivy_0.74.0_Linux-64bit.tar.gz', checksums: 'trivy_0.74.0_checksums.txt' };
const checksums = [
  `${A}  trivy_0.74.0_Linux-ARM64.tar.gz`,
  `${B.toUpperCase()}  trivy_0.74.0_Linux-64bit.tar.gz`,
  `${C} *trivy_0.74.0_windows-64bit.zip`,
  '',
].join('\n');

describe('downloadAuth', () => {
  it('sends the token to github.com only', () => {
    const url = 'https://github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt';
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
    expect(() => expectedSha256(checksums, assets, A, 'trivy-sha256')).toThrow(
      `trivy-sha256 is ${A}, but trivy_0.74.0_checksums.txt lists ${B} for trivy_0.74.0_Linux-64bit.tar.gz`,
    );
  });

  it('says so when the checksums file has no line for the archive', () => {
    expect(() => expectedSha256(`${A}  trivy_0.74.0_Linux-ARM64.tar.gz\n`, assets, undefined)).toThrow(
      'trivy_0.74.0_checksums.txt has no line for trivy_0.74.0_Linux-64bit.tar.gz',
    );
  });
});

describe('sha256File', () => {
  it('hashes a file by streaming it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'berth-sha-')), 'f');
    writeFileSync(file, 'abc');
    expect(await sha256File(file)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('toolCacheArch', () => {
  it('keeps one copy per architecture and archive URL', () => {
    const a = toolCacheArch('x64', 'https://github.com/o/r/releases/download/v1.0.0/t.tar.gz');
    expect(a).toMatch(/^x64-[0-9a-f]{12}$/);
    expect(toolCacheArch('x64', 'https://github.com/o/r/releases/download/v1.0.0/t.tar.gz')).toBe(a);
    expect(toolCacheArch('x64', 'https://mirror.example.com/v1.0.0/t.tar.gz')).not.toBe(a);
    expect(toolCacheArch('arm64', 'https://github.com/o/r/releases/download/v1.0.0/t.tar.gz')).not.toBe(a);
  });
});

describe('cachedToolProblem', () => {
  const url = 'https://example.com/v1/tool.tar.gz';

  async function cachedTool(binary: string): Promise<{ dir: string; sha: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cached-'));
    writeFileSync(join(dir, 'tool'), binary);
    const sha = await sha256File(join(dir, 'tool'));
    return { dir, sha };
  }

  it('trusts a binary that still hashes to its record, agreeing with the expected archive hash', async () => {
    const { dir, sha } = await cachedTool('genuine');
    await writeInstallRecord(dir, { url, archiveSha256: A, binarySha256: sha });
    expect(await cachedToolProblem(dir, 'tool', url, undefined)).toBeUndefined();
    expect(await cachedToolProblem(dir, 'tool', url, { sha256: A, from: 'the pin' })).toBeUndefined();
  });

  it('distrusts a copy without a record, from another URL, of another archive, or replaced', async () => {
    const { dir, sha } = await cachedTool('genuine');
    expect(await cachedToolProblem(dir, 'tool', url, undefined)).toBe(
      'has no readable .berth-installed.json (it was not installed by Berth)',
    );
    writeFileSync(join(dir, INSTALL_RECORD), '{"url": 1}');
    expect(await cachedToolProblem(dir, 'tool', url, undefined)).toMatch(/^has no readable/);
    await writeInstallRecord(dir, { url, archiveSha256: A, binarySha256: sha });
    expect(await cachedToolProblem(dir, 'tool', 'https://other.example.com/t.tar.gz', undefined)).toBe(
      `was installed from ${url}, not https://other.example.com/t.tar.gz`,
    );
    expect(await cachedToolProblem(dir, 'tool', url, { sha256: B, from: 'trivy-sha256' })).toBe(
      `was installed from an archive with SHA-256 ${A}, but trivy-sha256 is ${B}`,
    );
    writeFileSync(join(dir, 'tool'), 'planted');
    const planted = await sha256File(join(dir, 'tool'));
    expect(await cachedToolProblem(dir, 'tool', url, undefined)).toBe(
      `has a tool binary with SHA-256 ${planted}, but ${sha} was installed (it was replaced)`,
    );
  });
});

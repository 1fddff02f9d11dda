// The checksum-verified install of a release archive: the SHA-256 pin, the checksums file and the
// hash the archive must have, the download's Authorization header, and hashing a file. The install
// itself (Trivy's release) runs against the lab's release server in test/trivy-install.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../action/testing.js';
import { downloadAuth, expectedSha256, parseChecksums, parseSha256Pin, sha256File } from './installer.js';

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

import { describe, expect, it } from 'vitest';
import {
  builtInCosignSha256,
  cosignAssets,
  cosignAssetUrl,
  DEFAULT_COSIGN_DOWNLOAD_URL,
  DEFAULT_COSIGN_VERSION,
  parseCosignDownloadUrl,
  parseCosignVersion,
} from './cosign-install.js';

describe('cosign release layout', () => {
  it("names upstream's raw executables and checksums file", () => {
    expect(cosignAssets('x64', 'linux')).toEqual({
      archive: 'cosign-linux-amd64',
      checksums: 'cosign_checksums.txt',
    });
    expect(cosignAssets('arm64', 'linux').archive).toBe('cosign-linux-arm64');
    expect(() => cosignAssets('x64', 'darwin')).toThrow(
      /Linux x64 and arm64 runners only, this one is darwin x64/,
    );
    expect(() => cosignAssets('ia32', 'linux')).toThrow(/this one is linux ia32/);
  });

  it('puts assets under <base>/v<version>/', () => {
    expect(cosignAssetUrl(DEFAULT_COSIGN_DOWNLOAD_URL, '2.6.5', 'cosign-linux-amd64')).toBe(
      'https://github.com/sigstore/cosign/releases/download/v2.6.5/cosign-linux-amd64',
    );
    expect(cosignAssetUrl('http://127.0.0.1:8089/x/', '2.5.0', 'a')).toBe('http://127.0.0.1:8089/x/v2.5.0/a');
  });

  it("ships the default release's hashes for upstream's URL only", () => {
    expect(builtInCosignSha256(DEFAULT_COSIGN_DOWNLOAD_URL, DEFAULT_COSIGN_VERSION, 'x64')).toMatch(
      /^[0-9a-f]{64}$/,
    );
    expect(builtInCosignSha256(DEFAULT_COSIGN_DOWNLOAD_URL, DEFAULT_COSIGN_VERSION, 'arm64')).toMatch(
      /^[0-9a-f]{64}$/,
    );
    expect(
      builtInCosignSha256('https://mirror.example.com/cosign', DEFAULT_COSIGN_VERSION, 'x64'),
    ).toBeUndefined();
    expect(builtInCosignSha256(DEFAULT_COSIGN_DOWNLOAD_URL, '2.5.0', 'x64')).toBeUndefined();
  });
});

describe('cosign inputs', () => {
  it('takes an exact version, the default when empty, never latest or a range', () => {
    expect(parseCosignVersion('')).toBe(DEFAULT_COSIGN_VERSION);
    expect(parseCosignVersion('v2.5.0')).toBe('2.5.0');
    expect(() => parseCosignVersion('latest')).toThrow(/^Input "cosign-version": "latest" is not allowed/);
    expect(() => parseCosignVersion('^2', 'x')).toThrow(/^Input "x": "\^2" is a version range/);
  });

  it('takes https, or plain http to this machine only', () => {
    expect(parseCosignDownloadUrl('')).toBe(DEFAULT_COSIGN_DOWNLOAD_URL);
    expect(parseCosignDownloadUrl('http://127.0.0.1:8089/c/')).toBe('http://127.0.0.1:8089/c');
    expect(() => parseCosignDownloadUrl('http://mirror.example.com/c')).toThrow(
      /^Input "cosign-download-url": .* is plain http/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  manifestSize,
  parseChallenge,
  parsePlatform,
  pickPlatformManifest,
  registryBaseUrl,
} from './registry.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const index = {
  manifests: [
    { digest: d(1), size: 500, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { digest: d(2), size: 500, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { digest: d(3), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
    { digest: d(4), size: 500, platform: { os: 'unknown', architecture: 'unknown' } },
  ],
};

describe('parsePlatform', () => {
  it('turns docker info words into OCI names', () => {
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64', variant: undefined });
    expect(parsePlatform('linux/aarch64')).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: undefined,
    });
    expect(parsePlatform('linux/armv7l')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/s390x')).toEqual({ os: 'linux', architecture: 's390x', variant: undefined });
    expect(parsePlatform('')).toBeUndefined();
    expect(parsePlatform('linux/x86 64; rm')).toBeUndefined();
  });
});

describe('pickPlatformManifest', () => {
  it("picks the host's platform, its variant first, never an attestation", () => {
    expect(pickPlatformManifest(index, { os: 'linux', architecture: 'amd64' })).toBe(d(3));
    expect(pickPlatformManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' })).toBe(d(2));
    expect(pickPlatformManifest(index, { os: 'linux', architecture: 'arm', variant: 'v8' })).toBe(d(1));
    expect(pickPlatformManifest(index, { os: 'linux', architecture: 'arm64' })).toBeUndefined();
  });

  it('rejects what is not an index of digests', () => {
    expect(() => pickPlatformManifest({}, { os: 'linux', architecture: 'amd64' })).toThrow('no manifests');
    const bad = { manifests: [{ digest: 'sha256:../x', size: 1 }] };
    expect(() => pickPlatformManifest(bad, { os: 'linux', architecture: 'amd64' })).toThrow('index entry 0');
  });
});

describe('manifestSize', () => {
  const manifest = (sizes: unknown[]) => ({
    config: { digest: d(5), size: 100 },
    layers: sizes.map((size, i) => ({ digest: d(i), size })),
  });

  it('sums the config and the layers', () => {
    expect(manifestSize(manifest([1000, 2000]))).toBe(3100);
    expect(manifestSize(manifest([]))).toBe(100);
  });

  it('accepts only non-negative safe integer sizes', () => {
    for (const size of [-1, 1.5, '10', null, 2 ** 53, Infinity]) {
      expect(() => manifestSize(manifest([size]))).toThrow('layer 0 has no valid size');
    }
    expect(() => manifestSize(manifest([2 ** 52, 2 ** 52]))).toThrow('overflow');
    expect(() => manifestSize({ config: { digest: d(5), size: 1 } })).toThrow('no layers');
  });
});

describe('parseChallenge', () => {
  it('reads the Bearer challenge of ghcr.io and Docker Hub', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull',
      },
    });
    expect(parseChallenge('bearer realm=https://ghcr.io/token, service="ghcr.io"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io' },
    });
  });

  it('reads Basic, quoted escapes, and nothing else', () => {
    expect(parseChallenge('Basic realm="Registry \\"lab\\""')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry "lab"' },
    });
    expect(parseChallenge('Digest realm="x"')).toBeUndefined();
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe('registryBaseUrl', () => {
  it('uses plain HTTP for loopback registries only, and Docker Hub by its API host', () => {
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost.example.com:5000')).toBe('https://localhost.example.com:5000');
    expect(registryBaseUrl('10.0.0.1:5000')).toBe('https://10.0.0.1:5000');
    expect(registryBaseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(registryBaseUrl('docker.io')).toBe('https://registry-1.docker.io');
  });
});

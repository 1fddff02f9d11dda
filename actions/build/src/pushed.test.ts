import { describe, expect, it } from 'vitest';
import { imageChecks } from './checks.js';
import { configFacts, indexEntries, predicateTypes } from './pushed.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('the pushed image read back', () => {
  const index = {
    manifests: [
      { digest: d('a'), platform: { os: 'linux', architecture: 'amd64' } },
      { digest: d('b'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      {
        digest: d('c'),
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: {
          'vnd.docker.reference.type': 'attestation-manifest',
          'vnd.docker.reference.digest': d('a'),
        },
      },
    ],
  };
  it('tells platform images from attestation manifests', () => {
    expect(indexEntries(index)).toEqual([
      { digest: d('a'), kind: 'image', platform: 'linux/amd64' },
      { digest: d('b'), kind: 'image', platform: 'linux/arm64/v8' },
      { digest: d('c'), kind: 'attestation' },
    ]);
  });
  it('refuses entries a registry could use to smuggle text', () => {
    expect(() => indexEntries({ manifests: [{ digest: 'sha256:zz' }] })).toThrow(
      /entry 0 has no valid digest/,
    );
    expect(() =>
      indexEntries({
        manifests: [{ digest: d('a'), platform: { os: 'linux', architecture: 'amd64\n::error::x' } }],
      }),
    ).toThrow(/entry 0 has no valid platform/);
    expect(() => indexEntries({})).toThrow(/lists no manifests/);
  });
  it('reads predicate types, keeping only URL-like ones', () => {
    const manifest = {
      layers: [
        { annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } },
        { annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } },
        { annotations: { 'in-toto.io/predicate-type': '::warning::x' } },
      ],
    };
    expect(predicateTypes(manifest)).toEqual([
      'https://slsa.dev/provenance/v0.2',
      'https://spdx.dev/Document',
    ]);
  });
  it('reads the user and config digest', () => {
    expect(configFacts({ config: { digest: d('e') } }, '{"config":{"User":"10001"}}')).toEqual({
      configDigest: d('e'),
      user: '10001',
    });
    expect(configFacts({ config: { digest: d('e') } }, '{"config":{}}').user).toBe('');
    expect(() => configFacts({ config: {} }, '{}')).toThrow(/no valid config digest/);
  });
});

describe('checks per platform', () => {
  it('fails each platform on its own size and user', () => {
    const out = imageChecks(
      [
        { platform: 'linux/amd64', size: 5_000_000, user: '10001' },
        { platform: 'linux/arm64', size: 12_000_000, user: '' },
      ],
      10_000_000,
      'error',
    );
    expect(out.failures).toEqual([
      'linux/arm64 image size (compressed, in the registry) 12.0 MB (12000000 bytes) exceeds max-size 10.0 MB (10000000 bytes)',
      'the linux/arm64 image runs as root (no USER, so root); add a non-root USER (e.g. USER 10001:10001) to the last stage',
    ]);
    expect(out.lines.at(-1)).toMatch(/^\*\*Refused, no tag added:\*\* /);
  });
  it('warns only, under warn', () => {
    const out = imageChecks([{ size: 1, user: 'root' }], undefined, 'warn');
    expect(out.failures).toEqual([]);
    expect(out.warning).toMatch(/^the final image runs as root \(USER root\)/);
  });
});

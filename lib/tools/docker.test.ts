// The pure parts of lib/tools/docker.ts: image references and what an image's config says about itself.
import { describe, expect, it } from 'vitest';
import {
  imageFactsFromConfig,
  imageFactsFromImagetools,
  isRegistryHost,
  isRootUser,
  parseImageRef,
} from './docker.js';

describe('parseImageRef', () => {
  it('registry, repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageRef(`localhost:5000/acme/api:1@${digest}`)).toEqual({
      registry: 'localhost:5000',
      repository: 'acme/api',
      tag: '1',
      digest,
    });
    expect(parseImageRef('postgres:16')).toEqual({
      registry: 'docker.io',
      repository: 'library/postgres',
      tag: '16',
    });
    expect(parseImageRef('Not A Ref')).toBeUndefined();
    expect(isRootUser('0:0')).toBe(true);
  });

  it('refuses a registry that a command line or a comma-separated option could misread', () => {
    for (const ref of ['-evil.test/api', 'evil-.test/api', 'a.test,url=x/api', 'a.test=b/api', '.test/api']) {
      expect(parseImageRef(ref), ref).toBeUndefined();
    }
    expect(parseImageRef('[::1]:5000/api')?.registry).toBe('[::1]:5000');
  });
});

describe('isRegistryHost', () => {
  it('accepts host[:port] and nothing that starts with "-"', () => {
    for (const ok of [
      'ghcr.io',
      'localhost:5000',
      '10.0.0.1:443',
      'my-registry.example.com',
      '[fd00::1]:5000',
    ])
      expect(isRegistryHost(ok), ok).toBe(true);
    for (const bad of ['-H', '--help', 'a.-b', 'a..b', 'a.test:', 'a.test/x', 'a b', 'a,b', ''])
      expect(isRegistryHost(bad), bad).toBe(false);
  });
});

describe('image facts', () => {
  it('from docker image inspect .Config: user, and a health check that is not NONE', () => {
    expect(
      imageFactsFromConfig({ User: '10001:10001', Healthcheck: { Test: ['CMD', '/api', 'healthcheck'] } }),
    ).toEqual({
      user: '10001:10001',
      healthcheck: true,
    });
    expect(imageFactsFromConfig({ Healthcheck: { Test: ['NONE'] } })).toEqual({
      user: '',
      healthcheck: false,
    });
    expect(imageFactsFromConfig(null)).toEqual({ user: '', healthcheck: false });
  });

  it('from imagetools: one config, or this platform of an index', () => {
    const single = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { User: 'app', Healthcheck: { Test: ['CMD-SHELL', 'true'] } },
      rootfs: { type: 'layers', diff_ids: [] },
    });
    expect(imageFactsFromImagetools(single)).toEqual({ user: 'app', healthcheck: true });
    const index = JSON.stringify({
      'linux/amd64': { config: { User: 'amd' } },
      'linux/arm64': { config: { User: 'arm' } },
    });
    expect(imageFactsFromImagetools(index, 'arm64')).toEqual({ user: 'arm', healthcheck: false });
    expect(imageFactsFromImagetools(index, 's390x')).toEqual({ user: 'amd', healthcheck: false });
    expect(imageFactsFromImagetools('{}')).toBeUndefined();
    expect(imageFactsFromImagetools('not json')).toBeUndefined();
  });
});

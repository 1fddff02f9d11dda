import { describe, expect, it } from 'vitest';
import { contextFromEnv } from '../../../lib/action/github.js';
import { attestationArgs, buildxArgs, mergeLabels, ociLabels } from './buildx.js';
import {
  cacheArgs,
  chooseCacheBackend,
  defaultCacheScope,
  localCacheStaging,
  type CacheSettings,
} from './cache.js';
import { stageNames } from './dockerfile.js';
import type { Inputs } from './inputs.js';

const cache: CacheSettings = {
  backend: 'local',
  mode: 'max',
  scope: 'api',
  ref: 'reg/api:buildcache',
  dir: '/c/api',
  dirExists: true,
  inlineFrom: 'reg/api:main',
};

const inputs: Inputs = {
  context: '/src/app',
  file: '/src/app/Dockerfile',
  target: 'runtime',
  'build-args': ['BASE_IMAGE=reg/debian:12', 'A=b=c'],
  platforms: ['linux/amd64', 'linux/arm64'],
  secrets: { token: 'x' },
  image: 'reg/api',
  tags: [],
  labels: [],
  push: 'true',
  load: false,
  cache: 'local',
  'cache-ref': 'reg/api:buildcache',
  'cache-dir': '/c/api',
  'cache-mode': 'max',
  'cache-scope': 'api',
  'require-non-root': 'error',
  'driver-opts': [],
  provenance: 'min',
  sbom: false,
  keyless: false,
  'transparency-log': true,
  'cosign-version': '2.6.5',
  'cosign-download-url': 'https://github.com/sigstore/cosign/releases/download',
};

describe('buildxArgs', () => {
  const plan = {
    builder: 'berth-1a2b',
    builderId: 'https://github.com/acme/shop/actions/runs/7',
    refs: ['reg/api:main', 'reg/api:sha-1234567'],
    labels: { 'org.opencontainers.image.title': 'api' },
    metadataFile: '/t/meta.json',
    secretFiles: { token: '/t/secrets/token' },
    cache,
  };
  it('pushes by digest only (no tag), with labels, secrets as files, cache and provenance', () => {
    const args = buildxArgs(inputs, plan);
    expect(args).toEqual([
      'buildx',
      'build',
      '--builder',
      'berth-1a2b',
      '--progress',
      'plain',
      '--file',
      '/src/app/Dockerfile',
      '--metadata-file',
      '/t/meta.json',
      '--target',
      'runtime',
      '--platform',
      'linux/amd64,linux/arm64',
      '--build-arg',
      'BASE_IMAGE=reg/debian:12',
      '--build-arg',
      'A=b=c',
      '--label',
      'org.opencontainers.image.title=api',
      '--secret',
      'id=token,src=/t/secrets/token',
      '--cache-from',
      'type=local,src=/c/api',
      '--cache-to',
      'type=local,dest=/c/api-new,mode=max',
      '--provenance',
      'mode=min,version=v0.2,builder-id=https://github.com/acme/shop/actions/runs/7',
      '--sbom',
      'false',
      '--output',
      'type=image,name=reg/api,push-by-digest=true,name-canonical=true,push=true',
      '--',
      '/src/app',
    ]);
    expect(args.join(' ')).not.toContain('=x');
    expect(args).not.toContain('--tag');
  });
  it('loads under the tags when nothing is pushed, and attests nothing', () => {
    const args = buildxArgs({ ...inputs, push: 'false', provenance: 'false', platforms: [] }, plan);
    expect(args.slice(args.indexOf('--provenance'))).toEqual([
      '--provenance',
      'false',
      '--sbom',
      'false',
      '--load',
      '--tag',
      'reg/api:main',
      '--tag',
      'reg/api:sha-1234567',
      '--',
      '/src/app',
    ]);
  });
  it('asks for an SBOM from the default or a named generator', () => {
    expect(attestationArgs({ provenance: 'max', sbom: true }, undefined)).toEqual([
      '--provenance',
      'mode=max,version=v0.2',
      '--sbom',
      'true',
    ]);
    expect(
      attestationArgs({ provenance: 'false', sbom: true, 'sbom-generator': 'reg/scanner:1' }, undefined),
    ).toEqual(['--provenance', 'false', '--sbom', 'generator=reg/scanner:1']);
  });
});

describe('cacheArgs', () => {
  it('speaks each backend', () => {
    expect(cacheArgs({ ...cache, backend: 'gha' })).toEqual([
      '--cache-from',
      'type=gha,scope=api',
      '--cache-to',
      'type=gha,scope=api,mode=max',
    ]);
    expect(cacheArgs({ ...cache, backend: 'registry', mode: 'min' })).toEqual([
      '--cache-from',
      'type=registry,ref=reg/api:buildcache',
      '--cache-to',
      'type=registry,ref=reg/api:buildcache,mode=min',
    ]);
    expect(cacheArgs({ ...cache, backend: 'inline' })).toEqual([
      '--cache-from',
      'reg/api:main',
      '--cache-to',
      'type=inline',
    ]);
    expect(cacheArgs({ ...cache, backend: 'none' })).toEqual([]);
  });
  it('does not read a local cache that does not exist yet, and writes beside it', () => {
    expect(cacheArgs({ ...cache, dirExists: false })).toEqual([
      '--cache-to',
      'type=local,dest=/c/api-new,mode=max',
    ]);
    expect(localCacheStaging('/c/api/')).toBe('/c/api-new');
  });
  it('defaults to gha only where the runner exposes the cache service and buildx can use it', () => {
    expect(chooseCacheBackend(undefined, { ACTIONS_RESULTS_URL: 'https://results' }, '0.21.0')).toEqual({
      backend: 'gha',
    });
    expect(chooseCacheBackend(undefined, { ACTIONS_CACHE_URL: 'https://cache' }, '0.23.1').backend).toBe(
      'gha',
    );
    expect(chooseCacheBackend(undefined, {}, '0.23.1')).toEqual({ backend: 'local' });
    const old = chooseCacheBackend(undefined, { ACTIONS_RESULTS_URL: 'https://results' }, '0.13.1');
    expect(old.backend).toBe('local');
    expect(old.warning).toMatch(/buildx 0\.13\.1 cannot use it .*Set cache to choose/);
  });
  it('keeps an explicit cache input, and refuses gha with a buildx too old for it, naming the input', () => {
    expect(chooseCacheBackend('registry', { ACTIONS_RESULTS_URL: 'https://results' }, '0.13.1')).toEqual({
      backend: 'registry',
    });
    expect(() => chooseCacheBackend('gha', { ACTIONS_RESULTS_URL: 'https://results' }, '0.13.1')).toThrow(
      /^Input "cache": gha needs buildx 0\.21\.0 or later/,
    );
  });
  it('derives a scope per image and target', () => {
    expect(defaultCacheScope('ghcr.io/org/api', 'runtime')).toBe('ghcr.io-org-api-runtime');
    expect(defaultCacheScope('localhost:5000/api', undefined)).toBe('localhost-5000-api');
  });
});

describe('labels', () => {
  it('adds OCI source, revision, created, version and title; user labels win', () => {
    const ctx = contextFromEnv(
      { GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'abc123', GITHUB_SERVER_URL: 'https://github.com' },
      '{}',
    );
    const oci = ociLabels(ctx, 'ghcr.io/acme/api', '1.2.3', new Date('2026-01-02T03:04:05Z'));
    expect(oci).toEqual({
      'org.opencontainers.image.title': 'api',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
      'org.opencontainers.image.revision': 'abc123',
    });
    expect(mergeLabels(oci, ['org.opencontainers.image.title=shop-api', 'team=core'])).toMatchObject({
      'org.opencontainers.image.title': 'shop-api',
      team: 'core',
    });
  });
});

describe('stageNames', () => {
  it('finds named stages, with flags and continuation lines', () => {
    const df =
      'ARG BASE\nFROM --platform=$BUILDPLATFORM ${BASE} AS Build\nRUN x\nFROM ${BASE} \\\n  AS runtime\nFROM scratch\n';
    expect(stageNames(df)).toEqual(['build', 'runtime']);
  });
});

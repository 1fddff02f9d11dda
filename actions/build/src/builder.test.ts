import { describe, expect, it } from 'vitest';
import {
  builderNeeds,
  builderShortfalls,
  createBuilderArgs,
  isContainerdStore,
  parseBuilderInspect,
} from './builder.js';
import { buildFailureMessage, topLevelError } from './buildx-errors.js';

const docker = (containerdStore: boolean) => ({ name: 'default', driver: 'docker', containerdStore });

describe('builder choice', () => {
  it('keeps the docker driver for a loaded, cached build on the containerd store', () => {
    const needs = builderNeeds(false, 'local', ['linux/amd64', 'linux/arm64'], true);
    expect(needs).toEqual({
      pushByDigest: false,
      cacheExport: true,
      ghaCache: false,
      multiPlatform: true,
      attestations: false,
    });
    expect(builderShortfalls(needs, docker(true))).toEqual([]);
  });
  it('says what the docker driver on the classic store cannot do', () => {
    const needs = builderNeeds(true, 'registry', ['linux/amd64', 'linux/arm64'], true);
    expect(builderShortfalls(needs, docker(false))).toEqual([
      'push by digest',
      'cache export',
      'several platforms',
      'attestations',
    ]);
    expect(builderShortfalls(builderNeeds(false, 'inline', [], true), docker(false))).toEqual([]);
    expect(builderShortfalls(builderNeeds(false, 'local', [], false), docker(false))).toEqual([
      'cache export',
    ]);
  });
  it('needs nothing more from a docker-container builder', () => {
    const needs = builderNeeds(true, 'gha', ['linux/amd64', 'linux/arm64'], true);
    expect(
      builderShortfalls(needs, { name: 'b', driver: 'docker-container', containerdStore: false }),
    ).toEqual([]);
  });
  it('moves the gha cache off a BuildKit that predates the cache service v2', () => {
    const gha = builderNeeds(false, 'gha', [], false);
    const engine = (buildkit?: string) => ({ ...docker(true), ...(buildkit ? { buildkit } : {}) });
    // A distribution's engine (Debian's Docker 26) says no version; Docker Engine 28 embeds 0.20.
    const unknown = [
      'use the gha cache (BuildKit v0.0.0+unknown; the cache service v2 needs 0.20.0 or later)',
    ];
    expect(builderShortfalls(gha, engine('v0.0.0+unknown'))).toEqual(unknown);
    expect(builderShortfalls(gha, engine('v0.13.2'))).toEqual([
      'use the gha cache (BuildKit v0.13.2; the cache service v2 needs 0.20.0 or later)',
    ]);
    expect(builderShortfalls(gha, engine())).toEqual([
      'use the gha cache (BuildKit of unknown version; the cache service v2 needs 0.20.0 or later)',
    ]);
    expect(builderShortfalls(gha, engine('v0.20.2'))).toEqual([]);
    // Other caches do not care; on the classic store the cache export is already missing.
    expect(builderShortfalls(builderNeeds(false, 'registry', [], false), engine('v0.0.0+unknown'))).toEqual(
      [],
    );
    expect(builderShortfalls(gha, { ...docker(false), buildkit: 'v0.0.0+unknown' })).toEqual([
      'cache export',
    ]);
    // A docker-container builder that is not running says no version: it runs a current image.
    const container = { name: 'b', driver: 'docker-container', containerdStore: false };
    expect(builderShortfalls(gha, container)).toEqual([]);
    expect(builderShortfalls(gha, { ...container, buildkit: 'v0.19.0' })).toHaveLength(1);
  });
  it('reads buildx inspect and docker info', () => {
    expect(parseBuilderInspect('Name:          default\nDriver:        docker\nLast Activity: x\n')).toEqual({
      name: 'default',
      driver: 'docker',
    });
    expect(
      parseBuilderInspect(
        'Name:   default\nDriver: docker\n\nNodes:\nName:             default\nEndpoint:         default\n' +
          'Status:           running\nBuildKit version: v0.0.0+unknown\nPlatforms:        linux/amd64\n',
      ),
    ).toEqual({ name: 'default', driver: 'docker', buildkit: 'v0.0.0+unknown' });
    expect(parseBuilderInspect('nothing')).toBeUndefined();
    expect(isContainerdStore('[["driver-type","io.containerd.snapshotter.v1"]]')).toBe(true);
    expect(isContainerdStore('[["Backing Filesystem","extfs"],["Supports d_type","true"]]')).toBe(false);
  });
  it('creates a docker-container builder with the given options', () => {
    expect(
      createBuilderArgs('berth-1', ['image=reg/buildkit:1', 'network=host'], '/c/buildkitd.toml'),
    ).toEqual([
      'buildx',
      'create',
      '--name',
      'berth-1',
      '--driver',
      'docker-container',
      '--driver-opt',
      'image=reg/buildkit:1',
      '--driver-opt',
      'network=host',
      '--buildkitd-config',
      '/c/buildkitd.toml',
      '--bootstrap',
    ]);
  });
});

describe('buildx failures', () => {
  it('names the input behind a top-level buildx error', () => {
    const out =
      '#0 building with "default" instance using docker driver\nERROR: Cache export is not supported for the docker driver.\nSwitch to a different driver, or turn on the containerd image store, and try again.\n';
    expect(topLevelError(out)).toBe('Cache export is not supported for the docker driver.');
    expect(buildFailureMessage(out, undefined, 1)).toBe(
      'Input "cache": this builder cannot export a cache: Cache export is not supported for the docker driver.',
    );
    expect(
      buildFailureMessage(
        'ERROR: push-by-digest is currently not implemented for docker driver',
        undefined,
        1,
      ),
    ).toMatch(/^Input "builder": this builder cannot push by digest/);
    expect(
      buildFailureMessage('ERROR: failed to solve: failed to push x: 401 Unauthorized', undefined, 1),
    ).toMatch(/^Input "registry-password": the registry refused the credentials/);
  });
  it('prefers the failing step, and falls back to the exit code', () => {
    expect(buildFailureMessage('ERROR: failed to solve: x', '[2/3] RUN false: exit code 1', 1)).toBe(
      'the build failed: [2/3] RUN false: exit code 1',
    );
    expect(buildFailureMessage('', undefined, 3)).toBe('the build failed: buildx exited with 3');
    expect(buildFailureMessage('ERROR: something new\n::error::x', undefined, 1)).toBe(
      'the build failed: something new',
    );
  });
});

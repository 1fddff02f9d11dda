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
  it('reads buildx inspect and docker info', () => {
    expect(parseBuilderInspect('Name:          default\nDriver:        docker\nLast Activity: x\n')).toEqual({
      name: 'default',
      driver: 'docker',
    });
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

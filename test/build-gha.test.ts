// berth/build's gha cache for real: BuildKit's gha backend against the lab's GitHub cache service v2
// (scripts/lab/cache-server.ts: the Twirp API and the signed blob URLs BuildKit uploads to and reads
// from), through a current buildx (the lab builds 0.38 from source; the system's 0.13 cannot speak
// the service v2). Only these steps use it: each run's private DOCKER_CONFIG links it as its
// cli-plugins/docker-buildx, which the docker CLI prefers to the system's plugin.
// Pushes by digest from a docker-container builder the action creates and removes, on both engines
// (the classic image store is what stock runners have), cold then warm on a fresh builder each run:
// the warm build's steps can only have come from the cache service.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheScope } from '../actions/build/src/cache.js';
import { startCacheServer, type CacheServer } from '../scripts/lab/cache-server.js';
import { runAction, type RunOptions } from '../scripts/lab/harness.js';
import { readBuildxLab, readEnginesLab, readLab } from '../scripts/lab/lab.js';
import { builderInputs } from './builders.js';
import { registryDigest } from './registry.js';

const lab = readLab();
const engines = readEnginesLab();
const buildx = readBuildxLab();
const run = Math.random().toString(36).slice(2, 8);
const repo = (name: string) => `berth-gha-${run}/${name}`;

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-gha-${prefix}-`));
}

/** A docker client config of the step's own whose buildx is the lab's current one. */
function dockerConfig(): string {
  const dir = tmp('dockercfg');
  mkdirSync(join(dir, 'cli-plugins'));
  symlinkSync(buildx.plugin, join(dir, 'cli-plugins', 'docker-buildx'));
  return dir;
}

function context(tag: string): string {
  const dir = tmp('ctx');
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${lab.baseImage} AS build\nRUN echo ${tag} > /built\nFROM ${lab.baseImage}\nCOPY --from=build /built /built\nUSER 10001\n`,
  );
  return dir;
}

let server: CacheServer;
beforeAll(async () => {
  // BuildKit runs in the builder's container: it gets no HTTP_PROXY, so the signed blob URLs name
  // this server on loopback (the builder is on the host network), still signed and checked.
  server = await startCacheServer({ blobHost: 'loopback' });
});
afterAll(async () => {
  await server?.close();
});

function build(dockerHost: string | undefined, inputs: RunOptions['inputs']) {
  return runAction('build', {
    env: {
      ...server.env,
      DOCKER_CONFIG: dockerConfig(),
      ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
    },
    inputs: {
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      ...builderInputs,
      ...inputs,
    },
  });
}

const createdBuilder = (log: string) => /creating docker-container builder (berth-[0-9a-f]+)/.exec(log)?.[1];
const blobReads = () =>
  server.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/berthcache/'));

describe.each([
  ['containerd', undefined],
  ['classic', engines.classicDockerHost],
] as const)('the gha cache on the engine with the %s image store', (store, dockerHost) => {
  it(`cold with cache: gha, then warm by default (buildx ${buildx.version}) on a fresh builder`, async () => {
    const name = `app-${store}`;
    const image = `${lab.registry}/${repo(name)}`;
    const ctx = context(`gha-${store}-${run}`);

    const cold = await build(dockerHost, { context: ctx, image, tags: 'cold', push: 'true', cache: 'gha' });
    expect(cold.exitCode, cold.log).toBe(0);
    expect(cold.log).toContain(`buildx ${buildx.version.replace(/^v/, '')}`);
    expect(cold.log).toMatch(/cannot push by digest.*: creating docker-container builder berth-/);
    expect(Number(cold.outputs['cache-hit-ratio'])).toBeLessThan(1);
    // What BuildKit left in the cache service: its layer blobs and the index of this image's scope.
    const keys = server.entries().map((e) => e.key);
    expect(keys).toContainEqual(expect.stringMatching(/^buildkit-blob-1-sha256:[0-9a-f]{64}$/));
    const scope = defaultCacheScope(image, undefined).replace(/\./g, '\\.');
    expect(keys).toContainEqual(expect.stringMatching(new RegExp(`^index-${scope}-1-[0-9a-f]{8}#1$`)));
    expect(cold.post?.log).toContain(`Removed builder ${createdBuilder(cold.log)!}`);

    // No `cache` input: a runner with the cache service and this buildx defaults to gha.
    const readsBefore = blobReads().length;
    const warm = await build(dockerHost, { context: ctx, image, tags: 'warm', push: 'true' });
    expect(warm.exitCode, warm.log).toBe(0);
    expect(warm.log).toMatch(/Cache: (\d+) of \1 build steps cached \(gha\)/);
    expect(Number(warm.outputs['cache-hit-ratio'])).toBe(1);
    expect(createdBuilder(warm.log)).not.toBe(createdBuilder(cold.log));
    // The fresh builder read the index back through a signed blob URL.
    expect(blobReads().length).toBeGreaterThan(readsBefore);
    expect(blobReads().every((r) => r.status === 200 || r.status === 206)).toBe(true);

    const digest = warm.outputs.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryDigest(lab, repo(name), 'warm')).toBe(digest);
    expect(warm.post?.log).toContain(`Removed builder ${createdBuilder(warm.log)!}`);
    // The job's runtime token reaches buildx through the environment only, never the log.
    for (const r of [cold, warm]) {
      expect(r.log).not.toContain(server.env.ACTIONS_RUNTIME_TOKEN);
      expect(r.post?.log ?? '').not.toContain(server.env.ACTIONS_RUNTIME_TOKEN);
    }
  });
});

describe("the engine's own BuildKit", () => {
  it('is left for a docker-container builder when it predates the cache service v2 (a loaded image)', async () => {
    // Nothing else asks for more than the docker driver on the containerd store can do, but Debian's
    // Docker 26 embeds a BuildKit that only knows the v1 API (which answers 422 since its sunset).
    const image = `${lab.registry}/${repo('loaded')}`;
    const before = server.entries().length;
    const r = await build(undefined, {
      context: context(`gha-loaded-${run}`),
      image,
      tags: 'here',
      cache: 'gha',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(
      /\(driver docker, containerd image store\) cannot use the gha cache \(BuildKit v0\.0\.0\+unknown; the cache service v2 needs 0\.20\.0 or later\): creating docker-container builder berth-/,
    );
    expect(server.requests().some((q) => q.path.startsWith('/_apis/artifactcache/'))).toBe(false);
    expect(server.entries().length).toBeGreaterThan(before);
    expect(r.outputs['image-id']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.post?.log).toContain(`Removed builder ${createdBuilder(r.log)!}`);
  });
});

// berth/build on both kinds of engine a runner may have: the lab's main one (containerd image store)
// and a second dockerd with the classic store (what stock runners have), where the docker driver can
// neither push by digest nor export a cache. Push by digest from BuildKit, checks before tags,
// caches, builders created and removed; then multi-platform, attestations and cosign signing.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runAction, type RunOptions } from '../scripts/lab/harness.js';
import { readEnginesLab, readLab } from '../scripts/lab/lab.js';
import { builderInputs } from './builders.js';
import { registryDigest } from './registry.js';

const exec = promisify(execFile);
const lab = readLab();
const engines = readEnginesLab();
const run = Math.random().toString(36).slice(2, 8);
const repo = (name: string) => `berth-engines-${run}/${name}`;
const imageOf = (name: string) => `${lab.registry}/${repo(name)}`;

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-engines-${prefix}-`));
}

function context(dockerfile: string): string {
  const dir = tmp('ctx');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/** Two stages with a RUN each side of a COPY: every step can come from a cache. */
const twoStage = (tag: string) =>
  `FROM ${lab.baseImage} AS build\nRUN echo ${tag} > /built\nFROM ${lab.baseImage}\nCOPY --from=build /built /built\nUSER 10001\n`;

function build(
  dockerHost: string | undefined,
  inputs: RunOptions['inputs'],
  env: Record<string, string> = {},
) {
  return runAction('build', {
    env: { DOCKER_CONFIG: tmp('dockercfg'), ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}), ...env },
    inputs: {
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      ...builderInputs,
      ...inputs,
    },
  });
}

/** The builder a run created, from its log line. */
function createdBuilder(log: string): string | undefined {
  return /creating docker-container builder (berth-[0-9a-f]+)/.exec(log)?.[1];
}

async function docker(dockerHost: string | undefined, args: string[]): Promise<string> {
  const { stdout } = await exec('docker', args, {
    env: { ...process.env, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
  });
  return stdout;
}

describe.each([
  ['containerd', undefined],
  ['classic', engines.classicDockerHost],
] as const)('on the engine with the %s image store', (store, dockerHost) => {
  it('pushes by digest from a builder it creates, tags name that digest, the builder is removed after', async () => {
    const ctx = context(twoStage(`local-${store}`));
    const cacheDir = join(tmp('cache'), 'c');
    const name = `local-${store}`;
    const cold = await build(dockerHost, {
      context: ctx,
      image: imageOf(name),
      tags: 'cold',
      push: 'true',
      cache: 'local',
      'cache-dir': cacheDir,
    });
    expect(cold.exitCode, cold.log).toBe(0);
    expect(cold.log).toMatch(
      store === 'classic'
        ? /driver docker, classic image store\) cannot push by digest, cache export, attestations: creating/
        : /driver docker, containerd image store\) cannot push by digest: creating/,
    );
    // The warm run's builder is new too: its cache can only have come through the local cache.
    const warm = await build(dockerHost, {
      context: ctx,
      image: imageOf(name),
      tags: 'warm\nlatest',
      push: 'true',
      cache: 'local',
      'cache-dir': cacheDir,
    });
    expect(warm.exitCode, warm.log).toBe(0);
    expect(Number(warm.outputs['cache-hit-ratio'])).toBe(1);
    const digest = warm.outputs.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(warm.outputs.ref).toBe(`${imageOf(name)}@${digest}`);
    for (const tag of ['warm', 'latest']) expect(await registryDigest(lab, repo(name), tag)).toBe(digest);
    // Provenance by default (mode=min), listed from the registry's own index.
    expect(warm.outputs.attestations).toMatch(/^https:\/\/slsa\.dev\/provenance\/v/m);
    const builder = createdBuilder(warm.log)!;
    expect(warm.post?.log).toContain(`Removed builder ${builder}`);
    expect(await docker(dockerHost, ['buildx', 'ls'])).not.toContain(builder);
    expect(await docker(dockerHost, ['ps', '-a', '--format', '{{.Names}}'])).not.toContain(builder);
  });

  it('reads the registry and inline caches back warm', async () => {
    for (const cache of ['registry', 'inline'] as const) {
      const ctx = context(twoStage(`${cache}-${store}`));
      const image = imageOf(`${cache}-${store}`);
      const cold = await build(dockerHost, { context: ctx, image, tags: 'main', push: 'true', cache });
      expect(cold.exitCode, cold.log).toBe(0);
      const warm = await build(dockerHost, { context: ctx, image, tags: 'main', push: 'true', cache });
      expect(warm.exitCode, warm.log).toBe(0);
      expect(Number(warm.outputs['cache-hit-ratio']), `${cache}: ${warm.outputs.metadata}`).toBe(1);
    }
  });

  it('tags a single manifest (no attestations) as that very digest, the old tag moved', async () => {
    const name = `plain-${store}`;
    for (const round of ['one', 'two']) {
      const r = await build(dockerHost, {
        context: context(twoStage(`plain-${store}-${round}`)),
        image: imageOf(name),
        tags: 'v1\nlatest',
        push: 'true',
        cache: 'none',
        provenance: 'false',
      });
      expect(r.exitCode, r.log).toBe(0);
      expect(r.outputs.attestations).toBe('');
      for (const tag of ['v1', 'latest'])
        expect(await registryDigest(lab, repo(name), tag)).toBe(r.outputs.digest);
    }
  });

  it('refuses a root image after the push by digest: no tag, no digest output', async () => {
    const ctx = context(`FROM ${lab.baseImage}\nRUN echo root > /root-owned\n`);
    const r = await build(dockerHost, {
      context: ctx,
      image: imageOf(`root-${store}`),
      tags: 'v1',
      push: 'true',
      cache: 'none',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/the linux\/amd64 image runs as root \(no USER, so root\)/);
    expect(r.summary).toContain('by digest only, no tag (refused by the checks)');
    expect(r.outputs.digest).toBe('');
    expect(await registryDigest(lab, repo(`root-${store}`), 'v1')).toBeUndefined();
  });

  it('stays on the docker driver when nothing needs more, and loads into this engine', async () => {
    const ctx = context(twoStage(`docker-${store}`));
    const image = imageOf(`loaded-${store}`);
    const r = await build(dockerHost, { context: ctx, image, tags: 'here', cache: 'inline', load: 'true' });
    expect(r.exitCode, r.log).toBe(0);
    // Nothing asked for more than any builder can do: the current one (docker driver), not even inspected.
    expect(createdBuilder(r.log)).toBeUndefined();
    expect(r.log).not.toMatch(/buildx (?:build --builder|inspect)/);
    expect(r.summary).toContain("| Builder | buildx's current builder |");
    const id = (
      await docker(dockerHost, ['image', 'inspect', '--format', '{{.Id}}', `${image}:here`])
    ).trim();
    expect(id).toBe(r.outputs['image-id']);
    await docker(dockerHost, ['image', 'rm', `${image}:here`]);
  });
});

describe('a builder named in `builder`', () => {
  it("is refused naming the input when it cannot do what is asked (the classic engine's docker driver)", async () => {
    const r = await build(engines.classicDockerHost, {
      context: context(twoStage('named')),
      image: imageOf('named'),
      tags: 'x',
      cache: 'local',
      'cache-dir': join(tmp('c'), 'c'),
      builder: 'default',
      'driver-opts': '',
      'buildkitd-config': '',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /^Input "builder": builder "default" \(driver docker\) cannot cache export; name a docker-container builder/,
      ),
    ]);
  });
});

describe('a docker-container builder that cannot start', () => {
  it('fails naming driver-opts, with buildx own words', async () => {
    const r = await build(undefined, {
      context: context(twoStage('nostart')),
      image: imageOf('nostart'),
      push: 'true',
      'driver-opts': `image=${lab.registry}/berth/no-such-buildkit:1\nnetwork=host`,
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /^Input "driver-opts": creating a docker-container builder failed \(its BuildKit image.*no-such-buildkit/,
      ),
    ]);
    expect(r.post?.log ?? '').toMatch(/Removed builder berth-/);
  });
});

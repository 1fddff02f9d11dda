// berth/build against the real engine, buildx and the lab registry, through the runner harness.
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAction, type RunOptions } from '../scripts/lab/harness.js';
import { readLab, repoRoot } from '../scripts/lab/lab.js';
import { builderInputs } from './builders.js';
import { registryDigest } from './registry.js';

const exec = promisify(execFile);
const lab = readLab();
const SHA = 'c0ffee1234567890c0ffee1234567890c0ffee12';
const pushToMain = {
  eventName: 'push',
  ref: 'refs/heads/main',
  sha: SHA,
  event: { ref: 'refs/heads/main', repository: { default_branch: 'main' } },
};

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-build-${prefix}-`));
}

/** A run as a fresh runner would make it: its own docker config, logging in with the inputs. */
function build(inputs: RunOptions['inputs'], extra: Partial<RunOptions> = {}) {
  return runAction('build', {
    ...pushToMain,
    ...extra,
    env: { DOCKER_CONFIG: tmp('dockercfg'), ...extra.env },
    inputs: {
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'build-args': `BASE_IMAGE=${lab.baseImage}`,
      // Shape a builder the action creates (nothing can be pulled here, and the registry is on loopback).
      ...builderInputs,
      ...inputs,
    },
  });
}

async function pruneBuildCache(): Promise<void> {
  await exec('docker', ['builder', 'prune', '--all', '--force']);
}

function metadataOf(r: { outputs: Record<string, string> }): {
  steps: { rebuilt: string[]; steps: number; cached: number };
} {
  return JSON.parse(r.outputs.metadata!);
}

/** A copy of the example api, so a test can change its source. */
function apiContext(): string {
  const dir = tmp('api');
  cpSync(join(repoRoot, 'example/api'), dir, { recursive: true });
  return dir;
}

function fixtureContext(dockerfile: string, files: Record<string, string> = {}): string {
  const dir = tmp('ctx');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// Unique per run: the lab registry outlives test runs, and a cache left by an earlier run would
// make a "cold" build warm.
const run = Math.random().toString(36).slice(2, 8);
const registryRepo = (name: string) => `${lab.registry}/berth-test-${run}/${name}`;

describe.each(['local', 'registry'] as const)('build with %s cache', (backend) => {
  const context = apiContext();
  const image = registryRepo(`api-${backend}`);
  const cacheInputs =
    backend === 'local' ? { cache: 'local', 'cache-dir': join(tmp('cache'), 'api') } : { cache: 'registry' };

  beforeAll(async () => {
    await pruneBuildCache();
  });

  it('builds cold, then warm from the cache alone at a hit ratio of at least 0.9', async () => {
    const cold = await build({
      context,
      image,
      tags: 'cold',
      load: true,
      ...cacheInputs,
      push: backend === 'registry',
    });
    expect(cold.exitCode, cold.log).toBe(0);
    expect(Number(cold.outputs['cache-hit-ratio'])).toBeLessThan(0.5);

    // Nothing left in the engine: whatever is cached now came through the cache backend. (Pushed,
    // each run gets a docker-container builder of its own, whose state starts empty as well.)
    await exec('docker', ['image', 'rm', `${image}:cold`]);
    await pruneBuildCache();
    const warm = await build({ context, image, tags: 'warm', ...cacheInputs, push: backend === 'registry' });
    expect(warm.exitCode, warm.log).toBe(0);
    expect(
      Number(warm.outputs['cache-hit-ratio']),
      JSON.stringify(metadataOf(warm).steps),
    ).toBeGreaterThanOrEqual(0.9);
    expect(warm.summary).toContain(`${backend}: `);
  });

  it('after one source file changes, rebuilds only the steps after its COPY', async () => {
    appendFileSync(join(context, 'main.go'), `\n// changed by the ${backend} cache test\n`);
    await pruneBuildCache();
    const r = await build({ context, image, tags: 'changed', ...cacheInputs });
    expect(r.exitCode, r.log).toBe(0);
    const { rebuilt } = metadataOf(r).steps;
    expect(rebuilt.some((s) => /COPY main\.go/.test(s))).toBe(true);
    expect(rebuilt.some((s) => /go build/.test(s))).toBe(true);
    // The toolchain install and the runtime user set-up come before that COPY: cached.
    expect(rebuilt.filter((s) => /apt-get|groupadd/.test(s))).toEqual([]);
  });
});

describe('push', () => {
  it('pushes every computed tag and reports the digest the registry holds', async () => {
    const image = registryRepo('pushed');
    const r = await build({ context: join(repoRoot, 'example/api'), image, push: true, cache: 'none' });
    expect(r.exitCode, r.log).toBe(0);
    const digest = r.outputs.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.outputs.ref).toBe(`${image}@${digest}`);
    const tags = r.outputs.tags!.split('\n').map((ref) => ref.slice(image.length + 1));
    expect(tags).toEqual(['main', 'latest', `sha-${SHA.slice(0, 7)}`]);
    for (const tag of tags) expect(await registryDigest(lab, `berth-test-${run}/pushed`, tag)).toBe(digest);
    expect(r.post?.log).toContain(`Logged out of ${lab.registry}`);
    expect(r.log).not.toContain(lab.registryPassword);
    expect(r.masks).toContain(lab.registryPassword);
    // OCI labels trace the image to its commit.
    const { stdout } = await exec(
      'docker',
      ['buildx', 'imagetools', 'inspect', '--format', '{{json .Image.Config.Labels}}', `${image}@${digest}`],
      {
        env: { ...process.env },
      },
    );
    const labels = JSON.parse(stdout) as Record<string, string>;
    expect(labels['org.opencontainers.image.revision']).toBe(SHA);
    expect(labels['org.opencontainers.image.source']).toBe('https://github.com/berth-lab/example');
    expect(labels['org.opencontainers.image.version']).toBe('main');
    expect(r.summary).toContain('(no earlier image under this tag)');

    // The same tags again, one label different: the summary compares with what the tag held.
    const again = await build({
      context: join(repoRoot, 'example/api'),
      image,
      push: true,
      cache: 'none',
      labels: 'rebuilt=yes',
    });
    expect(again.exitCode, again.log).toBe(0);
    expect(again.outputs.digest).not.toBe(digest);
    expect(again.summary).toMatch(
      /Size \(compressed, in the registry\) \| [\d.]+ [kMG]?B \([+−±][^)]*against the image this tag held before\)/,
    );
    expect(await registryDigest(lab, `berth-test-${run}/pushed`, 'latest')).toBe(again.outputs.digest);
  });

  it('fails with a clear error on a wrong registry password', async () => {
    const r = await build({
      context: join(repoRoot, 'example/api'),
      image: registryRepo('x'),
      'registry-password': 'wrong-password',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(new RegExp(`login to ${lab.registry} as ${lab.registryUser} failed`));
    expect(r.log).not.toContain('wrong-password');
  });
});

describe('build secrets', () => {
  it('reach RUN --mount=type=secret and appear neither in the history nor in the log', async () => {
    const secret = `s3cr3t-${Date.now()}-value`;
    const context = fixtureContext(
      [
        `FROM ${lab.baseImage}`,
        'RUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha256',
        'USER 10001',
      ].join('\n'),
    );
    const image = registryRepo('secret');
    const r = await build({
      context,
      image,
      tags: 'one',
      secrets: `token=${secret}`,
      load: true,
      cache: 'none',
    });
    expect(r.exitCode, r.log).toBe(0);
    const { stdout: inside } = await exec('docker', [
      'run',
      '--rm',
      '--pull',
      'never',
      `${image}:one`,
      'cat',
      '/token.sha256',
    ]);
    const { createHash } = await import('node:crypto');
    expect(inside.trim()).toBe(createHash('sha256').update(secret).digest('hex'));
    const { stdout: history } = await exec('docker', ['history', '--no-trunc', `${image}:one`]);
    const { stdout: config } = await exec('docker', ['image', 'inspect', `${image}:one`]);
    for (const text of [history, config, r.log, r.post?.log ?? '', r.summary])
      expect(text).not.toContain(secret);
    expect(r.masks).toContain(secret);
  });
});

describe('policy checks', () => {
  const rootImage = `FROM ${lab.baseImage}\nRUN echo built > /built\n`;

  it('fails a root image under require-non-root: error and pushes nothing', async () => {
    const image = registryRepo('rooted');
    const r = await build({
      context: fixtureContext(rootImage),
      image,
      tags: 'v1',
      push: true,
      cache: 'none',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/runs as root \(no USER, so root\)/);
    expect(r.summary).toMatch(/Refused, no tag added/);
    expect(r.outputs.digest).toBe('');
    expect(await registryDigest(lab, `berth-test-${run}/rooted`, 'v1')).toBeUndefined();
  });

  it('only warns under require-non-root: warn', async () => {
    const r = await build({
      context: fixtureContext(rootImage),
      image: registryRepo('rooted'),
      tags: 'v2',
      'require-non-root': 'warn',
      cache: 'none',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/runs as root/);
  });

  it('fails an image over max-size with both numbers', async () => {
    const r = await build({
      context: fixtureContext(`${rootImage}USER 10001\n`),
      image: registryRepo('big'),
      tags: 'v1',
      'max-size': '10MB',
      cache: 'none',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(
      /image size \(unpacked\) [\d.]+ MB \(\d+ bytes\) exceeds max-size 10\.0 MB \(10000000 bytes\)/,
    );
    expect(Number(r.outputs.size)).toBeGreaterThan(10_000_000);
  });
});

describe('bad input', () => {
  const context = () => fixtureContext(`FROM ${lab.baseImage} AS base\nUSER 1\n`);
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a missing Dockerfile',
      { file: 'no/such/Dockerfile' },
      /^Input "file": Dockerfile .*no\/such\/Dockerfile does not exist/,
    ],
    [
      'an unknown target',
      { target: 'nope' },
      /^Input "target": stage "nope" is not in .* \(its stages: base\)/,
    ],
    ['an unknown cache backend', { cache: 's3' }, /^Input "cache": "s3" is not one of/],
    ['a malformed size', { 'max-size': '12XB' }, /^Input "max-size": "12XB" is not a byte size/],
    ['an image with a tag', { image: 'localhost:5000/a/b:latest' }, /^Input "image": .* without tag/],
    ['a full reference as a tag', { tags: 'localhost:5000/a/b:v1' }, /^Input "tags": .* give tag names only/],
    [
      'gha cache on an old buildx',
      { cache: 'gha' },
      /^Input "cache": gha needs buildx 0\.21\.0 or later .* this runner has buildx 0\.\d+/,
    ],
    // Values pasted into buildx's comma-separated cache specs, or read as an option.
    [
      'a cache scope that adds a cache key',
      { 'cache-scope': 'x,url=http://127.0.0.1:9/' },
      /^Input "cache-scope": .* may only hold letters/,
    ],
    [
      'a cache ref that adds a cache key',
      { cache: 'registry', 'cache-ref': `${lab.registry}/c:x,push=true` },
      /^Input "cache-ref": .* is not an image reference/,
    ],
    [
      'a cache dir that adds a cache key',
      { cache: 'local', 'cache-dir': 'c,dest=/tmp/x' },
      /^Input "cache-dir": /,
    ],
    ['an image whose registry reads as an option', { image: '-h.test/a' }, /^Input "image": /],
    [
      'a build-arg that reads as an option',
      { 'build-args': `BASE_IMAGE=x\n--push=true` },
      /^Input "build-args": line 2 /,
    ],
    ['a platform that reads as an option', { platforms: '--push' }, /^Input "platforms": /],
  ];
  it.each(cases)('%s fails naming the input', async (_, inputs, message) => {
    const r = await build({ context: context(), image: registryRepo('bad'), ...inputs });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
  });
});

describe('local cache rotation', () => {
  it('replaces the cache directory instead of letting it grow', async () => {
    const dir = join(tmp('rot'), 'cache');
    const context = fixtureContext(`FROM ${lab.baseImage}\nCOPY f /f\nUSER 1\n`, { f: 'one' });
    const r1 = await build({
      context,
      image: registryRepo('rot'),
      tags: 'a',
      cache: 'local',
      'cache-dir': dir,
    });
    expect(r1.exitCode, r1.log).toBe(0);
    const index1 = readFileSync(join(dir, 'index.json'), 'utf8');
    writeFileSync(join(context, 'f'), 'two');
    const r2 = await build({
      context,
      image: registryRepo('rot'),
      tags: 'a',
      cache: 'local',
      'cache-dir': dir,
    });
    expect(r2.exitCode, r2.log).toBe(0);
    const index2 = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
    expect(readFileSync(join(dir, 'index.json'), 'utf8')).not.toBe(index1);
    // One cache manifest: the old build's was dropped with the old directory.
    expect(index2.manifests).toHaveLength(1);
    expect(existsSync(join(dir, '.berth-cache'))).toBe(true);
  });

  it('refuses a cache-dir that is not a Berth cache, and leaves it untouched', async () => {
    const dir = tmp('not-a-cache');
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const context = fixtureContext(`FROM ${lab.baseImage}\nUSER 1\n`);
    const r = await build({
      context,
      image: registryRepo('rot'),
      tags: 'b',
      cache: 'local',
      'cache-dir': dir,
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^Input "cache-dir": .* is not a Berth cache/)]);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(`${dir}-new`)).toBe(false);
  });
});

describe('the default cache backend', () => {
  it('uses the local cache, with a warning, on a runner whose cache service this buildx cannot speak', async () => {
    const dir = join(tmp('default-cache'), 'cache');
    const context = fixtureContext(`FROM ${lab.baseImage}\nCOPY f /f\nUSER 1\n`, { f: 'default' });
    const r = await build(
      { context, image: registryRepo('default-cache'), tags: 'a', 'cache-dir': dir },
      { env: { DOCKER_CONFIG: tmp('dockercfg'), ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.warnings).toEqual([
      expect.stringMatching(/cannot use it \(gha needs 0\.21\.0 or later\): using the local cache/),
    ]);
    expect(existsSync(join(dir, 'index.json'))).toBe(true);
  });
});

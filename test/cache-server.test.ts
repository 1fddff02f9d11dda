// @actions/cache's saveCache/restoreCache against test/cache-server.ts, in this process and in a
// runner-like step: the library's own Twirp client, Azure SDK transfers, tar and zstd; only the
// service at the other end is ours. @actions/cache reads its environment at call time (service
// version, URLs, token, proxy), so a static import and vi.stubEnv per test are enough.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import * as cache from '@actions/cache';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  startCacheServer,
  type CacheRequest,
  type CacheServer,
  type CacheServerOptions,
} from '../scripts/lab/cache-server.js';
import { runAction } from '../scripts/lab/harness.js';
import { repoRoot } from '../scripts/lab/lab.js';

const MiB = 1024 * 1024;
const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/';
const SEGMENT = 4 * MiB; // what the Azure SDK's downloadToBuffer asks for per ranged GET
const cacheAction = join(repoRoot, 'test/fixtures/cache-action');
const startDir = process.cwd();

const servers: CacheServer[] = [];
const scratch: string[] = [];
let output: string[] = [];

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-${name}-`));
  scratch.push(dir);
  return dir;
}

async function start(options?: CacheServerOptions): Promise<CacheServer> {
  const server = await startCacheServer(options);
  servers.push(server);
  return server;
}

/** Makes this process a step in `workspace` on a runner whose cache service is `server`. */
function enterStep(server: CacheServer, workspace: string): void {
  for (const name of [
    'HTTPS_PROXY',
    'https_proxy',
    'ALL_PROXY',
    'all_proxy',
    'http_proxy',
    'NO_PROXY',
    'no_proxy',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('HTTP_PROXY', undefined);
  for (const [name, value] of Object.entries(server.env)) vi.stubEnv(name, value);
  vi.stubEnv('GITHUB_SERVER_URL', 'https://github.com');
  vi.stubEnv('GITHUB_WORKSPACE', workspace);
  vi.stubEnv('RUNNER_TEMP', tempDir('runner-temp'));
  process.chdir(workspace);
}

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Every regular file under `root` by its relative path. */
function readTree(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(relative(root, path), readFileSync(path));
    }
  }
  return files;
}

function expectSameTree(actualRoot: string, expectedRoot: string): void {
  const actual = readTree(actualRoot);
  const expected = readTree(expectedRoot);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) {
    expect(actual.get(path)!.equals(bytes), `${path} differs after the restore`).toBe(true);
  }
}

const logLines = (): string[] => output.join('').split(/\r?\n/);
const annotations = (kind: 'warning' | 'error'): string[] =>
  logLines()
    .filter((l) => l.startsWith(`::${kind}`))
    .map((l) => l.replace(/^::\w+(?: [^:]*)?::/, '').replace(/%0A/g, '\n'));
/** what core.info printed (neither a workflow command nor a tool's output) */
const infos = (): string[] => logLines().filter((l) => !l.startsWith('::') && !l.startsWith('[command]'));

const blobRequests = (server: CacheServer, method: string): CacheRequest[] =>
  server.requests().filter((r) => r.method === method && /^\/(berthcache\/)?actions-cache\//.test(r.path));
const twirpCalls = (server: CacheServer, method: string): CacheRequest[] =>
  server.requests().filter((r) => r.path === TWIRP + method);

/** The ranges downloadToBuffer asks for, in order, for a blob of `size` bytes. */
function expectedRanges(size: number): string[] {
  const ranges: string[] = [];
  for (let offset = 0; offset < size; offset += SEGMENT) {
    ranges.push(`bytes=${offset}-${Math.min(offset + SEGMENT, size) - 1}`);
  }
  return ranges;
}
const rangeStart = (r: CacheRequest): number => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]);

beforeEach(() => {
  output = [];
  // @actions/core writes info, warnings and debug lines to stdout; keep them for assertions.
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write);
});

afterEach(async () => {
  process.chdir(startDir);
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the cache server with @actions/cache in process', () => {
  it('gives a step the environment a runner gives it', async () => {
    const server = await start();
    expect(server.env).toMatchObject({
      ACTIONS_RESULTS_URL: `${server.url}/`,
      ACTIONS_CACHE_URL: `${server.url}/`,
      ACTIONS_CACHE_SERVICE_V2: 'True',
      HTTP_PROXY: server.url,
    });
    const [, payload] = server.env.ACTIONS_RUNTIME_TOKEN!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(JSON.parse(claims.ac as string)).toEqual([{ Scope: 'refs/heads/main', Permission: 3 }]);
    enterStep(server, tempDir('ws'));
    expect(cache.isFeatureAvailable()).toBe(true);

    // The service checks the token like GitHub's: a wrong one is a Twirp `unauthenticated`.
    const res = await fetch(`${server.url}${TWIRP}GetCacheEntryDownloadURL`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer not.a.token' },
      body: JSON.stringify({ key: 'k', version: 'v' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('saves a directory and restores it into an empty workspace byte for byte (Put Blob, then 4 MiB ranged GETs)', async () => {
    const server = await start();
    const saved = tempDir('ws-save');
    writeTree(saved, {
      'data/README.txt': 'cached by berth\n',
      'data/nested/deep/config.json': JSON.stringify({ answer: 42 }),
      'data/empty': '',
      'data/big.bin': randomBytes(6 * MiB),
    });
    enterStep(server, saved);
    const id = await cache.saveCache(['data'], 'deps-linux-abc');
    expect(id, logLines().join('\n')).toBeGreaterThan(0);

    const fresh = tempDir('ws-restore');
    enterStep(server, fresh);
    expect(await cache.restoreCache(['data'], 'deps-linux-abc')).toBe('deps-linux-abc');
    expectSameTree(join(fresh, 'data'), join(saved, 'data'));
    expect(annotations('warning')).toEqual([]);
    expect(annotations('error')).toEqual([]);

    const [entry, ...others] = server.entries();
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ key: 'deps-linux-abc', version: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(entry!.size).toBeGreaterThan(6 * MiB); // random bytes do not compress
    expect(blobRequests(server, 'PUT').map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/actions-cache\/[^?]+$/),
    ]);
    expect(blobRequests(server, 'HEAD')).toHaveLength(1);
    const gets = blobRequests(server, 'GET').sort((a, b) => rangeStart(a) - rangeStart(b));
    expect(gets.map((r) => r.range)).toEqual(expectedRanges(entry!.size));
    expect(gets.every((r) => r.status === 206)).toBe(true);
    expect(twirpCalls(server, 'CreateCacheEntry').map((r) => r.status)).toEqual([200]);
    expect(twirpCalls(server, 'FinalizeCacheEntryUpload').map((r) => r.status)).toEqual([200]);
  });

  it('matches the exact key first, then the newest entry by key prefix, then restore-keys in order; the version must match', async () => {
    const server = await start();
    const ws = tempDir('ws');
    enterStep(server, ws);
    for (const [key, content] of [
      ['deps-linux-1111', 'one'],
      ['deps-linux-2222', 'two'],
      ['deps-windows-3333', 'three'],
    ] as const) {
      writeTree(ws, { 'data/v.txt': content });
      expect(await cache.saveCache(['data'], key)).toBeGreaterThan(0);
    }
    const restore = async (key: string, restoreKeys: string[], paths = ['data']) => {
      rmSync(join(ws, 'data'), { recursive: true, force: true });
      const matched = await cache.restoreCache(paths, key, restoreKeys);
      return { matched, content: matched ? readFileSync(join(ws, 'data/v.txt'), 'utf8') : undefined };
    };

    expect(await restore('deps-linux-9999', ['deps-linux-', 'deps-'])).toEqual({
      matched: 'deps-linux-2222',
      content: 'two',
    });
    expect(infos()).toContain('Cache hit for restore-key: deps-linux-2222');
    expect(await restore('deps-linux-1111', ['deps-linux-'])).toEqual({
      matched: 'deps-linux-1111',
      content: 'one',
    });
    expect(await restore('deps-', [])).toEqual({ matched: 'deps-windows-3333', content: 'three' });
    // The first restore key with a match wins, though deps-windows-3333 is newer.
    expect(await restore('nothing', ['deps-linux-', 'deps-windows-'])).toEqual({
      matched: 'deps-linux-2222',
      content: 'two',
    });
    // Other paths give another version: no entry matches, whatever the key.
    expect(await restore('deps-linux-1111', ['deps-'], ['other'])).toEqual({
      matched: undefined,
      content: undefined,
    });
    expect(annotations('warning')).toEqual([]);
  });

  it('reports a miss as undefined without downloading anything', async () => {
    const server = await start();
    const ws = tempDir('ws');
    enterStep(server, ws);
    expect(await cache.restoreCache(['data'], 'deps-linux-abc', ['deps-linux-', 'deps-'])).toBeUndefined();
    expect(readdirSync(ws)).toEqual([]);
    expect(server.requests().map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', `${TWIRP}GetCacheEntryDownloadURL`, 200],
    ]);
    expect(annotations('warning')).toEqual([]);
  });

  it('keeps the first entry when a key is saved twice; the second save does not throw and says why', async () => {
    const server = await start();
    const ws = tempDir('ws');
    enterStep(server, ws);
    writeTree(ws, { 'data/v.txt': 'first' });
    const first = await cache.saveCache(['data'], 'immutable');
    expect(first).toBeGreaterThan(0);
    writeTree(ws, { 'data/v.txt': 'second, and longer' });
    expect(await cache.saveCache(['data'], 'immutable')).toBe(-1);

    // GitHub answers 409 already_exists; @actions/cache 6.3 logs it with core.info, not as a warning.
    expect(twirpCalls(server, 'CreateCacheEntry').map((r) => r.status)).toEqual([200, 409]);
    expect(infos()).toContain(
      'Failed to save: Unable to reserve cache with key immutable, another job may be creating this cache.',
    );
    expect(logLines().join('\n')).toContain(
      '(409) Conflict: cache entry with the same key, version, and scope already exists',
    );
    expect(annotations('warning')).toEqual([]);
    expect(blobRequests(server, 'PUT')).toHaveLength(1);
    expect(server.entries()).toHaveLength(1);

    rmSync(join(ws, 'data'), { recursive: true });
    expect(await cache.restoreCache(['data'], 'immutable')).toBe('immutable');
    expect(readFileSync(join(ws, 'data/v.txt'), 'utf8')).toBe('first');
  });

  it('uploads an archive over 128 MiB in 64 MiB blocks and a block list, and restores it byte for byte', async () => {
    const server = await start();
    const saved = tempDir('ws-save');
    writeTree(saved, { 'data/huge.bin': randomBytes(130 * MiB), 'data/small.txt': 'small\n' });
    enterStep(server, saved);
    expect(await cache.saveCache(['data'], 'huge')).toBeGreaterThan(0);
    const fresh = tempDir('ws-restore');
    enterStep(server, fresh);
    expect(await cache.restoreCache(['data'], 'huge')).toBe('huge');
    expectSameTree(join(fresh, 'data'), join(saved, 'data'));

    const size = server.entries()[0]!.size;
    const puts = blobRequests(server, 'PUT').map((r) => r.path.replace(/^[^?]*/, ''));
    expect(puts.filter((q) => q.startsWith('?comp=block&blockid='))).toHaveLength(
      Math.ceil(size / (64 * MiB)),
    );
    expect(puts.at(-1)).toBe('?comp=blocklist');
    const gets = blobRequests(server, 'GET').sort((a, b) => rangeStart(a) - rangeStart(b));
    expect(gets.map((r) => r.range)).toEqual(expectedRanges(size));
    expect(annotations('warning')).toEqual([]);
  });

  it("with blobHost 'loopback', needs no proxy and @actions/cache downloads with one plain GET", async () => {
    const server = await start({ blobHost: 'loopback' });
    expect(server.env).not.toHaveProperty('HTTP_PROXY');
    const saved = tempDir('ws-save');
    writeTree(saved, { 'data/blob.bin': randomBytes(2 * MiB) });
    enterStep(server, saved);
    expect(await cache.saveCache(['data'], 'plain')).toBeGreaterThan(0);
    const fresh = tempDir('ws-restore');
    enterStep(server, fresh);
    expect(await cache.restoreCache(['data'], 'plain')).toBe('plain');
    expectSameTree(join(fresh, 'data'), join(saved, 'data'));
    expect(blobRequests(server, 'PUT').map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/berthcache\/actions-cache\/[^?]+$/),
    ]);
    expect(blobRequests(server, 'HEAD')).toEqual([]);
    expect(blobRequests(server, 'GET').map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
  });

  it('answers the legacy v1 API with 422, as GitHub has since its sunset, when ACTIONS_CACHE_SERVICE_V2 is unset', async () => {
    const server = await start();
    enterStep(server, tempDir('ws'));
    vi.stubEnv('ACTIONS_CACHE_SERVICE_V2', undefined);
    expect(await cache.restoreCache(['data'], 'k')).toBeUndefined();
    expect(annotations('warning')).toEqual(['Failed to restore: Cache service responded with 422']);
    expect(server.requests().map((r) => [r.path.replace(/\?.*/, ''), r.status])).toEqual([
      ['/_apis/artifactcache/cache', 422],
    ]);
  });

  it("fail: 'refuse' (connection refused): saveCache and restoreCache do not throw", async () => {
    const server = await start({ fail: 'refuse' });
    const ws = tempDir('ws');
    enterStep(server, ws);
    writeTree(ws, { 'data/v.txt': 'x' });
    expect(await cache.saveCache(['data'], 'k')).toBe(-1);
    expect(await cache.restoreCache(['data'], 'k')).toBeUndefined();
    expect(infos()).toContain(
      'Failed to save: Unable to reserve cache with key k, another job may be creating this cache.',
    );
    expect(annotations('warning')).toEqual([
      expect.stringMatching(
        /^Failed to restore: Failed to GetCacheEntryDownloadURL: Unable to make request: ECONNREFUSED/,
      ),
    ]);
    expect(annotations('error')).toEqual([]);
  });

  it("fail: 'all' (HTTP 500): saveCache and restoreCache retry 5 times each, then give up without throwing", async () => {
    const server = await start({ fail: 'all' });
    const ws = tempDir('ws');
    enterStep(server, ws);
    writeTree(ws, { 'data/v.txt': 'x' });
    // The client waits about 30 s between its attempts; save and restore wait side by side.
    const [id, matched] = await Promise.all([
      cache.saveCache(['data'], 'k'),
      cache.restoreCache(['data'], 'k', ['k-']),
    ]);
    expect(id).toBe(-1);
    expect(matched).toBeUndefined();
    expect(twirpCalls(server, 'CreateCacheEntry').map((r) => r.status)).toEqual(Array(5).fill(500));
    expect(twirpCalls(server, 'GetCacheEntryDownloadURL').map((r) => r.status)).toEqual(Array(5).fill(500));
    expect(server.requests()).toHaveLength(10);
    expect(infos()).toContain(
      'Failed to save: Unable to reserve cache with key k, another job may be creating this cache.',
    );
    expect(annotations('warning')).toEqual([
      expect.stringMatching(
        /^Failed to restore: Failed to GetCacheEntryDownloadURL: Failed to make request after 5 attempts: Failed request: \(500\)/,
      ),
    ]);
    expect(annotations('error')).toEqual([]);
  });
});

describe('the cache server with @actions/cache in a runner-like step', () => {
  it('saves in one step and restores in another through runAction, with only server.env added', async () => {
    const server = await start();
    const saved = tempDir('ws-save');
    writeTree(saved, { 'data/a.txt': 'from the step\n', 'data/b.bin': randomBytes(5 * MiB) });
    const save = await runAction(cacheAction, {
      workspace: saved,
      env: server.env,
      inputs: { mode: 'save', path: 'data', key: 'step-linux-1' },
    });
    expect(save.exitCode, save.log).toBe(0);
    expect(save.outputs).toMatchObject({ available: 'true', 'cache-id': '1' });
    expect(save.warnings).toEqual([]);

    const fresh = tempDir('ws-restore');
    const restore = await runAction(cacheAction, {
      workspace: fresh,
      env: server.env,
      inputs: { mode: 'restore', path: 'data', key: 'step-linux-2', 'restore-keys': 'step-linux-\nstep-' },
    });
    expect(restore.exitCode, restore.log).toBe(0);
    expect(restore.outputs['matched-key']).toBe('step-linux-1');
    expect(restore.log).toContain('Cache hit for restore-key: step-linux-1');
    expect(restore.warnings).toEqual([]);
    expectSameTree(join(fresh, 'data'), join(saved, 'data'));
    // The step's Azure SDK reached the blob through HTTP_PROXY: properties, then ranged GETs.
    expect(blobRequests(server, 'HEAD')).toHaveLength(1);
    expect(
      blobRequests(server, 'GET')
        .map((r) => r.range)
        .sort(),
    ).toEqual(expectedRanges(server.entries()[0]!.size).sort());
  });
});

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_MARKER, isReplaceableCache, prepareLocalCache, rotateLocalCache } from './local-cache.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'berth-cache-'));

describe('the local cache directory', () => {
  it('may replace a missing, empty, marked or buildx-layout directory', () => {
    const root = tmp();
    expect(isReplaceableCache(join(root, 'missing'))).toBe(true);
    mkdirSync(join(root, 'empty'));
    expect(isReplaceableCache(join(root, 'empty'))).toBe(true);
    mkdirSync(join(root, 'legacy/blobs'), { recursive: true });
    writeFileSync(join(root, 'legacy/index.json'), '{}');
    expect(isReplaceableCache(join(root, 'legacy'))).toBe(true);
    mkdirSync(join(root, 'marked'));
    writeFileSync(join(root, 'marked', CACHE_MARKER), '');
    writeFileSync(join(root, 'marked', 'anything'), '');
    expect(isReplaceableCache(join(root, 'marked'))).toBe(true);
    writeFileSync(join(root, 'file'), '');
    expect(isReplaceableCache(join(root, 'file'))).toBe(false);
  });

  it('refuses a directory holding anything else, naming cache-dir, and leaves it untouched', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    expect(() => prepareLocalCache(dir)).toThrow(/^Input "cache-dir": .* is not a Berth cache/);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a foreign `-new` directory too, and clears one a killed build left', () => {
    const root = tmp();
    mkdirSync(join(root, 'cache-new'));
    writeFileSync(join(root, 'cache-new', 'precious.txt'), 'keep me');
    expect(() => prepareLocalCache(join(root, 'cache'))).toThrow(/cache-new exists and is not a Berth cache/);
    expect(existsSync(join(root, 'cache-new', 'precious.txt'))).toBe(true);
    const other = tmp();
    mkdirSync(join(other, 'cache-new/ingest'), { recursive: true });
    prepareLocalCache(join(other, 'cache'));
    expect(existsSync(join(other, 'cache-new'))).toBe(false);
  });

  it('marks the cache a build wrote when it replaces the old one', () => {
    const root = tmp();
    const dir = join(root, 'cache');
    mkdirSync(join(root, 'cache-new'));
    writeFileSync(join(root, 'cache-new', 'index.json'), '{"new":1}');
    rotateLocalCache(dir);
    expect(readFileSync(join(dir, 'index.json'), 'utf8')).toBe('{"new":1}');
    expect(existsSync(join(dir, CACHE_MARKER))).toBe(true);
    expect(existsSync(join(root, 'cache-new'))).toBe(false);
  });
});

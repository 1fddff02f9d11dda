import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dbAgeHours,
  dbCacheKey,
  dbDir,
  isDbFresh,
  parseDbMetadata,
  readDbMetadata,
  shouldSaveDb,
  type DbMetadata,
} from './db.js';

const NOW = new Date('2026-03-14T12:00:00Z');
// Trivy writes Go's zero time for a field it has not set.
const ZERO = '0001-01-01T00:00:00Z';
const upstream: DbMetadata = {
  Version: 2,
  NextUpdate: '2026-03-14T18:00:00Z',
  UpdatedAt: '2026-03-14T06:00:00Z',
  DownloadedAt: '2026-03-14T11:30:00Z',
};

describe('the DB metadata', () => {
  it('fresh while NextUpdate is ahead and the schema is 2', () => {
    expect(isDbFresh(upstream, NOW)).toBe(true);
    expect(isDbFresh({ ...upstream, NextUpdate: '2026-03-14T11:59:59Z' }, NOW)).toBe(false);
    expect(isDbFresh({ ...upstream, Version: 1 }, NOW)).toBe(false);
    expect(isDbFresh({ ...upstream, NextUpdate: ZERO }, NOW)).toBe(false);
    expect(isDbFresh(undefined, NOW)).toBe(false);
  });

  it('age in hours from UpdatedAt, else DownloadedAt, one decimal', () => {
    expect(dbAgeHours(upstream, NOW)).toBe(6);
    expect(dbAgeHours({ ...upstream, UpdatedAt: '2026-03-14T10:33:00Z' }, NOW)).toBe(1.5);
    expect(dbAgeHours({ ...upstream, UpdatedAt: ZERO }, NOW)).toBe(0.5);
    expect(dbAgeHours({ Version: 2, UpdatedAt: ZERO, DownloadedAt: ZERO }, NOW)).toBeUndefined();
    expect(dbAgeHours({ ...upstream, UpdatedAt: '2026-03-15T00:00:00Z' }, NOW)).toBe(0);
  });

  it('is read from <cache-dir>/db only when trivy.db is there too', () => {
    const cache = mkdtempSync(join(tmpdir(), 'berth-db-test-'));
    expect(readDbMetadata(cache)).toBeUndefined();
    mkdirSync(dbDir(cache));
    writeFileSync(join(dbDir(cache), 'metadata.json'), JSON.stringify(upstream));
    expect(readDbMetadata(cache)).toBeUndefined();
    writeFileSync(join(dbDir(cache), 'trivy.db'), '');
    expect(readDbMetadata(cache)).toEqual(upstream);
    expect(parseDbMetadata('not json')).toBeUndefined();
    expect(parseDbMetadata('[]')).toBeUndefined();
  });
});

describe('the DB in the GitHub cache', () => {
  it('one key per OS and UTC day, any earlier day as the restore key', () => {
    expect(dbCacheKey('Linux', NOW)).toEqual({
      key: 'berth-trivy-db-linux-2026-03-14',
      restoreKeys: ['berth-trivy-db-linux-'],
    });
    expect(dbCacheKey('linux', new Date('2026-03-14T23:59:59.999Z')).key).toBe(
      'berth-trivy-db-linux-2026-03-14',
    );
  });

  it("saved unless today's entry was restored or there is no DB", () => {
    const key = 'berth-trivy-db-linux-2026-03-14';
    expect(shouldSaveDb(undefined, key, upstream)).toBe(true);
    expect(shouldSaveDb('berth-trivy-db-linux-2026-03-13', key, upstream)).toBe(true);
    expect(shouldSaveDb(key, key, upstream)).toBe(false);
    expect(shouldSaveDb(undefined, key, undefined)).toBe(false);
  });
});

// Trivy's vulnerability DB in the cache dir (`<cache-dir>/db`: trivy.db and metadata.json): whether
// it is fresh enough to skip the update, how old it is, and its key in the GitHub cache, one entry a day.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DB_CACHE_PREFIX } from './constants.js';

/** The DB schema Trivy 0.74 reads. */
export const DB_SCHEMA_VERSION = 2;

/** Trivy's `metadata.json` beside trivy.db. */
export interface DbMetadata {
  Version?: number;
  NextUpdate?: string;
  UpdatedAt?: string;
  DownloadedAt?: string;
}

export function dbDir(cacheDir: string): string {
  return join(cacheDir, 'db');
}

export function parseDbMetadata(text: string): DbMetadata | undefined {
  try {
    const data = JSON.parse(text) as unknown;
    return typeof data === 'object' && data !== null && !Array.isArray(data)
      ? (data as DbMetadata)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata of the DB in `cacheDir`, when there is a DB there (trivy.db and metadata.json). */
export function readDbMetadata(cacheDir: string): DbMetadata | undefined {
  const dir = dbDir(cacheDir);
  if (!existsSync(join(dir, 'trivy.db')) || !existsSync(join(dir, 'metadata.json'))) return undefined;
  try {
    return parseDbMetadata(readFileSync(join(dir, 'metadata.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A timestamp of the metadata, undefined for Go's zero time (`0001-01-01T00:00:00Z`) or junk. */
function time(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || new Date(ms).getUTCFullYear() <= 1 ? undefined : ms;
}

/** Of Trivy's schema, and its NextUpdate still ahead: Trivy would not update it either. */
export function isDbFresh(meta: DbMetadata | undefined, now: Date): boolean {
  if (meta?.Version !== DB_SCHEMA_VERSION) return false;
  const next = time(meta.NextUpdate);
  return next !== undefined && next > now.getTime();
}

/** Hours since the DB was built (UpdatedAt), or else since it was downloaded; one decimal. */
export function dbAgeHours(meta: DbMetadata | undefined, now: Date): number | undefined {
  const at = time(meta?.UpdatedAt) ?? time(meta?.DownloadedAt);
  if (at === undefined) return undefined;
  return Math.round(Math.max(0, now.getTime() - at) / 360_000) / 10;
}

export interface DbCacheKey {
  /** today's entry: `berth-trivy-db-linux-2026-03-14` */
  key: string;
  /** any earlier day's entry of the same OS, the newest first (the cache service's prefix match) */
  restoreKeys: string[];
}

/** One cache entry per OS and UTC day. */
export function dbCacheKey(os: string, now: Date): DbCacheKey {
  const prefix = `${DB_CACHE_PREFIX}${os.toLowerCase()}-`;
  return { key: `${prefix}${now.toISOString().slice(0, 10)}`, restoreKeys: [prefix] };
}

/**
 * After the scan: save the DB under today's key unless today's entry is what was restored (the
 * cache holds it already) or there is no valid DB to save.
 */
export function shouldSaveDb(
  restoredKey: string | undefined,
  key: string,
  meta: DbMetadata | undefined,
): boolean {
  return restoredKey !== key && meta?.Version === DB_SCHEMA_VERSION;
}

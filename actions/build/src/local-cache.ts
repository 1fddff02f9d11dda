// The local cache directory's life: buildx only ever adds to a local cache, so each build writes a
// fresh one beside it (`<dir>-new`) that then replaces the old directory. Replacing means deleting:
// only a directory that is a Berth cache is ever deleted. Berth marks the ones it makes; a directory
// holding anything else (a mistyped `cache-dir: .`, a home directory) is refused and left untouched.
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../../lib/action/inputs.js';
import { localCacheStaging } from './cache.js';
import { Inputs as I } from './constants.js';

/** The file that says "Berth made this directory, it may replace it". */
export const CACHE_MARKER = '.berth-cache';

/** What a buildx local cache (an OCI layout) holds: caches of Berth versions before the marker. */
const CACHE_LAYOUT = new Set(['index.json', 'oci-layout', 'blobs', 'ingest', CACHE_MARKER]);

/** Whether `dir` may be deleted: missing, empty, marked, or nothing but a buildx cache layout. */
export function isReplaceableCache(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (!statSync(dir).isDirectory()) return false;
  const entries = readdirSync(dir);
  return entries.includes(CACHE_MARKER) || entries.every((entry) => CACHE_LAYOUT.has(entry));
}

/**
 * Before the build: refuses (naming cache-dir) a directory, or a `-new` staging directory, that the
 * rotation would delete but that is not a Berth cache; removes a staging directory a killed build left.
 */
export function prepareLocalCache(dir: string): void {
  const staging = localCacheStaging(dir);
  for (const path of [dir, staging]) {
    if (!isReplaceableCache(path)) {
      throw inputError(
        I.CacheDir,
        `${path} exists and is not a Berth cache (no ${CACHE_MARKER} file): every build replaces the cache ` +
          `directory and writes ${staging} first, so both must be new, empty or made by Berth. Choose another cache-dir`,
      );
    }
  }
  rmSync(staging, { recursive: true, force: true });
}

/** After the build: the cache it wrote (marked as Berth's) replaces the old directory. */
export function rotateLocalCache(dir: string): void {
  const staging = localCacheStaging(dir);
  if (!existsSync(staging)) return;
  writeFileSync(
    join(staging, CACHE_MARKER),
    'A buildx local cache made by berth/build; each build replaces it.\n',
  );
  // Checked again: the directory may have changed while the build ran.
  if (!isReplaceableCache(dir))
    throw inputError(I.CacheDir, `${dir} is no longer a Berth cache; not replacing it`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}

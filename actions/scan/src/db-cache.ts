// The vulnerability DB in the GitHub cache: restored before the scan, saved after it. The cache
// service is a speed-up, never a requirement: when it is missing or fails, that is a warning and
// Trivy downloads the DB itself. @actions/cache is loaded only here, on first use.
import * as core from '@actions/core';
import { enableCompileCache } from 'node:module';
import { errorMessage } from '../../../lib/action/wrapper.js';

type CacheModule = typeof import('@actions/cache');

let loaded: Promise<CacheModule> | undefined;
/**
 * @actions/cache (with the Azure SDK) costs about 200 ms to compile and load, so only runs that cache
 * the DB load it, and Node's compile cache (in its default place, os.tmpdir()) keeps the compiled
 * code for the next run on the same runner, which then loads it in half the time.
 */
function cacheModule(): Promise<CacheModule> {
  if (!loaded) {
    enableCompileCache?.();
    loaded = import('@actions/cache');
  }
  return loaded;
}

export interface RestoreResult {
  /** the key of the entry restored, undefined on a miss or when the cache could not be used */
  key?: string;
  /** false when the cache service is missing or failed (a warning was logged) */
  available: boolean;
}

export async function restoreDb(dir: string, key: string, restoreKeys: string[]): Promise<RestoreResult> {
  const cache = await cacheModule();
  if (!cache.isFeatureAvailable()) {
    core.warning(
      'The GitHub cache service is not available to this job, so the vulnerability DB is not restored from it ' +
        'nor saved to it; Trivy downloads it',
    );
    return { available: false };
  }
  try {
    const { result, warnings } = await watchingWarnings(() => cache.restoreCache([dir], key, restoreKeys));
    // A failed restore is only a warning of @actions/cache's own; a miss is silent.
    const failed = warnings.some((w) => w.startsWith('Failed to restore'));
    if (failed) core.info('The cache service failed, so the DB will not be saved to it either');
    return { key: result, available: !failed };
  } catch (error) {
    core.warning(`Restoring the vulnerability DB from the cache failed: ${errorMessage(error)}`);
    return { available: false };
  }
}

/**
 * Runs `fn` and returns the warnings and errors issued meanwhile (workflow commands on stdout),
 * passing everything through: @actions/cache reports a failed restore that way and returns the same
 * undefined as for a miss, and a failing service should not then be asked to save.
 */
async function watchingWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    for (const line of text.split(/\r?\n/)) {
      const m = /^::(?:warning|error)(?: [^:]*)?::(.*)$/.exec(line);
      if (m) warnings.push(m[1]!);
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { result: await fn(), warnings };
  } finally {
    process.stdout.write = write;
  }
}

/** Saves `dir` under `key`; true when the cache service took it. Failures are warnings. */
export async function saveDb(dir: string, key: string): Promise<boolean> {
  const cache = await cacheModule();
  try {
    const id = await cache.saveCache([dir], key);
    // -1: @actions/cache already logged why (another job saving the same key, a service error).
    return id !== -1;
  } catch (error) {
    core.warning(`Saving the vulnerability DB to the cache failed: ${errorMessage(error)}`);
    return false;
  }
}

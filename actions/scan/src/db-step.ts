// The vulnerability DB around the scan: whether the scan needs it, restoring it from the GitHub cache
// (unless a fresh one is in the cache dir already), whether Trivy updates it, saving it after the
// scan, and what the summary says about it. One object per run holds what the steps learn.
import * as core from '@actions/core';
import { needsVulnerabilityDb, type TrivyTarget } from './command.js';
import { restoreDb, saveDb, type RestoreResult } from './db-cache.js';
import {
  dbAgeHours,
  dbCacheKey,
  dbDir,
  isDbFresh,
  readDbMetadata,
  shouldSaveDb,
  type DbCacheKey,
  type DbMetadata,
} from './db.js';
import { dbCacheState, type DbDetails } from './details.js';
import type { Inputs } from './inputs.js';

type DbInputs = Pick<Inputs, 'cache-dir' | 'cache-db' | 'db-repository' | 'scanners'>;

export class VulnerabilityDb {
  /** the scan reads the vulnerability DB (vulnerabilities of anything but a config scan) */
  readonly needed: boolean;
  private readonly cacheDir: string;
  /** a fresh DB was in the cache dir from the start (a self-hosted runner): no GitHub cache either way */
  private readonly localFresh: boolean;
  /** restore the DB from the GitHub cache and save it after */
  private readonly useCache: boolean;
  private readonly cacheKey: DbCacheKey;
  private restored?: RestoreResult;
  private before?: DbMetadata;
  private saved?: string;

  constructor(
    private readonly inputs: DbInputs,
    target: TrivyTarget,
    private readonly now: Date,
  ) {
    this.cacheDir = inputs['cache-dir'];
    this.needed = needsVulnerabilityDb(target, inputs.scanners);
    this.localFresh = this.needed && isDbFresh(readDbMetadata(this.cacheDir), now);
    this.useCache = this.needed && inputs['cache-db'] && !this.localFresh;
    this.cacheKey = dbCacheKey(process.env.RUNNER_OS || process.platform, now);
  }

  /** Restores the DB from the GitHub cache, when it is to be used. */
  async restore(): Promise<void> {
    if (!this.useCache) return;
    const { key, restoreKeys } = this.cacheKey;
    const restored = await restoreDb(dbDir(this.cacheDir), key, restoreKeys);
    if (restored.key) core.info(`Restored the DB from the cache entry ${restored.key}`);
    else if (restored.available) core.info(`No DB in the cache under ${key} or ${restoreKeys[0]}*`);
    this.restored = restored;
  }

  /** Before the scan: whether Trivy is to update the DB (the scan needs it and it is not fresh). */
  beforeScan(): boolean {
    this.before = readDbMetadata(this.cacheDir);
    if (!this.needed) return false;
    const fresh = isDbFresh(this.before, this.now);
    core.info(
      fresh
        ? `The DB in ${this.cacheDir} is fresh: Trivy will not update it`
        : `Trivy will download the DB from ${this.inputs['db-repository'].join(', ')}`,
    );
    return !fresh;
  }

  /** After the scan, whatever its outcome: today's entry, unless the cache has it already. */
  async save(): Promise<void> {
    const { key } = this.cacheKey;
    const restored = this.restored;
    if (!this.useCache || !restored?.available) return;
    if (!shouldSaveDb(restored.key, key, readDbMetadata(this.cacheDir))) return;
    this.saved = await core.group('Save the vulnerability DB to the cache', async () => {
      if (!(await saveDb(dbDir(this.cacheDir), key))) return undefined;
      core.info(`Saved the DB as ${key}`);
      return key;
    });
  }

  /** What the summary says about the DB after the scan; undefined when the scan needed none. */
  details(): DbDetails | undefined {
    if (!this.needed) return undefined;
    const after = readDbMetadata(this.cacheDir);
    return {
      ageHours: dbAgeHours(after, this.now),
      cache: dbCacheState(this.inputs['cache-db'], this.localFresh, this.restored),
      downloaded: after?.DownloadedAt !== undefined && after.DownloadedAt !== this.before?.DownloadedAt,
      saved: this.saved,
    };
  }
}

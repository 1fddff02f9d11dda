// After a backup: the destinations lose interrupted backups (no manifest) and, by `retention`, old
// complete ones. Artifacts are left to GitHub's expiry.
import * as core from '@actions/core';
import { authenticity, genuineIds } from './genuine.js';
import { backupIdDate, type Inputs } from './inputs.js';
import { removeStalePartials } from './partial.js';
import { keptBackups } from './retention.js';
import { warnSymlinks, type BackupStore } from './store.js';

async function pruneStore(store: BackupStore, inputs: Inputs, current: string): Promise<string[]> {
  const listing = await store.list();
  warnSymlinks(store, listing.symlinks ?? []);
  // Directories without a manifest are runs that died, or backups being written now (partial.ts).
  await removeStalePartials(store, listing.partial, current);
  if (!inputs.retention) return [];
  // Only this project's genuine backups: another project's, forged ones and failed ones are not ours to delete.
  const ours = await genuineIds(store, listing.complete, authenticity(inputs));
  const kept = keptBackups(
    ours.map((x) => ({ id: x, created: backupIdDate(x) })),
    inputs.retention,
  );
  kept.add(current);
  const pruned = ours.filter((x) => !kept.has(x));
  core.info(
    `${store.label}: keeping ${kept.size}, pruning ${pruned.length}${pruned.length ? `: ${pruned.join(', ')}` : ''}`,
  );
  await store.remove(pruned);
  return pruned;
}

/** Applies retention to every store but artifacts; the ids pruned anywhere, sorted. */
export async function applyRetention(
  stores: readonly BackupStore[],
  inputs: Inputs,
  current: string,
): Promise<string[]> {
  const pruned = new Set<string>();
  for (const store of stores) {
    if (!store.pruned) {
      core.info(
        `${store.label}: kept for ${inputs['artifact-retention-days'] ?? 'the repository’s default number of'} days by GitHub; Berth’s retention does not apply`,
      );
      continue;
    }
    for (const x of await pruneStore(store, inputs, current)) pruned.add(x);
  }
  return [...pruned].sort();
}

/**
 * Runs `backup`; when it fails, backup `id` (only it: its own) is removed where it has no manifest yet. A backup that failed verification keeps its manifest, for inspection; one that was
 * killed is cleaned up by the next run.
 */
export async function removeIfUnfinished<T>(
  stores: readonly BackupStore[],
  id: string,
  backup: () => Promise<T>,
): Promise<T> {
  try {
    return await backup();
  } catch (error) {
    for (const store of stores) {
      const listing = await store.list().catch(() => undefined);
      if (listing?.partial.includes(id)) await store.remove([id]).catch(() => undefined);
    }
    throw error;
  }
}

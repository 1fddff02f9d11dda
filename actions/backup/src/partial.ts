// Interrupted backups (a directory without a manifest) and the backups being written right now look
// the same in a listing. A partial is removed only when its id is older than PARTIAL_MAX_AGE and, at
// a `host:` destination, no backup is being written into the directory: every writer holds the
// directory's lock shared while it writes, the removal takes it exclusively or leaves the partials
// for a later run. An `ssh://` (sftp-only) account has no shell and so no lock: there the age bound
// alone protects a backup in progress (no backup takes 24 h).
import * as core from '@actions/core';
import type { SshSession } from '../../../lib/ssh/session.js';
import { holdOnHost, stderrTail } from './hold.js';
import { backupIdDate, type Inputs } from './inputs.js';
import { HOLD_WRITERS, REMOVE_UNHELD } from './script/lock.js';
import { runHostScript } from '../../../lib/ssh/host-script.js';
import { ShellStore, warnSymlinks, type BackupStore } from './store.js';

export const PARTIAL_MAX_AGE_HOURS = 24;

/** The partials (other than `current`) whose id is older than the bound, and the others. */
export function stalePartials(
  ids: readonly string[],
  current: string,
  now: Date,
): { stale: string[]; fresh: string[] } {
  const bound = now.getTime() - PARTIAL_MAX_AGE_HOURS * 3600_000;
  const others = ids.filter((x) => x !== current);
  return {
    stale: others.filter((x) => backupIdDate(x).getTime() < bound),
    fresh: others.filter((x) => backupIdDate(x).getTime() >= bound),
  };
}

/**
 * Holds the lock of every `host:` destination directory for a writer (shared with other writers)
 * until the returned function is called.
 */
export async function holdWriters(
  stores: readonly BackupStore[],
  inputs: Pick<Inputs, 'lock-timeout'>,
): Promise<() => Promise<void>> {
  const shells = stores.filter((s): s is ShellStore => s instanceof ShellStore);
  if (shells.length === 0) return async () => {};
  const values = { DIRS: shells.map((s) => s.dir), LOCK_TIMEOUT: inputs['lock-timeout'] };
  const held = await holdOnHost(shells[0]!.session, HOLD_WRITERS, values, {
    ready: 'locked',
    failed: (r) =>
      new Error(
        r.report.has('busy')
          ? `${r.report.last('busy')}: interrupted backups were being removed for longer than ${inputs['lock-timeout']} s (lock-timeout)`
          : `locking the destination directories failed: ${r.report.last('missing') === 'flock' ? 'flock is not installed on the host' : stderrTail(r)}`,
      ),
  });
  let released: Promise<unknown> | undefined;
  return async () => {
    await (released ??= held.release());
  };
}

async function removeUnheld(session: SshSession, store: ShellStore, ids: string[]): Promise<void> {
  const { report } = await runHostScript(
    session,
    REMOVE_UNHELD,
    { DIR: store.dir, IDS: ids },
    { silent: true },
  );
  if (report.has('busy')) {
    core.info(
      `${store.label}: a backup is being written there; interrupted backups are left for a later run`,
    );
    return;
  }
  warnSymlinks(store, report.all('symlink'));
  const removed = report.all('removed');
  if (removed.length > 0) core.info(`${store.label}: removed interrupted backups: ${removed.join(', ')}`);
}

/** Removes the interrupted backups of `partial` that are old enough and, at `host:`, not being written. */
export async function removeStalePartials(
  store: BackupStore,
  partial: readonly string[],
  current: string,
  now = new Date(),
): Promise<void> {
  const { stale, fresh } = stalePartials(partial, current, now);
  if (fresh.length > 0)
    core.info(
      `${store.label}: keeping backups without a manifest younger than ${PARTIAL_MAX_AGE_HOURS} h (maybe being written): ${fresh.join(', ')}`,
    );
  if (stale.length === 0) return;
  if (store instanceof ShellStore) return removeUnheld(store.session, store, stale);
  core.info(`${store.label}: removing interrupted backups without a manifest: ${stale.join(', ')}`);
  await store.remove(stale);
}

// Restore's volume swap as one transaction (script/swap.ts does the work on the host): every volume
// in, or every volume back as it was. When the swap fails or its script dies (killed, connection
// lost), the runner rolls it back from the host's journal; a restore that could not (the runner died
// too) is rolled back by the next restore of the project, before it changes anything.
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { oneLine } from '../../../lib/action/untrusted.js';
import { readReportLine, runHostScript, type HostReport } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { took } from './digest.js';
import type { HostScratch } from './receive.js';
import type { Received } from './receive.js';
import { ROLLBACK, SWAP } from './script/swap.js';

/** The journal names the restore (`.berth-restore-old-<id>` in each volume during the swap). */
export function newRestoreId(): string {
  return randomBytes(6).toString('hex');
}

function reportRollback(report: HostReport, why: string): void {
  for (const id of report.all('rolled-back-restore'))
    core.warning(`${why}: restore ${oneLine(id)} did not finish; every volume it touched was put back`);
  for (const id of report.all('committed'))
    core.info(`${why}: restore ${oneLine(id)} had committed; its old content is now removed`);
  for (const [target, temp] of report.pairs('rolled-back'))
    core.info(
      `Volume ${oneLine(target)} holds its old content again (restored content kept in ${oneLine(temp)})`,
    );
}

/** Settles any restore of the project that a dead run left half-done (its journal on the host). */
export async function settleUnfinished(host: SshSession, project: string): Promise<void> {
  const values = { PROJECT: project, RESTORE_ID: '' };
  const { report } = await runHostScript(host, ROLLBACK, values, { silent: true });
  reportRollback(report, 'Found an unfinished restore of this project');
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The error of a failed swap: why, what was rolled back, which temp volumes keep the restored content. */
function swapFailed(error: unknown, temps: string[], rollback: unknown): Error {
  const reason = errorText(error);
  const kept = `the restored content is kept in ${temps.join(', ')} for inspection (remove with docker volume rm)`;
  if (rollback === undefined) {
    return new Error(
      `the volume swap failed; every volume holds its old content again and its containers were started; ${kept}: ${reason}`,
    );
  }
  const why = errorText(rollback);
  return new Error(
    `the volume swap failed and so did its roll-back (${why}); the next restore of this project rolls it back first; ${kept}: ${reason}`,
  );
}

/**
 * Swaps every received volume in, as one transaction (SWAP). On failure, rolls it back (ROLLBACK),
 * keeps the temp volumes and names them in the error and the summary (rollBack).
 */
export async function swapVolumes(
  host: SshSession,
  project: string,
  received: Received,
  scratch: HostScratch,
): Promise<void> {
  await settleUnfinished(host, project);
  if (received.volumes.length === 0) return;
  const restoreId = newRestoreId();
  const temps = received.volumes.map((v) => v.temp);
  const values = {
    IMAGE: received.helper.image,
    PROJECT: project,
    RESTORE_ID: restoreId,
    VOLUMES: received.volumes.map((v) => v.volume),
    TEMPS: temps,
  };
  const started = Date.now();
  core.info(`Restore ${restoreId}: swapping in ${values.VOLUMES.join(', ')}`);
  let journaled = false;
  try {
    const { report } = await runHostScript(host, SWAP, values, {
      silent: true,
      onStdoutLine: (line) => {
        const entry = readReportLine(line);
        if (entry?.key === 'journal') journaled = true;
        if (entry?.key === 'swap-step') core.info(`swap-step ${entry.value}`);
      },
    });
    for (const temp of temps) scratch.consumed(temp);
    for (const [volume, rest] of report.pairs('swapped'))
      core.info(`Volume ${volume} restored (${oneLine(rest)})`);
    core.info(`Every volume swapped in and committed in ${took(started)}`);
  } catch (error) {
    const failed = await rollBack(host, project, restoreId, { error, temps, journaled, scratch });
    if (failed) throw failed;
    core.warning(
      `The swap had committed when its script failed (${errorText(error)}); its roll-forward finished it`,
    );
  }
}

/**
 * Rolls the failed swap back; returns the error to throw. The temp volumes are kept for inspection
 * (not dropped with the scratch) unless the swap had changed nothing (it refused at its plan).
 */
async function rollBack(
  host: SshSession,
  project: string,
  restoreId: string,
  failed: { error: unknown; temps: string[]; journaled: boolean; scratch: HostScratch },
): Promise<Error | undefined> {
  let rollback: unknown;
  let touched = failed.journaled;
  try {
    const values = { PROJECT: project, RESTORE_ID: restoreId };
    const { report } = await runHostScript(host, ROLLBACK, values, { silent: true });
    reportRollback(report, 'The swap failed');
    // Past its commit point, the journal is finished, not undone: every volume holds the backup.
    if (report.all('committed').includes(restoreId)) {
      for (const temp of failed.temps) failed.scratch.consumed(temp);
      return undefined;
    }
    touched ||= report.all('rolled-back-restore').includes(restoreId);
  } catch (e) {
    rollback = e;
    touched = true;
  }
  if (!touched) {
    return new Error(`the volume swap refused to start; nothing was changed: ${errorText(failed.error)}`);
  }
  for (const temp of failed.temps) failed.scratch.consumed(temp);
  const error = swapFailed(failed.error, failed.temps, rollback);
  await core.summary.addRaw(`### Restore of ${project} failed\n\n${error.message.split(': ')[0]}\n`).write();
  return error;
}

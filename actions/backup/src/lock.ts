// The project's lock on the host: modes backup and restore hold berth/deploy's own flock on
// `<remote-dir>/.lock` from start to end, so a backup, a restore and a deploy of one project never
// overlap (the nightly backup and the pre-deploy backup included, whatever their concurrency groups).
// Mode verify does not take it: it changes no live data (scratch volumes and containers of its own),
// and a long verify must not make a deploy time out.
import * as core from '@actions/core';
import { contextFromEnv, runUrl } from '../../../lib/action/github.js';
import { inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import type { HostScriptResult } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { metricsDirError, textfileValues } from '../../../lib/ssh/textfile.js';
import { Inputs as I } from './constants.js';
import { holdOnHost, stderrTail } from './hold.js';
import type { Inputs } from './inputs.js';
import { backupTextfile } from './metrics.js';
import { HOLD_PROJECT_LOCK } from './script/lock.js';

type LockInputs = Pick<Inputs, 'mode' | 'project' | 'user' | 'remote-dir' | 'lock-timeout' | 'metrics-dir'>;

/** The line the lock file holds while we hold it, in deploy's style (one JSON object). */
export function holderLine(inputs: LockInputs, now: Date, env = process.env): string {
  const ctx = contextFromEnv(env, '');
  return JSON.stringify({
    [inputs.mode]: inputs.project,
    actor: ctx.actor,
    run: runUrl(ctx),
    since: now.toISOString(),
  });
}

const FLOCK_MISSING =
  'flock is not installed on the host (backup, restore and deploy of a project take a lock in remote-dir): sudo apt-get install util-linux';

/** Why the lock was not taken, naming the input that fixes it. */
export function lockError(result: Pick<HostScriptResult, 'report' | 'stderr'>, inputs: LockInputs): Error {
  const { report } = result;
  const dir = inputs['remote-dir'];
  const user = inputs.user;
  if (report.last('missing') === 'flock') return new Error(FLOCK_MISSING);
  const metrics = backupTextfile(inputs);
  const metricsError = metrics && metricsDirError(report, metrics, user);
  if (metricsError) return metricsError;
  const holder = report.last('lock-holder');
  if (holder !== undefined) {
    return inputError(
      I.LockTimeout,
      `${dir} stayed locked for ${inputs['lock-timeout']} s by another backup, restore or deploy: ${oneLine(holder.trim()) || 'unknown holder'}`,
    );
  }
  const blocked = report.last('blocked');
  if (blocked === 'not-a-directory') return inputError(I.RemoteDir, `${dir} is not a directory`);
  if (blocked === 'not-creatable')
    return inputError(
      I.RemoteDir,
      `${dir} does not exist and ${user} cannot create it: sudo install -d -o ${user} ${dir} (or set remote-dir to the project's deploy directory)`,
    );
  if (blocked === 'not-writable')
    return inputError(I.RemoteDir, `${dir} is not writable by ${user}: sudo chown ${user} ${dir}`);
  return new Error(`taking the lock ${dir}/.lock failed: ${stderrTail(result)}`);
}

/**
 * Takes the project's lock (waiting up to `lock-timeout`); the returned function lets go. The script
 * checks `metrics-dir` first: `metricsPassed` is called once it found the directory usable.
 */
export async function holdProjectLock(
  host: SshSession,
  inputs: LockInputs,
  metricsPassed?: () => void,
): Promise<() => Promise<void>> {
  const dir = inputs['remote-dir'];
  const values = {
    REMOTE_DIR: dir,
    LOCK_TIMEOUT: inputs['lock-timeout'],
    HOLDER: holderLine(inputs, new Date()),
    ...textfileValues(backupTextfile(inputs)),
  };
  const held = await holdOnHost(host, HOLD_PROJECT_LOCK, values, {
    ready: 'locked',
    onReport: (key, value) => {
      if (key === 'created') core.info(`Created ${dir} (remote-dir)`);
      if (key === 'metrics-dir') metricsPassed?.();
      if (key === 'waiting')
        core.info(
          `Waiting up to ${inputs['lock-timeout']} s for the lock ${dir}/.lock, held by ${oneLine(value.trim()) || 'unknown holder'}`,
        );
    },
    failed: (r) => lockError(r, inputs),
  });
  core.info(`Holding the lock ${dir}/.lock (shared with berth/deploy)`);
  return async () => {
    await held.release();
  };
}

// Input `metrics-dir`: `berth-backup-<project>.prom` in the node exporter's textfile directory says
// when the last backup succeeded and failed, how big and how long it was, and when a backup last
// verified: a stale-backup rule fires from it on the host even when the workflow never started.
// Mode backup writes it at its end, success or failure; mode verify updates the verified time; each
// keeps the other values from the previous file. Restore writes nothing. The directory is checked
// before anything changes (mode backup: in the lock script; verify: on its own); a write that fails
// afterwards is a warning: the backup is what the step reports on.
import * as core from '@actions/core';
import { oneLine } from '../../../lib/action/untrusted.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { checkMetricsDir, textfile, updateTextfile, type Textfile } from '../../../lib/ssh/textfile.js';
import {
  findValue,
  parseExposition,
  renderExposition,
  type Family,
} from '../../../lib/ssh/textfile-metrics.js';
import { Inputs as I } from './constants.js';
import type { BackupDone } from './backup.js';
import type { Inputs } from './inputs.js';

export const BACKUP_SERIES = {
  lastSuccess: {
    name: 'berth_backup_last_success_timestamp_seconds',
    help: 'When a backup last completed, Unix seconds.',
  },
  lastFailure: {
    name: 'berth_backup_last_failure_timestamp_seconds',
    help: 'When a backup last failed, Unix seconds.',
  },
  size: { name: 'berth_backup_size_bytes', help: 'Bytes stored by the last completed backup.' },
  duration: {
    name: 'berth_backup_duration_seconds',
    help: 'How long the last completed backup took, in seconds.',
  },
  lastVerified: {
    name: 'berth_backup_last_verified_timestamp_seconds',
    help: 'When a backup last verified (restored into scratch and matched its manifest), Unix seconds.',
  },
} as const;
type Series = keyof typeof BACKUP_SERIES;

/** What this run changes; everything else keeps the previous file's value. */
export type BackupUpdate = Partial<Record<Series, number>>;

/** The project's textfile, for the modes that write one (backup, verify) when `metrics-dir` is set. */
export function backupTextfile(
  inputs: Pick<Inputs, 'mode' | 'project' | 'metrics-dir'>,
): Textfile | undefined {
  const dir = inputs['metrics-dir'];
  if (dir === undefined || inputs.mode === 'restore') return undefined;
  return textfile(I.MetricsDir, dir, `berth-backup-${inputs.project}.prom`);
}

export function renderBackupMetrics(previous: string, project: string, update: BackupUpdate): string {
  const names = Object.values(BACKUP_SERIES).map((s) => s.name);
  const old = parseExposition(previous, new Set<string>(names));
  const families = Object.entries(BACKUP_SERIES).map(([key, { name, help }]): Family => {
    const value = update[key as Series] ?? findValue(old, name, { project });
    return {
      name,
      help,
      type: 'gauge',
      samples: value === undefined ? [] : [{ name, labels: { project }, value }],
    };
  });
  return renderExposition(families);
}

/** The textfile over one run: checked before anything changes, updated at the end. */
export class BackupMetrics {
  readonly textfile: Textfile | undefined;
  /** whether the directory passed its check: only then is the file written */
  private checked = false;

  constructor(
    private readonly host: SshSession,
    private readonly inputs: Inputs,
  ) {
    this.textfile = backupTextfile(inputs);
  }

  /** The lock script checked the directory and found it fine. */
  passed(): void {
    this.checked = true;
  }

  /** Checks the directory on its own (mode verify, which takes no lock). */
  async check(): Promise<void> {
    if (!this.textfile) return;
    await checkMetricsDir(this.host, this.textfile);
    this.checked = true;
  }

  /** Writes `update` into the file (times are now); failing to is a warning. */
  async record(update: BackupUpdate): Promise<void> {
    const t = this.textfile;
    if (!t || !this.checked || Object.keys(update).length === 0) return;
    try {
      await updateTextfile(this.host, t, (previous) =>
        renderBackupMetrics(previous, this.inputs.project, update),
      );
      core.info(`Metrics: ${t.dir}/${t.file}`);
    } catch (error) {
      core.warning(
        oneLine(`Input "${I.MetricsDir}": ${t.dir}/${t.file} was not written: ${(error as Error).message}`),
      );
    }
  }
}

/** A completed backup's update: its time, size and duration (and its verification's time). */
export function backupSucceeded(done: BackupDone, started: number): BackupUpdate {
  const now = nowSeconds();
  return {
    lastSuccess: now,
    size: done.bytes,
    duration: Math.round(Date.now() - started) / 1000,
    ...(done.verified ? { lastVerified: now } : {}),
  };
}

/** Unix seconds now. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

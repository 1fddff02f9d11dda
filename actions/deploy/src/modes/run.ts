// The runner's side of modes status and rollback: status is one read-only host script; a rollback
// is the deploy (same script, lock, gates, audit) with a small bundle in place of a release.
import * as core from '@actions/core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { inputError } from '../../../../lib/action/inputs.js';
import { runHostScript } from '../../../../lib/ssh/host-script.js';
import { openSshSession, sshLabel, sshTarget } from '../../../../lib/ssh/inputs.js';
import { stageRunFiles, type StagedBundle } from '../bundle.js';
import { Inputs as I, Outputs } from '../constants.js';
import type { Inputs } from '../inputs.js';
import { PROBES_DIR } from '../probes.js';
import type { DeployReport } from '../report.js';
import { readReleases, STATUS_BODY, statusMarkdown } from './status.js';

/** mode status: lists the kept releases (summary table, `releases` output); takes no lock, changes nothing. */
export async function showStatus(inputs: Inputs): Promise<void> {
  const session = await openSshSession(sshTarget(inputs), process.env.RUNNER_TEMP || tmpdir());
  let result;
  try {
    result = await runHostScript(
      session,
      STATUS_BODY,
      { REMOTE_DIR: inputs['remote-dir'] },
      { silent: true },
    );
  } finally {
    await session.close();
  }
  const releases = readReleases(result.report);
  for (const r of releases) {
    core.info(
      `${r.id}${r.current ? ' (current)' : ''} commit ${r.commit || '?'} ${r.result || 'no result'}${r.error ? `: ${r.error}` : ''}`,
    );
  }
  core.setOutput(Outputs.Releases, JSON.stringify(releases));
  core.setOutput(Outputs.Release, releases.find((r) => r.current)?.id ?? '');
  // A status run deploys nothing: its status is empty (set to failed up to here, as any run's is).
  core.setOutput(Outputs.Status, '');
  await core.summary.addRaw(statusMarkdown(inputs.project, sshLabel(inputs), releases)).write();
}

/**
 * mode rollback's bundle: only what this run brings and does not keep (the probes, the CA file they
 * trust, the registry password); the kept release has its compose files, pins, configs and .env.
 */
export function stageRollback(inputs: Inputs, dir: string): StagedBundle {
  core.info(
    `Rollback to ${inputs.release}: compose files, images, env and secrets are the kept release's own`,
  );
  mkdirSync(join(dir, '.berth'), { mode: 0o700 });
  const caFile = stageRunFiles(inputs, dir, `${PROBES_DIR}/ca.pem`);
  return { dir, composeFiles: [], caFile };
}

/**
 * The host refused the requested release (unknown, already current, no previous one): nothing
 * changed. The reason is the host's text, already one line (readDeployReport).
 */
export function targetError(report: DeployReport): Error | undefined {
  return report.targetError ? inputError(I.Release, report.targetError) : undefined;
}

// Input `metrics-dir`: after every run whose deploy script ran (deployed, failed, rolled back; mode
// rollback too), `berth-deploy-<project>.prom` in the node exporter's textfile directory says which
// release is live and when each kind of result last happened, so that "the last deploy failed" is a
// failure newer than the last success. The directory is checked in the preflight (preflight.ts);
// writing afterwards can still fail (the connection dropped): a warning, never a failed deploy, as
// the release itself is what the step reports on.
import * as core from '@actions/core';
import { oneLine } from '../../../lib/action/untrusted.js';
import { bash, runHostScript, type HostScriptResult } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import {
  readTextfileReport,
  TEXTFILE_READ,
  textfile,
  textfileValues,
  writeTextfile,
  type Textfile,
} from '../../../lib/ssh/textfile.js';
import { findValue, parseExposition, renderExposition } from '../../../lib/ssh/textfile-metrics.js';
import { Inputs as I, type DeployStatus } from './constants.js';
import type { Inputs } from './inputs.js';
import { jsonObject } from './modes/status.js';
import { RELEASE_ID } from './release-id.js';
import { deployError, readDeployReport } from './report.js';

export const RELEASE_INFO = 'berth_release_info';
export const LAST_DEPLOY = 'berth_deploy_last_timestamp_seconds';
export const DEPLOY_DURATION = 'berth_deploy_duration_seconds';

export const DEPLOY_RESULTS = ['success', 'failure', 'rolled-back'] as const;
export type DeployResult = (typeof DEPLOY_RESULTS)[number];

/** The project's textfile in `metrics-dir`, when it is set. */
export function deployTextfile(inputs: Pick<Inputs, 'project' | 'metrics-dir'>): Textfile | undefined {
  const dir = inputs['metrics-dir'];
  return dir === undefined ? undefined : textfile(I.MetricsDir, dir, `berth-deploy-${inputs.project}.prom`);
}

/** rolled-back when the host brought the previous release back; else success only for a green step. */
export function deployResult(status: DeployStatus | undefined, stepFails: boolean): DeployResult {
  if (status === 'rolled-back') return 'rolled-back';
  return stepFails ? 'failure' : 'success';
}

export interface DeployMetrics {
  project: string;
  /** '' without input `environment` */
  environment: string;
  result: DeployResult;
  /** Unix seconds */
  now: number;
  seconds: number;
  /** the release `current` names after the run, and its commit (the host's word) */
  current?: { release: string; commit: string };
}

/** The new file: this result's time now, the other results' times as the previous file had them. */
export function renderDeployMetrics(previous: string, m: DeployMetrics): string {
  const old = parseExposition(previous, new Set([LAST_DEPLOY]));
  const labels = { project: m.project, environment: m.environment };
  const last = DEPLOY_RESULTS.flatMap((result) => {
    const value = result === m.result ? m.now : findValue(old, LAST_DEPLOY, { ...labels, result });
    return value === undefined ? [] : [{ name: LAST_DEPLOY, labels: { ...labels, result }, value }];
  });
  const info = m.current ? [{ name: RELEASE_INFO, labels: { ...labels, ...m.current }, value: 1 }] : [];
  return renderExposition([
    { name: RELEASE_INFO, help: 'The release current on the host (value 1).', type: 'gauge', samples: info },
    {
      name: LAST_DEPLOY,
      help: 'When a deploy last ended with each result (success, failure, rolled-back), Unix seconds.',
      type: 'gauge',
      samples: last,
    },
    {
      name: DEPLOY_DURATION,
      help: 'How long the last deploy took, in seconds.',
      type: 'gauge',
      samples: [{ name: DEPLOY_DURATION, labels, value: m.seconds }],
    },
  ]);
}

/** METRICS_DIR, METRICS_FILE, REMOTE_DIR: the previous textfile, the current release and its release.json. */
export const METRICS_READ = bash`${TEXTFILE_READ}if [ -L "$REMOTE_DIR/current" ]; then
  emit current "$(basename -- "$(readlink -- "$REMOTE_DIR/current")")"
  emit current-record "$(head -c 8192 -- "$REMOTE_DIR/current/release.json" 2>/dev/null | base64 -w0 || true)"
fi
`;

/** The current release as the host reports it: an id that is one, and release.json's commit. */
export function readCurrent(report: HostScriptResult['report']): DeployMetrics['current'] {
  const release = report.last('current');
  if (release === undefined || !RELEASE_ID.test(release)) return undefined;
  const record = jsonObject(Buffer.from(report.last('current-record') ?? '', 'base64').toString('utf8'));
  return { release, commit: typeof record?.commit === 'string' ? record.commit : '' };
}

/** Writes the textfile after the deploy script ran; failing to is a warning. */
export async function recordDeployMetrics(
  session: SshSession,
  inputs: Inputs,
  result: HostScriptResult,
  started: number,
): Promise<void> {
  const t = deployTextfile(inputs);
  if (!t) return;
  try {
    const report = readDeployReport(result.report);
    const failed = deployError(report, result.exitCode, '', inputs) !== undefined;
    const read = await runHostScript(
      session,
      METRICS_READ,
      { ...textfileValues(t), REMOTE_DIR: inputs['remote-dir'] },
      { silent: true },
    );
    const metrics: DeployMetrics = {
      project: inputs.project,
      environment: inputs.environment ?? '',
      result: deployResult(report.status, failed),
      now: Math.floor(Date.now() / 1000),
      seconds: Math.round(Date.now() - started) / 1000,
      current: readCurrent(read.report),
    };
    await writeTextfile(session, t, renderDeployMetrics(readTextfileReport(read.report), metrics));
    core.info(`Metrics: ${t.dir}/${t.file} (${metrics.result})`);
  } catch (error) {
    core.warning(
      oneLine(`Input "${I.MetricsDir}": ${t.dir}/${t.file} was not written: ${(error as Error).message}`),
    );
  }
}

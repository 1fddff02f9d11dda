// berth/deploy main step: stage the release bundle, then one SSH connection: preflight, upload, and the host
// script (lock, config, pull, up --wait, probes, switch, audit, retention). Orchestration only.
import * as core from '@actions/core';
import { tmpdir } from 'node:os';
import { contextFromEnv } from '../../../lib/action/github.js';
import type { HostScriptResult } from '../../../lib/ssh/host-script.js';
import { openSshSession, sshLabel, sshTarget } from '../../../lib/ssh/inputs.js';
import { makeStagingDir, releaseId, releaseRecord, removeStagingDir, stageRelease } from './bundle.js';
import { Outputs, State } from './constants.js';
import { deployScriptParams, runDeployScript, uploadRelease } from './host.js';
import { getHookInputs, hookScriptValues } from './hooks.js';
import { getInputs } from './inputs.js';
import { getRolloutInputs, stageRollout } from './rollout.js';
import { bundleSizeKb, preflight } from './preflight.js';
import {
  deployError,
  readDeployReport,
  reportWarnings,
  summaryMarkdown,
  type BundleFacts,
} from './report.js';
import { recordDeployMetrics } from './metrics.js';
import { showStatus, stageRollback, targetError } from './modes/run.js';
import { runBootstrap } from './bootstrap/run.js';
import { verifyRelease } from './verify.js';

export async function main(): Promise<void> {
  const started = Date.now();
  // Until the host reports an outcome, any failure (an input, the connection, the upload) is `failed`.
  core.setOutput(Outputs.Status, 'failed');
  const rolloutInputs = getRolloutInputs();
  // zero-downtime is read once (rollout.ts); mode swarm's stack rewrite takes it from Inputs.
  const inputs = { ...getInputs(), 'zero-downtime': rolloutInputs['zero-downtime'] };
  if (inputs.mode === 'status') return showStatus(inputs);
  if (inputs.bootstrap) return runBootstrap(inputs, inputs.bootstrap, started);
  const hookInputs = getHookInputs();
  const ctx = contextFromEnv();
  // mode rollback: the id names this run's upload; the release is the kept one the host brings back.
  const rollback = inputs.mode === 'rollback';
  let release = releaseId(new Date(), ctx.headSha ?? ctx.sha);
  const target = sshLabel(inputs);
  if (!rollback) core.setOutput(Outputs.Release, release);
  core.info(
    rollback
      ? `Rollback of ${inputs.project} on ${target}:${inputs['remote-dir']} to ${inputs.release}`
      : `Release ${release} of ${inputs.project} to ${target}:${inputs['remote-dir']}`,
  );

  const record = releaseRecord(inputs, ctx, release);
  const tempRoot = process.env.RUNNER_TEMP || tmpdir();
  // Every pinned image is verified on the runner before anything is staged or reaches the host.
  const verified = await verifyRelease(inputs);
  // The bundle holds .env, the secrets and the registry password: it is removed on every path, and
  // recorded first so that the post step removes it when this step is cancelled or killed.
  const stagingDir = makeStagingDir(tempRoot);
  core.saveState(State.StagingDir, stagingDir);
  let result: HostScriptResult;
  let bundle: BundleFacts | undefined;
  try {
    const staged = await core.group('Release bundle', async () =>
      rollback ? stageRollback(inputs, stagingDir) : stageRelease(inputs, record, stagingDir),
    );
    const hooks = rollback ? undefined : await hookScriptValues(inputs, hookInputs, staged);
    // Start-first services, checked against the release's model and staged in it (rollout.ts).
    stageRollout(rolloutInputs, staged.project?.services ?? {}, inputs.mode, staged.dir);
    const session = await openSshSession(sshTarget(inputs), tempRoot);
    try {
      await core.group('Preflight', () => preflight(session, inputs, bundleSizeKb(staged.dir)));
      const bytes = await core.group('Upload', () =>
        uploadRelease(session, staged.dir, inputs['remote-dir'], release),
      );
      core.info(`Bundle: ${bytes} bytes uploaded`);
      bundle = { files: staged.project?.files ?? [], dataDirs: staged.project?.dataDirs ?? [], bytes };
      const params = deployScriptParams(inputs, staged, record, hooks);
      result = await core.group('Deploy on the host', () => runDeployScript(session, params));
      await recordDeployMetrics(session, inputs, result, started);
    } finally {
      await session.close();
    }
  } finally {
    removeStagingDir(stagingDir);
  }

  const report = readDeployReport(result.report);
  if (rollback) {
    const refused = targetError(report);
    if (refused) throw refused;
    release = report.release ?? inputs.release ?? '';
    core.setOutput(Outputs.Release, release);
  }
  for (const warning of reportWarnings(report, inputs['remote-dir'])) core.warning(warning);
  const seconds = (Date.now() - started) / 1000;
  core.setOutput(Outputs.PreviousRelease, report.previousRelease ?? '');
  core.setOutput(Outputs.Status, report.status ?? 'failed');
  core.setOutput(Outputs.DurationSeconds, String(Math.round(seconds)));
  const facts = {
    release,
    host: target,
    project: inputs.project,
    seconds,
    mode: inputs.mode,
    bundle,
    verified,
  };
  await core.summary.addRaw(summaryMarkdown(report, { ...facts, gate: inputs })).write();

  const error = deployError(report, result.exitCode, release, inputs);
  if (error) throw error;
  core.info(
    `Deployed ${release}${report.previousRelease ? ` (previous: ${report.previousRelease})` : ''} in ${seconds.toFixed(1)} s`,
  );
}

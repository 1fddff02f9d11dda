// berth/deploy main step: stage the release bundle, then one SSH connection: upload, and the host
// script (lock, config, pull, up --wait, probes, switch, audit, retention). Orchestration only.
import * as core from '@actions/core';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { contextFromEnv, runUrl } from '../../../lib/action/github.js';
import { shellQuote } from '../../../lib/ssh/shell.js';
import { openSshSession, sshLabel, sshTarget } from '../../../lib/ssh/inputs.js';
import { releaseId, stageBundle, stageSwarmStack, type ReleaseRecord } from './bundle.js';
import { Inputs as I, Outputs } from './constants.js';
import { getInputs } from './inputs.js';
import { incomingDir, renderDeployScript } from './remote-script.js';
import { failureMessage, parseReport, summaryMarkdown } from './report.js';

export async function main(): Promise<void> {
  const started = Date.now();
  // Until the host reports an outcome, any failure (an input, the connection, the upload) is `failed`.
  core.setOutput(Outputs.Status, 'failed');
  const inputs = getInputs();
  const ctx = contextFromEnv();
  const release = releaseId(new Date(), ctx.headSha ?? ctx.sha);
  const target = sshLabel(inputs);
  core.setOutput(Outputs.Release, release);
  core.info(`Release ${release} of ${inputs.project} to ${target}:${inputs['remote-dir']}`);

  const record: ReleaseRecord = {
    release,
    project: inputs.project,
    environment: inputs.environment,
    commit: ctx.headSha ?? ctx.sha,
    ref: ctx.ref,
    repository: ctx.repository,
    actor: ctx.actor,
    run: runUrl(ctx),
    workflow: ctx.workflow,
    created: new Date().toISOString(),
    images: inputs.images,
    compose_files: inputs['compose-files'],
  };
  const tempRoot = process.env.RUNNER_TEMP || tmpdir();
  const staged = await core.group('Release bundle', async () => {
    let staged = stageBundle(inputs, record, tempRoot);
    core.info(`Compose files: ${staged.composeFiles.join(', ')}`);
    if (inputs.mode === 'swarm') {
      const swarm = await stageSwarmStack(staged, inputs.project).catch((err: unknown) => {
        rmSync(staged.dir, { recursive: true, force: true });
        throw err;
      });
      for (const warning of swarm.warnings) core.warning(`mode swarm: ${warning}`);
      staged = swarm.staged;
      core.info(`Stack file: ${staged.composeFiles.join(', ')} (docker stack deploy)`);
    }
    core.info(
      `Secrets: ${Object.keys(inputs.secrets).join(', ') || 'none'}; env: ${Object.keys(inputs.env).join(', ') || 'none'}`,
    );
    return staged;
  });

  const session = await openSshSession(sshTarget(inputs), tempRoot);
  let stdout = '';
  let exitCode = 0;
  try {
    await core.group('Upload', async () => {
      const incoming = incomingDir(inputs['remote-dir'], release);
      const tar = spawn('tar', ['-C', staged.dir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await session.exec(
        `umask 077 && mkdir -p -- ${shellQuote(`${inputs['remote-dir']}/releases`)} && mkdir -- ${shellQuote(incoming)} && ` +
          `tar -x -p --no-same-owner -C ${shellQuote(incoming)} -f -`,
        { input: tar.stdout, silent: true },
      );
    });
    const holder = JSON.stringify({
      release,
      actor: ctx.actor,
      run: runUrl(ctx),
      since: new Date().toISOString(),
    });
    const auditPrefix = JSON.stringify({
      time: new Date().toISOString(),
      release,
      project: inputs.project,
      environment: inputs.environment ?? null,
      actor: ctx.actor,
      commit: record.commit,
      run: record.run,
      images: inputs.images,
    }).slice(0, -1);
    const script = renderDeployScript({
      mode: inputs.mode,
      remoteDir: inputs['remote-dir'],
      project: inputs.project,
      release,
      composeFiles: staged.composeFiles,
      waitTimeoutSeconds: inputs['wait-timeout'],
      lockTimeoutSeconds: inputs['lock-timeout'],
      rollback: inputs.rollback,
      keepReleases: inputs['keep-releases'],
      prune: inputs.prune,
      holder,
      auditPrefix,
      probes: inputs['health-urls'],
      caFile: staged.caFile,
      registry: inputs.registry,
      registryUser: inputs['registry-username'],
    });
    const result = await core.group('Deploy on the host', () =>
      session.script(script, { ignoreReturnCode: true }),
    );
    stdout = result.stdout;
    exitCode = result.exitCode;
  } finally {
    await session.close();
    rmSync(staged.dir, { recursive: true, force: true });
  }

  const report = parseReport(stdout);
  const seconds = (Date.now() - started) / 1000;
  core.setOutput(Outputs.PreviousRelease, report.previousRelease ?? '');
  core.setOutput(Outputs.Status, report.status ?? 'failed');
  core.setOutput(Outputs.DurationSeconds, String(Math.round(seconds)));
  await core.summary
    .addRaw(
      summaryMarkdown(report, { release, host: target, project: inputs.project, seconds, mode: inputs.mode }),
    )
    .write();

  if (exitCode === 75) {
    throw new Error(
      `Input "${I.LockTimeout}": ${inputs['remote-dir']} stayed locked for ${inputs['lock-timeout']} s by another deploy: ${report.lockHolder || 'unknown holder'}`,
    );
  }
  if (report.status !== 'deployed') {
    throw new Error(
      report.status
        ? failureMessage(report, release)
        : `the deploy script ended with exit code ${exitCode} before reporting a status`,
    );
  }
  core.info(
    `Deployed ${release}${report.previousRelease ? ` (previous: ${report.previousRelease})` : ''} in ${seconds.toFixed(1)} s`,
  );
}

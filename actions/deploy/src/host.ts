// What runs over the one SSH connection of a deploy: the upload (the staged release as one tar
// stream into the host's incoming directory) and the deploy script, which takes the lock, moves the
// upload into place and reports back.
import { spawn } from 'node:child_process';
import { Transform } from 'node:stream';
import { untrustedOutput } from '../../../lib/action/untrusted-output.js';
import { runHostScript, type HostScriptResult, type HostValues } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { shellQuote } from '../../../lib/ssh/shell.js';
import type { ReleaseRecord, StagedBundle } from './bundle.js';
import type { Inputs } from './inputs.js';
import { orchestrator } from './modes/mode.js';
import { DEPLOY_BODY, deployScriptValues, type DeployScriptParams } from './remote-script.js';

/** Where an action uploads a release before the deploy script takes the lock and moves it in place. */
export function incomingDir(remoteDir: string, release: string): string {
  return `${remoteDir}/releases/.incoming-${release}`;
}

export async function uploadRelease(
  session: SshSession,
  stagedDir: string,
  remoteDir: string,
  release: string,
): Promise<number> {
  const incoming = incomingDir(remoteDir, release);
  const tar = spawn('tar', ['-C', stagedDir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The bytes sent, for the summary.
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  // Its warnings name the workspace's files, which a pull request names: logged like any tool's output.
  const log = untrustedOutput();
  tar.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  tar.on('close', () => log.end());
  await session.exec(
    `umask 077 && mkdir -p -- ${shellQuote(`${remoteDir}/releases`)} && mkdir -- ${shellQuote(incoming)} && ` +
      `tar -x -p --no-same-owner -C ${shellQuote(incoming)} -f -`,
    { input: tar.stdout.pipe(counted), silent: true },
  );
  return bytes;
}

/** The deploy script's values; the lock holder and the audit line are stamped now, after the upload. */
export function deployScriptParams(
  inputs: Inputs,
  staged: StagedBundle,
  record: ReleaseRecord,
  hooks?: HostValues,
): DeployScriptParams {
  const { release } = record;
  const rollback = inputs.mode === 'rollback';
  const holder = JSON.stringify({
    ...(rollback ? { rollback: inputs.release } : { release }),
    actor: record.actor,
    run: record.run,
    since: new Date().toISOString(),
  });
  // A rollback's line gets its release (the target, known only on the host) from the script.
  const auditPrefix = JSON.stringify({
    time: new Date().toISOString(),
    action: rollback ? 'rollback' : 'deploy',
    ...(rollback ? { requested: inputs.release } : { release }),
    project: inputs.project,
    environment: inputs.environment ?? null,
    actor: record.actor,
    commit: record.commit,
    run: record.run,
    ...(rollback ? {} : { images: inputs.images }),
  }).slice(0, -1);
  return {
    mode: orchestrator(inputs.mode),
    operation: rollback ? 'rollback' : 'deploy',
    target: inputs.release,
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
    certMinDays: inputs['cert-min-days'],
    registry: inputs.registry,
    registryUser: inputs['registry-username'],
    hooks,
    dataDirs: staged.project?.dataDirs,
    storedFiles: staged.project?.stored,
    gate: inputs,
  };
}

/** Runs the deploy script; its exit code is the caller's to judge (75: the lock timed out). */
export function runDeployScript(session: SshSession, params: DeployScriptParams): Promise<HostScriptResult> {
  return runHostScript(session, DEPLOY_BODY, deployScriptValues(params), { ignoreReturnCode: true });
}

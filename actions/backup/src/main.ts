// berth/backup main step: one SSH connection to the app's host (and one per ssh:// destination);
// backup encrypts and stores each archive on the host for host: destinations and streams it through
// the runner to the others, manifests last, then retention (backup.ts); restore and verify stream each archive from the first destination that
// has the backup through its checks into temporary volumes / staged dumps on the host (receive.ts),
// and restore changes live data only once every archive matched its manifest. Backup and restore
// hold the project's lock, deploy's own (lock.ts), from start to end. Backup and verify end by
// updating the `metrics-dir` textfile (metrics.ts) and pinging `heartbeat-url` (heartbeat.ts).
// Orchestration only.
import * as core from '@actions/core';
import { tmpdir } from 'node:os';
import { openSshSession, sshTarget } from '../../../lib/ssh/inputs.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { runBackup } from './backup.js';
import { verifyOutcome } from './checks.js';
import { Outputs } from './constants.js';
import { markVerifyFailed } from './genuine.js';
import { getInputs, type Inputs } from './inputs.js';
import { holdProjectLock } from './lock.js';
import { ping } from './heartbeat.js';
import { BackupMetrics, backupSucceeded, nowSeconds } from './metrics.js';
import { HostScratch } from './receive.js';
import { receiveAll, restoreDatabases, swapInVolumes } from './restore.js';
import type { BackupStore } from './store.js';
import { openStore, pickBackup, requireArtifactService, type PickedBackup } from './stores.js';
import { restoreSummary, trustSummary, verifySummary } from './summary.js';
import { verifyRestore } from './verify.js';

async function restore(host: SshSession, from: PickedBackup, inputs: Inputs): Promise<void> {
  const scratch = new HostScratch(host, inputs.project, from, inputs['decryption-key']);
  try {
    const received = await core.group('Receive and check every archive', () =>
      receiveAll(host, from, inputs, scratch),
    );
    await core.group('Volumes', () => swapInVolumes(host, inputs, received, scratch));
    await core.group('Databases', () => restoreDatabases(host, inputs, received));
  } finally {
    await scratch.drop();
  }
  const where = from.store.where(from.manifest.id);
  await core.summary.addRaw(restoreSummary(inputs.project, where, from.manifest)).write();
}

async function verify(host: SshSession, from: PickedBackup, inputs: Inputs): Promise<void> {
  const outcome = await verifyOutcome([], (checks) =>
    core.group('Verify', () => verifyRestore(host, from, inputs, checks)),
  );
  core.setOutput(Outputs.Verified, String(outcome.verified));
  const where = from.store.where(from.manifest.id);
  await core.summary.addRaw(verifySummary(inputs.project, where, from.manifest, outcome)).write();
  await markVerifyFailed(from.store, from.manifest.id, outcome);
  if (outcome.failure !== undefined) throw outcome.failure;
  if (!outcome.verified) throw new Error(`backup ${from.manifest.id} did not verify`);
}

async function restoreOrVerify(host: SshSession, stores: BackupStore[], inputs: Inputs): Promise<void> {
  const from = await core.group('Backup', async () => {
    const picked = await pickBackup(stores, inputs);
    const m = picked.manifest;
    core.info(
      `${m.id} of ${m.project} from ${picked.store.label}, ${m.files.length} files, ${m.encrypted ? 'encrypted' : 'not encrypted'}`,
    );
    if (!picked.signed)
      core.warning(
        `${picked.store.where(m.id)}: its signature was NOT checked (unsigned, or no signing-public-key); accepted because allow-unsigned: true`,
      );
    await core.summary.addRaw(trustSummary(picked.signed ?? false, picked.skipped ?? [])).write();
    return picked;
  });
  core.setOutput(Outputs.BackupId, from.manifest.id);
  core.setOutput(Outputs.Manifest, JSON.stringify(from.manifest));
  core.setOutput(Outputs.Bytes, String(from.manifest.files.reduce((s, f) => s + f.bytes, 0)));
  if (inputs.mode === 'verify') await verify(host, from, inputs);
  else await restore(host, from, inputs);
}

async function run(inputs: Inputs): Promise<void> {
  requireArtifactService(inputs);
  core.setOutput(Outputs.Verified, 'false');
  const started = Date.now();
  const tempRoot = process.env.RUNNER_TEMP || tmpdir();
  const host = await openSshSession(sshTarget(inputs), tempRoot);
  const sessions = [host];
  const stores: BackupStore[] = [];
  const metrics = new BackupMetrics(host, inputs);
  let unlock: (() => Promise<void>) | undefined;
  try {
    // Verify changes no live data, so it does not wait for (nor hold up) a deploy.
    if (inputs.mode !== 'verify') unlock = await holdProjectLock(host, inputs, () => metrics.passed());
    else await metrics.check();
    for (const d of inputs.destinations) stores.push(await openStore(d, host, inputs, tempRoot, sessions));
    if (inputs.mode === 'backup')
      await metrics.record(backupSucceeded(await runBackup(host, stores, inputs), started));
    else await restoreOrVerify(host, stores, inputs);
    if (inputs.mode === 'verify') await metrics.record({ lastVerified: nowSeconds() });
  } catch (error) {
    if (inputs.mode === 'backup') await metrics.record({ lastFailure: nowSeconds() });
    throw error;
  } finally {
    await unlock?.();
    for (const store of stores) store.close();
    for (const s of sessions) await s.close();
  }
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  // A restore is run by hand: no heartbeat (nor metrics) for it.
  const heartbeat = inputs.mode === 'restore' ? undefined : inputs['heartbeat-url'];
  try {
    await run(inputs);
  } catch (error) {
    if (heartbeat) await ping(heartbeat, 'fail');
    throw error;
  }
  if (heartbeat) await ping(heartbeat, 'success');
}

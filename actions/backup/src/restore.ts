// Mode restore: every archive of the backup streams through its checks into a temporary volume or a
// staged dump on the host; live volumes and databases change only once all of them matched their
// manifest: volumes swapped in, then each database restored from its staged dump.
import * as core from '@actions/core';
import type { SshSession } from '../../../lib/ssh/session.js';
import { compressionOf, sourceOf } from './archive.js';
import { restoreDatabase } from './databases.js';
import { discover, helperImage, volumeTransport, type VolumeHelper } from './discover.js';
import type { DatabaseSpec, Inputs } from './inputs.js';
import type { HostScratch, Received } from './receive.js';
import { waitHealthy } from './services.js';
import { swapVolumes } from './swap.js';
import type { PickedBackup } from './stores.js';

/** Receives every archive of the backup into `scratch`: volumes first, then dumps. */
export async function receiveAll(
  host: SshSession,
  { manifest }: PickedBackup,
  inputs: Inputs,
  scratch: HostScratch,
): Promise<Received> {
  const volumeFiles = manifest.files.filter((f) => sourceOf(f).kind === 'volume');
  const dumpFiles = manifest.files.filter((f) => sourceOf(f).kind === 'dump');
  let helper: VolumeHelper = { image: '', transport: 'attach' };
  if (volumeFiles.length > 0) {
    const image = helperImage(await discover(host, inputs), inputs);
    helper = { image, transport: await volumeTransport(host, image) };
  }
  const received: Received = { helper, volumes: [], dumps: [] };
  for (const file of volumeFiles) {
    const { volume } = sourceOf(file) as { volume: string };
    const temp = await scratch.unpack(file, volume, helper, 'berth-restore');
    received.volumes.push({ volume, temp });
    core.info(`${file.name} unpacked into ${temp}`);
  }
  for (const file of dumpFiles) {
    const { db } = sourceOf(file) as { db: DatabaseSpec };
    received.dumps.push({ file, db, staged: await scratch.stage(file) });
  }
  return received;
}

/** Replaces the live volumes' content with the temp volumes', all or none (swap.ts). */
export async function swapInVolumes(
  host: SshSession,
  inputs: Inputs,
  received: Received,
  scratch: HostScratch,
): Promise<void> {
  await swapVolumes(host, inputs.project, received, scratch);
}

/** Restores each database from its staged dump, once its service is healthy. */
export async function restoreDatabases(host: SshSession, inputs: Inputs, received: Received): Promise<void> {
  for (const { file, db, staged } of received.dumps) {
    await waitHealthy(host, inputs.project, db.service);
    await restoreDatabase(host, inputs.project, db, staged, compressionOf(file));
    core.info(`Database ${db.database} of ${db.service} (${db.engine}) restored`);
  }
}

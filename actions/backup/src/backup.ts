// Mode backup: each database dump and volume archive is encrypted and stored on the host for host:
// destinations, and streams to the others through the runner (host-encrypt.ts, upload.ts), the
// manifest last; then, with `verify`, a restore of the new backup into scratch,
// and retention. A backup that fails leaves no directory without a manifest behind.
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { inputError } from '../../../lib/action/inputs.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { dumpFile, volumeFile } from './archive.js';
import { verifyOutcome, type VerifyOutcome } from './checks.js';
import { Inputs as I, MANIFEST_FORMAT, Outputs } from './constants.js';
import { countRows, dumpCompression, dumpScript } from './databases.js';
import { discover, helperImage, volumeContent, volumeTransport, type Discovery } from './discover.js';
import { FilePlacement } from './host-encrypt.js';
import { newBackupId, type Inputs } from './inputs.js';
import { markVerifyFailed } from './genuine.js';
import { MANIFEST, type Manifest } from './manifest.js';
import { holdWriters } from './partial.js';
import { applyRetention, removeIfUnfinished } from './prune.js';
import { ARCHIVE_VOLUME } from './script/volumes.js';
import { holdStopped } from './services.js';
import { SIGNATURE_FILE, signMessage } from './signature.js';
import type { BackupStore } from './store.js';
import { backupSummary, type BackupReport } from './summary.js';
import { BackupWriter } from './upload.js';
import { checkCopy, verifyRestore } from './verify.js';

/** What a backup takes: the volumes (compose names) and the helper image that reads them. */
interface BackupPlan {
  found: Discovery;
  volumes: string[];
  image: string;
}

/** Checks what can be checked before anything is written, and names the backup. */
function newBackup(stores: BackupStore[], inputs: Inputs): BackupWriter {
  const recipients = inputs['encryption-recipients'];
  if (recipients.length === 0) core.warning('No encryption-recipients: this backup is stored unencrypted.');
  if (!inputs['signing-key'])
    core.warning(
      'No signing-key: this backup is NOT signed (allow-unsigned: true); restore and verify accept it only with allow-unsigned: true, and cannot tell it from a forged one.',
    );
  if (inputs.verify && recipients.length > 0 && !inputs['decryption-key'])
    throw inputError(I.DecryptionKey, 'is required with verify: true when the backup is encrypted');
  const id = newBackupId(new Date(), randomBytes(2).toString('hex'));
  core.setOutput(Outputs.BackupId, id);
  core.info(`Backup ${id} of ${inputs.project} to ${stores.map((s) => s.label).join(', ')}`);
  return new BackupWriter(id, stores, recipients);
}

async function planBackup(host: SshSession, inputs: Inputs): Promise<BackupPlan> {
  const found = await discover(host, inputs);
  const volumes = inputs.volumes.length > 0 ? inputs.volumes : [...found.volumes.keys()];
  for (const v of volumes) {
    if (!found.volumes.has(v)) {
      throw inputError(
        I.Volumes,
        `project ${inputs.project} has no volume ${v} on the host (it has: ${[...found.volumes.keys()].join(', ') || 'none'})`,
      );
    }
  }
  const image = volumes.length > 0 ? helperImage(found, inputs) : '';
  const databases = inputs.databases.map((x) => `${x.engine}:${x.service}/${x.database}`);
  core.info(
    `Volumes: ${volumes.join(', ') || 'none'}; databases: ${databases.join(', ') || 'none'}; helper image: ${image || '-'}; compression: ${inputs.compression}`,
  );
  return { found, volumes, image };
}

async function dumpDatabases(host: SshSession, inputs: Inputs, writer: FilePlacement): Promise<void> {
  for (const db of inputs.databases) {
    // Counted just before the dump, for verify (a write in between makes verify report a difference).
    const rows = await countRows(host, inputs.project, db);
    const compression = dumpCompression(db, inputs.compression);
    const name = dumpFile(db, compression, writer.encrypted);
    const source = `${db.engine}:${db.service}/${db.database}`;
    const file = await writer.write(name, source, compression, dumpScript(inputs.project, db, compression));
    file.rows = rows;
  }
}

async function archiveVolumes(
  host: SshSession,
  inputs: Inputs,
  plan: BackupPlan,
  writer: FilePlacement,
): Promise<void> {
  if (plan.volumes.length === 0) return;
  const { image } = plan;
  const compression = inputs.compression;
  // The FIFO check and the stop at once: each is a round trip and a docker call.
  const transporting = volumeTransport(host, image);
  transporting.catch(() => {});
  const release = await holdStopped(host, inputs);
  try {
    const transport = await transporting;
    for (const v of plan.volumes) {
      const volume = plan.found.volumes.get(v)!;
      // Read alongside the archive (a second reader of the same stopped volume, mostly served
      // from the page cache): the digest describes exactly what was archived.
      const content = volumeContent(host, image, volume, '');
      content.catch(() => {});
      const values = { IMAGE: image, VOLUME: volume, COMPRESSION: compression, TRANSPORT: transport };
      const file = await writer.write(
        volumeFile(v, compression, writer.encrypted),
        `volume:${v}`,
        compression,
        {
          body: ARCHIVE_VOLUME,
          values,
        },
      );
      file.content = await content;
    }
  } finally {
    await release();
  }
}

async function writeManifest(writer: BackupWriter, inputs: Inputs): Promise<Manifest> {
  const { project } = inputs;
  const { id, files, encrypted } = writer;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    project,
    created: new Date().toISOString(),
    encrypted,
    files,
  };
  const text = JSON.stringify(manifest, null, 2) + '\n';
  const key = inputs['signing-key'];
  for (const store of writer.stores) {
    // The signature first: manifest.json stays the mark of a complete backup.
    if (key) await store.write(id, SIGNATURE_FILE, signMessage(key, text));
    await store.write(id, MANIFEST, text);
    core.info(`${store.where(id)} is complete`);
  }
  core.setOutput(Outputs.Manifest, JSON.stringify(manifest));
  core.setOutput(Outputs.Bytes, String(files.reduce((sum, f) => sum + f.bytes, 0)));
  return manifest;
}

/** A restore from the first destination into scratch; every other copy is read back and its sha256 checked. */
async function verifyNewBackup(
  host: SshSession,
  inputs: Inputs,
  manifest: Manifest,
  writer: BackupWriter,
  found: Discovery,
): Promise<VerifyOutcome> {
  const [first, ...others] = writer.stores;
  const outcome = await verifyOutcome([], (checks) =>
    core.group('Verify', async () => {
      const restored = await verifyRestore(host, { store: first!, manifest }, inputs, checks, found);
      let copies = true;
      for (const store of others) copies = (await checkCopy(store, manifest, checks)) && copies;
      return restored && copies;
    }),
  );
  core.setOutput(Outputs.Verified, String(outcome.verified));
  await markVerifyFailed(first!, manifest.id, outcome);
  return outcome;
}

async function writeSummary(report: BackupReport): Promise<void> {
  await core.summary.addRaw(backupSummary(report)).write();
}

/** What a completed backup stored, for the metrics. */
export interface BackupDone {
  bytes: number;
  /** whether `verify: true` verified it */
  verified: boolean;
}

export async function runBackup(
  host: SshSession,
  stores: BackupStore[],
  inputs: Inputs,
): Promise<BackupDone> {
  const started = Date.now();
  const writer = newBackup(stores, inputs);
  const { id } = writer;
  // Held from the first write until the manifest is written: no retention takes this backup for an interrupted one.
  let releaseWriters = async (): Promise<void> => {};
  return removeIfUnfinished(stores, id, async () => {
    // Whether the host can encrypt is asked while discovering (its line may land in that group).
    const placing = FilePlacement.plan(host, writer);
    placing.catch(() => {});
    const plan = await core.group('Discover', () => planBackup(host, inputs));
    const files = await placing;
    releaseWriters = await holdWriters(stores, inputs);
    await core.group('Databases', () => dumpDatabases(host, inputs, files));
    await core.group('Volumes', () => archiveVolumes(host, inputs, plan, files));
    const manifest = await core.group('Manifest', () => writeManifest(writer, inputs));
    await releaseWriters();
    let verify: VerifyOutcome | undefined;
    if (inputs.verify) verify = await verifyNewBackup(host, inputs, manifest, writer, plan.found);
    const report = (pruned?: string[]): BackupReport => ({
      id,
      project: inputs.project,
      wheres: stores.map((s) => s.where(id)),
      seconds: (Date.now() - started) / 1000,
      compression: inputs.compression,
      recipients: writer.recipients.length,
      files: writer.files,
      encryptedOn: files.encryptedOn,
      verify,
      pruned,
      signed: inputs['signing-key'] !== undefined,
    });
    if (verify && !verify.verified) {
      await writeSummary(report());
      throw (
        verify.failure ??
        new Error(`backup ${id} did not verify (see the errors above); retention was not applied`)
      );
    }
    const pruned = await core.group('Retention', () => applyRetention(stores, inputs, id));
    core.setOutput(Outputs.Pruned, String(pruned.length));
    core.setOutput(Outputs.PrunedIds, pruned.join(' '));
    await writeSummary(report(pruned));
    return { bytes: writer.files.reduce((sum, f) => sum + f.bytes, 0), verified: verify?.verified === true };
  }).finally(() => releaseWriters());
}

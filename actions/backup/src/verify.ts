// Verify: proves a backup by restoring it somewhere harmless. Each volume archive streams through its
// checks into a scratch volume whose file list and content hashes are compared with the backup's;
// each dump is staged on the host the same way, restored into a scratch database (a throw-away
// container of the service's image, no network) and its row counts compared. Live data is not
// touched. Other copies of the backup are read back and their sha256 compared.
import * as core from '@actions/core';
import type { SshSession } from '../../../lib/ssh/session.js';
import { compressionOf, sourceOf } from './archive.js';
import { record, type Check, type Verdict } from './checks.js';
import { restoreScratch, scratchName } from './databases.js';
import { meteredDigest } from './digest.js';
import {
  discover,
  helperImage,
  serviceImage,
  volumeContent,
  volumeTransport,
  type Discovery,
  type VolumeHelper,
} from './discover.js';
import type { Inputs } from './inputs.js';
import { type Manifest, type ManifestFile, type VolumeContent } from './manifest.js';
import { HostScratch } from './receive.js';
import type { BackupStore } from './store.js';
import type { PickedBackup } from './stores.js';

/** A scratch volume's content against the manifest's digest of the volume at backup time. */
export function compareContent(got: VolumeContent | undefined, want: VolumeContent | undefined): Verdict {
  if (!want) return { ok: false, detail: 'the manifest has no content digest to compare with' };
  if (got?.sha256 !== want.sha256 || got.files !== want.files) {
    return {
      ok: false,
      detail: `restored ${got?.files ?? '?'} files, digest ${got?.sha256 ?? '?'}; backed up ${want.files} files, digest ${want.sha256}`,
    };
  }
  return { ok: true, detail: `${got.files} files restored into a scratch volume, contents identical` };
}

/** A scratch database's row counts against the manifest's, counted at backup time. */
export function compareRows(
  got: Record<string, number>,
  want: Record<string, number> | undefined,
  scratch: string,
): Verdict {
  if (!want) return { ok: false, detail: 'the manifest has no row counts to compare with' };
  const differ = [...new Set([...Object.keys(got), ...Object.keys(want)])].filter((t) => got[t] !== want[t]);
  if (differ.length > 0) {
    const tables = differ.map(
      (t) => `${t} (${got[t] ?? 'missing'} restored, ${want[t] ?? 'missing'} backed up)`,
    );
    return { ok: false, detail: `row counts differ for ${tables.join(', ')}` };
  }
  return {
    ok: true,
    detail: `restored into a scratch ${scratch}, ${Object.keys(got).length} tables, row counts identical`,
  };
}

/** The helper for volume files, found once when the first one needs it. */
function lazyHelper(host: SshSession, inputs: Inputs, found: Discovery): () => Promise<VolumeHelper> {
  let helper: Promise<VolumeHelper> | undefined;
  return () =>
    (helper ??= (async () => {
      const image = helperImage(found, inputs);
      return { image, transport: await volumeTransport(host, image) };
    })());
}

async function verifyVolume(
  host: SshSession,
  scratch: HostScratch,
  file: ManifestFile,
  helper: VolumeHelper,
): Promise<Verdict> {
  const { volume } = sourceOf(file) as { volume: string };
  const temp = await scratch.unpack(file, volume, helper, 'berth-verify');
  try {
    const got = await volumeContent(host, helper.image, temp, file.content?.hash ?? 'sha256sum');
    return compareContent(got, file.content);
  } finally {
    await scratch.dropVolume(temp);
  }
}

/** Restores the backup into scratch volumes and databases; true when every archive matched. */
export async function verifyRestore(
  host: SshSession,
  from: PickedBackup,
  inputs: Inputs,
  checks: Check[],
  discovered?: Discovery,
): Promise<boolean> {
  const before = checks.length;
  const found = discovered ?? (await discover(host, inputs));
  const helper = lazyHelper(host, inputs, found);
  const scratch = new HostScratch(host, inputs.project, from, inputs['decryption-key']);
  try {
    for (const file of from.manifest.files) {
      const source = sourceOf(file);
      if (source.kind === 'volume') {
        record(checks, file.name, await verifyVolume(host, scratch, file, await helper()));
        continue;
      }
      const staged = await scratch.stage(file);
      const image = await serviceImage(host, inputs.project, source.db.service);
      const got = await restoreScratch(host, source.db, image, staged, compressionOf(file));
      record(checks, file.name, compareRows(got, file.rows, scratchName(source.db)));
    }
  } finally {
    await scratch.drop();
  }
  return checks.slice(before).every((c) => c.ok);
}

/** Reads every file of the backup back from `store` and compares its size and sha256 with the manifest. */
export async function checkCopy(store: BackupStore, manifest: Manifest, checks: Check[]): Promise<boolean> {
  let ok = true;
  for (const file of manifest.files) {
    const digest = meteredDigest(`${file.name} from ${store.label}`);
    digest.resume();
    const where = store.where(manifest.id, file.name);
    let verdict: Verdict;
    try {
      await store.read(manifest.id, file.name, digest);
      verdict =
        digest.bytes !== file.bytes || digest.sha256() !== file.sha256
          ? {
              ok: false,
              detail: `does not match the manifest (${digest.bytes} bytes, sha256 ${digest.sha256()})`,
            }
          : { ok: true, detail: 'read back, size and sha256 match the manifest' };
    } catch (error) {
      verdict = {
        ok: false,
        detail: `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    record(checks, where, verdict);
    ok &&= verdict.ok;
  }
  if (ok) core.info(`${store.where(manifest.id)}: every file read back, sizes and sha256 match the manifest`);
  return ok;
}

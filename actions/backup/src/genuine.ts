// Which backups are genuine: anyone who can write to a destination (an off-site account, a leaked
// key, age's public recipients) can put a backup there, so restore, verify and retention use only a
// backup whose manifest is signed by `signing-key`, describes the directory it was read from with a
// real, past date, and belongs to this project, and that no verification marked as failed.
import * as core from '@actions/core';
import { InputError, inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import type { VerifyOutcome } from './checks.js';
import { Inputs as I } from './constants.js';
import { BACKUP_ID, backupIdDate } from './inputs.js';
import { MANIFEST, parseManifest, type BackupFiles, type Manifest } from './manifest.js';
import { signatureProblem, SIGNATURE_FILE, type SigningPublicKey } from './signature.js';
import type { BackupStore } from './store.js';
import { ArtifactStore } from './store-artifact.js';

/** Written into a backup whose verification failed; `latest` never picks it. */
export const VERIFY_FAILED = 'verify-failed';
/** Clocks of runner and hosts may differ by this much: a newer id is "in the future". */
export const CLOCK_SKEW_MS = 5 * 60_000;
const SMALL_FILES = [MANIFEST, SIGNATURE_FILE, VERIFY_FAILED] as const;

/** What makes a backup genuine for this run. */
export interface Authenticity {
  project: string;
  /** undefined only with allow-unsigned and no key: signatures cannot be checked */
  publicKey?: SigningPublicKey;
  allowUnsigned: boolean;
  now: Date;
}

/** A backup judged genuine, or why not. */
export type Judgement = { manifest: Manifest; signed: boolean } | { reason: string };

/** A backup that was not used, and why. */
export interface Skipped {
  where: string;
  reason: string;
}

const quote = (text: unknown): string => JSON.stringify(oneLine(String(text)));

/** Why a (signed) manifest read from directory `dirId` cannot be this project's backup there. */
export function manifestProblem(m: Manifest, dirId: string, project: string, now: Date): string | undefined {
  if (!BACKUP_ID.test(m.id)) return `its id ${quote(m.id)} is not a backup id`;
  if (m.id !== dirId) return `its id ${quote(m.id)} is not the id of its directory, ${dirId}`;
  let date: Date;
  try {
    date = backupIdDate(m.id);
  } catch {
    return `its id ${m.id} names an impossible date`;
  }
  if (date.getTime() > now.getTime() + CLOCK_SKEW_MS) return `its id ${m.id} is dated in the future`;
  if (m.project !== project) return `it is a backup of another project, ${quote(m.project)}`;
  return undefined;
}

/** Judges backup `id` by its small files (manifest, signature, mark) read from `where`. */
export function judge(
  files: ReadonlyMap<string, string>,
  id: string,
  where: string,
  a: Authenticity,
): Judgement {
  if (files.has(VERIFY_FAILED)) return { reason: `it failed verification (marked ${VERIFY_FAILED})` };
  const text = files.get(MANIFEST);
  if (text === undefined) return { reason: 'it has no manifest' };
  const signature = files.get(SIGNATURE_FILE);
  let signed = false;
  if (signature === undefined) {
    if (!a.allowUnsigned) return { reason: `it is unsigned (no ${SIGNATURE_FILE})` };
  } else if (a.publicKey) {
    const problem = signatureProblem(a.publicKey, text, signature);
    if (problem !== undefined) return { reason: problem };
    signed = true;
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(text, `${where}/${MANIFEST}`);
  } catch (error) {
    return { reason: oneLine((error as Error).message) };
  }
  const problem = manifestProblem(manifest, id, a.project, a.now);
  return problem === undefined ? { manifest, signed } : { reason: problem };
}

/** The small files of backups `ids` at `store`: one round trip where the store can. */
export async function readSmallFiles(store: BackupStore, ids: readonly string[]): Promise<BackupFiles> {
  if (ids.length === 0) return new Map();
  if (store.readFiles) return store.readFiles(ids, SMALL_FILES);
  const files: BackupFiles = new Map();
  for (const id of ids) {
    const own = new Map<string, string>();
    for (const name of SMALL_FILES) {
      const text = await store.readText(id, name).catch(() => undefined);
      if (text !== undefined) own.set(name, text);
    }
    files.set(id, own);
  }
  return files;
}

/** A genuine backup picked for restore or verify, with what was passed over on the way. */
export interface GenuineBackup {
  store: BackupStore;
  manifest: Manifest;
  signed: boolean;
  skipped: Skipped[];
}

function skip(skipped: Skipped[], where: string, reason: string): void {
  skipped.push({ where, reason });
  core.warning(`${where} is not used: ${reason}`);
}

/**
 * `id` (or, undefined, the newest) genuine backup: destinations in the order given, the first that
 * has a genuine one wins; every candidate passed over is warned about.
 */
export async function pickGenuine(
  stores: readonly BackupStore[],
  a: Authenticity,
  id: string | undefined,
): Promise<GenuineBackup> {
  const skipped: Skipped[] = [];
  const why: string[] = [];
  for (const store of stores) {
    const { complete } = await store.list();
    const candidates = id === undefined ? [...complete].sort().reverse() : complete.filter((x) => x === id);
    const files = await readSmallFiles(store, candidates);
    for (const x of candidates) {
      const j = judge(files.get(x) ?? new Map(), x, store.where(x), a);
      if ('manifest' in j) return { store, manifest: j.manifest, signed: j.signed, skipped };
      skip(skipped, store.where(x), j.reason);
    }
    why.push(
      candidates.length === 0
        ? `${store.label}: no complete backup${id ? ` ${id}` : ''}`
        : `${store.label}: ${skipped.at(-1)!.reason}${id ? '' : ' (and every older one: see the warnings)'}`,
    );
  }
  if (id !== undefined)
    throw inputError(I.BackupId, `${id} is not a genuine backup of ${a.project}: ${why.join('; ')}`);
  throw inputError(I.Destinations, `no genuine backup of ${a.project}: ${why.join('; ')}`);
}

/** This project's genuine backups among `ids` at `store` (for retention); the rest are logged, left alone. */
export async function genuineIds(
  store: BackupStore,
  ids: readonly string[],
  a: Authenticity,
): Promise<string[]> {
  const files = await readSmallFiles(store, ids);
  const genuine: string[] = [];
  for (const x of ids) {
    const j = judge(files.get(x) ?? new Map(), x, store.where(x), a);
    if ('manifest' in j) genuine.push(x);
    else core.info(`${store.where(x)}: left alone by retention, ${j.reason}`);
  }
  return genuine;
}

/**
 * Marks backup `id` at `store` as failed verification, so that `latest` never picks it; not when the
 * verification stopped on a bad input (a wrong decryption-key says nothing about the backup).
 */
export async function markVerifyFailed(
  store: BackupStore,
  id: string,
  outcome: VerifyOutcome,
): Promise<void> {
  if (outcome.verified || outcome.failure instanceof InputError) return;
  if (store instanceof ArtifactStore) {
    core.warning(
      `${store.where(id)} failed verification; an artifact cannot be modified, so it is not marked: pass a backup-id to restore another one`,
    );
    return;
  }
  try {
    await store.write(id, VERIFY_FAILED, `verification failed at ${new Date().toISOString()}\n`);
    core.warning(`${store.where(id)} failed verification: marked (${VERIFY_FAILED}), latest never picks it`);
  } catch (error) {
    core.warning(`${store.where(id)} failed verification and could not be marked: ${String(error)}`);
  }
}

/** The Authenticity of this run's inputs. */
export function authenticity(inputs: {
  project: string;
  'signing-public-key'?: SigningPublicKey;
  'allow-unsigned': boolean;
}): Authenticity {
  return {
    project: inputs.project,
    publicKey: inputs['signing-public-key'],
    allowUnsigned: inputs['allow-unsigned'],
    now: new Date(),
  };
}

// Removing backups from an sftp-only destination without a shell's safety: sftp's `rm` takes globs
// and `rm dir/id/*` would delete through a symlinked `<id>` wherever it leads. So only the files a
// backup is made of are named, one by one (what its manifest lists, the manifest and its signature,
// their `.part`s; for an interrupted backup, the files Berth writes that are there), then the
// directory is removed if that emptied it; a `<dir>/<id>` that is a symbolic link is left alone.
import * as core from '@actions/core';
import { sftpQuote, type SshSession } from '../../../lib/ssh/session.js';
import { BACKUP_ID } from './inputs.js';
import { VERIFY_FAILED } from './genuine.js';
import { MANIFEST } from './manifest.js';
import { SIGNATURE_FILE } from './signature.js';
import { warnSymlinks, type BackupStore } from './store.js';

/** A file name a backup can hold: no glob, quote or path syntax reaches an sftp command. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** What Berth writes into a backup directory before its manifest. */
const BERTH_FILE = /^(volume|postgres|mysql|mariadb)-[A-Za-z0-9_.-]+$/;

/** `ls -l` lines of sftp: the type letter of each entry's last path component. */
export function parseLongListing(stdout: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([-dlbcps])[-rwxsStT]{9}\S*\s.*\s(\S+)$/.exec(line.trim());
    if (m) types.set(m[2]!.split('/').pop()!, m[1]!);
  }
  return types;
}

/** The files of a backup that removal names: from its manifest, or (none) those Berth writes among `present`. */
export function backupFiles(manifestText: string | undefined, present: readonly string[]): string[] {
  let names: string[];
  if (manifestText === undefined) names = present.filter((n) => BERTH_FILE.test(n.replace(/\.part$/, '')));
  else {
    const parsed = JSON.parse(manifestText) as { files?: { name?: unknown }[] };
    names = (parsed.files ?? []).map((f) => String(f.name));
  }
  const all = [...names, MANIFEST, SIGNATURE_FILE, VERIFY_FAILED].flatMap((n) => [n, `${n}.part`]);
  return [...new Set(all)].filter((n) => FILE_NAME.test(n));
}

export interface SftpDir extends Pick<BackupStore, 'where' | 'readText'> {
  readonly session: SshSession;
  readonly dir: string;
}

async function listTypes(session: SshSession, dir: string): Promise<Map<string, string>> {
  const r = await session.sftp([`ls -l ${sftpQuote(dir)}`], { ignoreReturnCode: true });
  return r.exitCode === 0 ? parseLongListing(r.stdout) : new Map();
}

async function filesOf(store: SftpDir, id: string): Promise<string[]> {
  const present = [...(await listTypes(store.session, `${store.dir}/${id}`))]
    .filter(([, type]) => type === '-')
    .map(([name]) => name);
  const manifest = present.includes(MANIFEST)
    ? await store.readText(id, MANIFEST).catch(() => undefined)
    : undefined;
  try {
    return backupFiles(manifest, present);
  } catch {
    return backupFiles(undefined, present);
  }
}

export async function removeSftpBackups(store: SftpDir, ids: readonly string[]): Promise<void> {
  for (const x of ids) if (!BACKUP_ID.test(x)) throw new Error(`refusing to delete ${x}`);
  if (ids.length === 0) return;
  const types = await listTypes(store.session, store.dir);
  warnSymlinks(
    store,
    ids.filter((x) => types.get(x) === 'l'),
  );
  const lines: string[] = [];
  for (const x of ids.filter((id) => types.get(id) === 'd')) {
    const d = `${store.dir}/${x}`;
    for (const name of await filesOf(store, x)) lines.push(`-rm ${sftpQuote(`${d}/${name}`)}`);
    lines.push(`-rmdir ${sftpQuote(d)}`);
  }
  if (lines.length === 0) return;
  await store.session.sftp(lines, { ignoreReturnCode: true });
  const left = await listTypes(store.session, store.dir);
  for (const x of ids.filter((id) => types.get(id) === 'd' && left.has(id)))
    core.warning(`${store.where(x)} holds files Berth did not write: they and the directory are left alone`);
}

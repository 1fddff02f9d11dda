// Where backups are kept: a directory reached through an SSH session (the app's host for `host:`,
// another host for `ssh://`, see store-sftp.ts), or workflow artifacts (store-artifact.ts). One
// backup is `<dir>/<id>/`, its files and, written last, manifest.json.
import * as core from '@actions/core';
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { parseBackupFiles, parseListing, type BackupFiles, type Listing } from './manifest.js';
import { LIST_BACKUPS, READ_BACKUP_FILES, READ_FILE, REMOVE_BACKUPS, WRITE_FILE } from './script/files.js';

/** No manifest, signature or mark is near this big: more is not read. */
export const MAX_SMALL_FILE_BYTES = 4 << 20;

export interface BackupStore {
  /** `host:/dir`, `ssh://user@host:port/dir` or `artifact`, for messages */
  readonly label: string;
  /** Whether Berth's retention applies (not to artifacts, which expire by artifact-retention-days). */
  readonly pruned: boolean;
  where(id: string, name?: string): string;
  /** Uploads `data` as `<id>/<name>` (through `<name>.part`); resolves when the file is in place. */
  write(id: string, name: string, data: Readable | string): Promise<void>;
  /** Streams `<id>/<name>` into `sink`. */
  read(id: string, name: string, sink: Writable): Promise<void>;
  readText(id: string, name: string): Promise<string>;
  list(): Promise<Listing>;
  /** The small files `names` of backups `ids` (those that exist), in one round trip where it can. */
  readFiles?(ids: readonly string[], names: readonly string[]): Promise<BackupFiles>;
  remove(ids: readonly string[]): Promise<void>;
  /** Deletes what the store keeps on the runner. */
  close(): void;
}

/** `<label>/<id>[/<name>]`: where a backup, or one of its files, is in a directory store. */
export function whereInDir(label: string, id: string, name?: string): string {
  return `${label}/${id}${name ? `/${name}` : ''}`;
}

/** Backups that removal left alone because `<dir>/<id>` is a symbolic link (it might lead anywhere). */
export function warnSymlinks(store: Pick<BackupStore, 'where'>, ids: readonly string[]): void {
  for (const id of ids)
    core.warning(`${store.where(id)} is a symbolic link: left alone (Berth never removes through one)`);
}

/** Writes `data` to a file on the runner, readable by this user only. */
export async function writeLocalFile(file: string, data: Readable | string): Promise<void> {
  await pipeline(
    typeof data === 'string' ? Readable.from([data]) : data,
    createWriteStream(file, { mode: 0o600 }),
  );
}

/** A directory on a host with a shell (the app's host): data streams straight through. */
export class ShellStore implements BackupStore {
  readonly pruned = true;

  constructor(
    readonly session: SshSession,
    readonly dir: string,
    /** `host:/dir` or `ssh://user@host:port/dir`, for messages */
    readonly label: string,
  ) {}

  where(id: string, name?: string): string {
    return whereInDir(this.label, id, name);
  }

  /** Uploads `data` as `<id>/<name>`; resolves when the host has it in place. */
  async write(id: string, name: string, data: Readable | string): Promise<void> {
    await runHostScript(
      this.session,
      WRITE_FILE,
      { DIR: `${this.dir}/${id}`, NAME: name },
      { input: data, silent: true },
    );
  }

  /** Streams `<id>/<name>` into `sink`. */
  async read(id: string, name: string, sink: Writable): Promise<void> {
    await runHostScript(
      this.session,
      READ_FILE,
      { DIR: `${this.dir}/${id}`, NAME: name },
      { stdout: sink, silent: true },
    );
  }

  async readText(id: string, name: string): Promise<string> {
    const r = await runHostScript(
      this.session,
      READ_FILE,
      { DIR: `${this.dir}/${id}`, NAME: name },
      { silent: true, ignoreReturnCode: true },
    );
    if (r.exitCode !== 0) throw new Error(`${this.where(id, name)} cannot be read: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async list(): Promise<Listing> {
    const r = await runHostScript(this.session, LIST_BACKUPS, { DIR: this.dir }, { silent: true });
    return parseListing(r.stdout);
  }

  async readFiles(ids: readonly string[], names: readonly string[]): Promise<BackupFiles> {
    const values = { DIR: this.dir, IDS: ids, NAMES: names, MAX_BYTES: MAX_SMALL_FILE_BYTES };
    const r = await runHostScript(this.session, READ_BACKUP_FILES, values, { silent: true });
    return parseBackupFiles(r.stdout);
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { report } = await runHostScript(
      this.session,
      REMOVE_BACKUPS,
      { DIR: this.dir, IDS: ids },
      { silent: true },
    );
    warnSymlinks(this, report.all('symlink'));
  }

  close(): void {}
}

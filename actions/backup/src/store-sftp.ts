// A backup directory on an sftp-only account (an off-site backup server whose user has no shell).
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sftpQuote, type SshSession } from '../../../lib/ssh/session.js';
import { BACKUP_ID } from './inputs.js';
import { hasManifestFormat, MANIFEST, type BackupFiles, type Listing } from './manifest.js';
import { removeSftpBackups } from './sftp-remove.js';
import { whereInDir, writeLocalFile, type BackupStore } from './store.js';

/**
 * sftp uploads regular files only, so each file is staged on the runner first; the one SSH
 * connection carries every sftp batch.
 */
export class SftpStore implements BackupStore {
  readonly pruned = true;
  private readonly staging: string;

  constructor(
    readonly session: SshSession,
    readonly dir: string,
    readonly label: string,
    tempRoot: string,
  ) {
    this.staging = mkdtempSync(join(tempRoot, 'berth-sftp-'));
  }

  where(id: string, name?: string): string {
    return whereInDir(this.label, id, name);
  }

  /** Runs `use` with a fresh file name in the staging directory, removed afterwards. */
  private async withLocal<T>(use: (file: string) => Promise<T>): Promise<T> {
    const file = join(this.staging, randomBytes(8).toString('hex'));
    try {
      return await use(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async write(id: string, name: string, data: Readable | string): Promise<void> {
    await this.withLocal(async (file) => {
      await writeLocalFile(file, data);
      const path = `${this.dir}/${id}/${name}`;
      await this.session.sftp([
        `-mkdir ${sftpQuote(this.dir)}`,
        `-mkdir ${sftpQuote(`${this.dir}/${id}`)}`,
        `put ${sftpQuote(file)} ${sftpQuote(`${path}.part`)}`,
        `-rm ${sftpQuote(path)}`,
        `rename ${sftpQuote(`${path}.part`)} ${sftpQuote(path)}`,
      ]);
    });
  }

  async read(id: string, name: string, sink: Writable): Promise<void> {
    await this.withLocal(async (file) => {
      await this.session.sftp([`get ${sftpQuote(`${this.dir}/${id}/${name}`)} ${sftpQuote(file)}`]);
      await pipeline(createReadStream(file), sink);
    });
  }

  async readText(id: string, name: string): Promise<string> {
    return this.withLocal(async (file) => {
      const r = await this.session.sftp(
        [`get ${sftpQuote(`${this.dir}/${id}/${name}`)} ${sftpQuote(file)}`],
        {
          ignoreReturnCode: true,
        },
      );
      if (r.exitCode !== 0) throw new Error(`${this.where(id, name)} cannot be read: ${r.stderr.trim()}`);
      return readFileSync(file, 'utf8');
    });
  }

  async list(): Promise<Listing> {
    const r = await this.session.sftp([`ls -1 ${sftpQuote(this.dir)}`], { ignoreReturnCode: true });
    if (r.exitCode !== 0) return { complete: [], partial: [] };
    const ids = r.stdout
      .split('\n')
      .map((l) => l.trim().split('/').pop() ?? '')
      .filter((x) => BACKUP_ID.test(x));
    const manifests = await this.readFiles(ids, [MANIFEST]);
    const listing: Listing = { complete: [], partial: [] };
    for (const x of ids) {
      const text = manifests.get(x)?.get(MANIFEST);
      listing[text !== undefined && hasManifestFormat(text) ? 'complete' : 'partial'].push(x);
    }
    listing.complete.sort();
    listing.partial.sort();
    return listing;
  }

  /** One sftp batch for every file; the missing ones are skipped. */
  async readFiles(ids: readonly string[], names: readonly string[]): Promise<BackupFiles> {
    const got = mkdtempSync(join(this.staging, 'files-'));
    try {
      const wanted = ids
        .filter((x) => BACKUP_ID.test(x))
        .flatMap((x) => names.map((n) => [x, n, `${x}.${n}`]));
      if (wanted.length > 0) {
        await this.session.sftp(
          wanted.map(
            ([x, n, local]) => `-get ${sftpQuote(`${this.dir}/${x}/${n}`)} ${sftpQuote(join(got, local!))}`,
          ),
          { ignoreReturnCode: true },
        );
      }
      const present = new Set(readdirSync(got));
      const files: BackupFiles = new Map();
      for (const [x, n, local] of wanted) {
        if (!present.has(local!)) continue;
        if (!files.has(x!)) files.set(x!, new Map());
        files.get(x!)!.set(n!, readFileSync(join(got, local!), 'utf8'));
      }
      return files;
    } finally {
      rmSync(got, { recursive: true, force: true });
    }
  }

  /** Only the files each backup is made of, never through a symlink (sftp-remove.ts). */
  async remove(ids: readonly string[]): Promise<void> {
    await removeSftpBackups(this, ids);
  }

  close(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

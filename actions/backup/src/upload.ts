// How backup writes a file: what the host produces streams through age (when encrypted) and a
// sha256 to every destination at once; the file's manifest entry comes out.
import * as core from '@actions/core';
import { PassThrough, type Writable } from 'node:stream';
import { formatBytes } from '../../../lib/action/inputs.js';
import type { Compression } from './constants.js';
import { encryptStream } from './crypto.js';
import { meteredDigest, took } from './digest.js';
import type { ManifestFile } from './manifest.js';
import type { BackupStore } from './store.js';

/** How one file is written (the defaults: what BackupWriter was made with). */
export interface WriteOptions {
  /** the destinations to stream to (default every one) */
  stores?: readonly BackupStore[];
  /** the producer's output is already encrypted (by the host): passed on as it is */
  encryptedAlready?: boolean;
  /** appended to the file's log line */
  note?: string;
}

export class BackupWriter {
  /** The files written so far, for the manifest. */
  readonly files: ManifestFile[] = [];

  constructor(
    readonly id: string,
    readonly stores: readonly BackupStore[],
    /** age recipients; none: stored unencrypted */
    readonly recipients: readonly string[],
  ) {}

  get encrypted(): boolean {
    return this.recipients.length > 0;
  }

  /** Streams what `produce` writes into the file `name` at every destination, encrypting and hashing on the way. */
  async write(
    name: string,
    source: string,
    compression: Compression,
    produce: (sink: Writable) => Promise<unknown>,
    options: WriteOptions = {},
  ): Promise<ManifestFile> {
    const started = Date.now();
    const stores = options.stores ?? this.stores;
    const raw = new PassThrough();
    const produced = produce(raw);
    produced.catch(() => {});
    const encrypt = this.encrypted && !options.encryptedAlready;
    const stored = encrypt ? await encryptStream(raw, this.recipients) : raw;
    const digest = meteredDigest(source);
    stored.on('error', (error) => digest.destroy(error));
    stored.pipe(digest);
    const abort = (error: unknown): void => {
      raw.destroy(error instanceof Error ? error : new Error(String(error)));
    };
    const uploads = stores.map((store) => {
      const copy = new PassThrough();
      digest.pipe(copy);
      digest.on('error', (error) => copy.destroy(error));
      const written = store.write(this.id, name, copy);
      written.catch(abort);
      return written;
    });
    const [p, ...u] = await Promise.allSettled([produced, ...uploads]);
    if (p!.status === 'rejected')
      throw new Error(`${source}: reading it on the host failed`, { cause: p!.reason });
    u.forEach((r, i) => {
      if (r.status === 'rejected')
        throw new Error(`${source}: writing ${stores[i]!.where(this.id, name)} failed`, {
          cause: r.reason,
        });
    });
    const file = { name, source, compression, bytes: digest.bytes, sha256: digest.sha256() };
    return this.add(file, started, options.note);
  }

  /** Records a file written (its manifest entry) since `started`, and logs it. */
  add(written: Omit<ManifestFile, 'encrypted'>, started: number, note?: string): ManifestFile {
    const file: ManifestFile = { ...written, encrypted: this.encrypted };
    this.files.push(file);
    const { source, name, bytes, sha256 } = file;
    core.info(
      `${source} -> ${name}: ${formatBytes(bytes)} in ${took(started, bytes)}, sha256 ${sha256}${note ? `, ${note}` : ''}`,
    );
    return file;
  }
}

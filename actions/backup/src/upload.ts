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
  ): Promise<ManifestFile> {
    const started = Date.now();
    const raw = new PassThrough();
    const produced = produce(raw);
    produced.catch(() => {});
    const stored = this.encrypted ? await encryptStream(raw, this.recipients) : raw;
    const digest = meteredDigest(source);
    stored.on('error', (error) => digest.destroy(error));
    stored.pipe(digest);
    const abort = (error: unknown): void => {
      raw.destroy(error instanceof Error ? error : new Error(String(error)));
    };
    const uploads = this.stores.map((store) => {
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
        throw new Error(`${source}: writing ${this.stores[i]!.where(this.id, name)} failed`, {
          cause: r.reason,
        });
    });
    const sha256 = digest.sha256();
    const file: ManifestFile = {
      name,
      source,
      compression,
      bytes: digest.bytes,
      sha256,
      encrypted: this.encrypted,
    };
    this.files.push(file);
    core.info(
      `${source} -> ${name}: ${formatBytes(digest.bytes)} in ${took(started, digest.bytes)}, sha256 ${sha256}`,
    );
    return file;
  }
}

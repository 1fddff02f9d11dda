// Where a backup's files are encrypted and stored from. With a `host:` destination, each file is
// produced, encrypted with the host's age CLI (to the public recipients only: the private key never
// leaves the runner), hashed and written on the host in one script (script/encrypt.ts), so none of it
// crosses the runner; other destinations (ssh://, artifact) get the same ciphertext streamed once,
// and the runner checks its sha256 against the host's. A host without a usable age falls back to
// encryption on the runner (upload.ts), where every byte crosses SSH twice, and the log says so.
import * as core from '@actions/core';
import { oneLine } from '../../../lib/action/untrusted.js';
import { HostReport, runHostScript, type HostValues } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import type { Compression } from './constants.js';
import type { ManifestFile } from './manifest.js';
import { AGE_CHECK, storeOnHost } from './script/encrypt.js';
import { ShellStore, type BackupStore } from './store.js';
import type { BackupWriter } from './upload.js';

/** A host script whose stdout is one file of the backup (ARCHIVE_VOLUME, a dump), and its values. */
export interface HostProducer {
  body: string;
  values: HostValues;
}

/** Where a file was encrypted, for the summary. */
export type EncryptedOn = 'host' | 'runner' | 'none';

/** A size and sha256 the host reported for a file it stored: validated, exactly one of each. */
export function readStored(report: HostReport, where: string): { bytes: number; sha256: string } {
  const [counts, sums] = [report.all('bytes'), report.all('sha256')];
  const [bytes = '', sha256 = ''] = [counts[0], sums[0]];
  if (
    counts.length !== 1 ||
    sums.length !== 1 ||
    !/^\d{1,15}$/.test(bytes) ||
    !/^[0-9a-f]{64}$/.test(sha256)
  ) {
    const got = JSON.stringify({ bytes: counts, sha256: sums }).slice(0, 300);
    throw new Error(`the host reported no valid size and sha256 for ${where}: ${oneLine(got)}`);
  }
  return { bytes: Number(bytes), sha256 };
}

/** Why the host does not encrypt, and what to do about it, as the one log line. */
export const fallbackLine = (why: string): string =>
  `The host cannot encrypt (${oneLine(why)}): encrypting on the runner instead, so every byte crosses SSH twice. ` +
  'Install age on the host (`apt-get install age`) to encrypt there.';

/** Where this backup's files are encrypted and written from: the host, or the runner. */
export class FilePlacement {
  /** Where each file (by name) was encrypted. */
  readonly encryptedOn = new Map<string, EncryptedOn>();

  private constructor(
    private readonly host: SshSession,
    private readonly writer: BackupWriter,
    /** the `host:` destinations, written on the host; empty: everything goes through the runner */
    private readonly hostStores: readonly ShellStore[],
  ) {}

  get encrypted(): boolean {
    return this.writer.encrypted;
  }

  /** The other destinations, which the runner writes. */
  private get others(): BackupStore[] {
    return this.writer.stores.filter((s) => !(this.hostStores as readonly BackupStore[]).includes(s));
  }

  /** Decides where the files are written from (see the top of this file), and says so. */
  static async plan(host: SshSession, writer: BackupWriter): Promise<FilePlacement> {
    const hostStores = writer.stores.filter(
      (s): s is ShellStore => s instanceof ShellStore && s.session === host,
    );
    if (hostStores.length === 0 || !writer.encrypted) return new FilePlacement(host, writer, hostStores);
    const { report } = await runHostScript(
      host,
      AGE_CHECK,
      { RECIPIENTS: writer.recipients },
      { silent: true },
    );
    const version = report.last('age');
    if (version === undefined) {
      core.info(fallbackLine(report.last('no-age') ?? 'it did not say why'));
      return new FilePlacement(host, writer, []);
    }
    core.info(
      `Encrypting on the host with its age ${oneLine(version)} (public recipients only): ` +
        `${hostStores.map((s) => s.label).join(', ')} written there, nothing of it through the runner`,
    );
    return new FilePlacement(host, writer, hostStores);
  }

  /** Writes what `producer` makes on the host as the file `name` at every destination. */
  async write(
    name: string,
    source: string,
    compression: Compression,
    producer: HostProducer,
  ): Promise<ManifestFile> {
    const { writer } = this;
    if (this.hostStores.length > 0) {
      this.encryptedOn.set(name, writer.encrypted ? 'host' : 'none');
      return this.writeOnHost(name, source, compression, producer);
    }
    this.encryptedOn.set(name, writer.encrypted ? 'runner' : 'none');
    return writer.write(
      name,
      source,
      compression,
      (sink) => runHostScript(this.host, producer.body, producer.values, { stdout: sink }),
      { note: writer.encrypted ? 'encrypted on the runner' : undefined },
    );
  }

  private async writeOnHost(
    name: string,
    source: string,
    compression: Compression,
    producer: HostProducer,
  ): Promise<ManifestFile> {
    const { writer, others } = this;
    const started = Date.now();
    const script = storeOnHost(producer.body);
    const values: HostValues = {
      ...producer.values,
      DIRS: this.hostStores.map((s) => `${s.dir}/${writer.id}`),
      NAME: name,
      RECIPIENTS: writer.recipients,
      TO_RUNNER: others.length > 0,
    };
    const where = this.hostStores.map((s) => s.where(writer.id, name)).join(', ');
    const note = writer.encrypted ? 'encrypted on the host' : 'written on the host';
    if (others.length === 0) {
      const { report } = await runHostScript(this.host, script, values, { silent: true });
      return writer.add({ name, source, compression, ...readStored(report, where) }, started, note);
    }
    // The same bytes stream to the other destinations; the host reports on stderr then.
    let stderr = '';
    const file = await writer.write(
      name,
      source,
      compression,
      async (sink) => {
        stderr = (await runHostScript(this.host, script, values, { stdout: sink, silent: true })).stderr;
      },
      { stores: others, encryptedAlready: true, note: `${note}, the same bytes streamed to the others` },
    );
    const stored = readStored(HostReport.parse(stderr), where);
    if (stored.bytes !== file.bytes || stored.sha256 !== file.sha256) {
      throw new Error(
        `${source}: the host stored ${where} as ${stored.bytes} bytes, sha256 ${stored.sha256}, but the runner ` +
          `received ${file.bytes} bytes, sha256 ${file.sha256} for ${others.map((s) => s.label).join(', ')}`,
      );
    }
    return file;
  }
}

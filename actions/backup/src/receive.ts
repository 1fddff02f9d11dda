// How restore and verify receive a backup on the host, written once: every archive streams from its
// store through its checks (size, sha256, age authentication) into a temporary volume or a staged
// dump on the host, and what it became there is thrown away unless every check passed.
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { formatBytes, inputError } from '../../../lib/action/inputs.js';
import { runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { compressionOf } from './archive.js';
import { Inputs as I } from './constants.js';
import { decryptStream, WrongKeyError } from './crypto.js';
import { meteredDigest, took } from './digest.js';
import type { VolumeHelper } from './discover.js';
import type { DatabaseSpec } from './inputs.js';
import type { ManifestFile } from './manifest.js';
import { DROP_STAGE, MAKE_STAGE, STAGE_FILE } from './script/files.js';
import { DROP_TEMP, UNPACK_TO_TEMP } from './script/volumes.js';
import type { PickedBackup } from './stores.js';

/** What arrived on the host, checked: temp volumes for the compose volumes, staged dumps for the databases. */
export interface Received {
  helper: VolumeHelper;
  volumes: { volume: string; temp: string }[];
  dumps: { file: ManifestFile; db: DatabaseSpec; staged: string }[];
}

/** What went wrong while an archive streamed, each part of the way. */
interface StreamFailures {
  where: string;
  reading?: unknown;
  decrypt?: unknown;
  deliver?: unknown;
}

/** The most precise reason: altered or truncated > wrong key > undecryptable > the host's failure. */
function streamError(file: ManifestFile, got: { bytes: number; sha256: string }, f: StreamFailures): unknown {
  const { where } = f;
  if (f.reading !== undefined)
    return new Error(`archive ${where} cannot be read; nothing was restored`, { cause: f.reading });
  if (got.bytes !== file.bytes || got.sha256 !== file.sha256) {
    return new Error(
      `archive ${where} does not match its manifest (${got.bytes} bytes, sha256 ${got.sha256}; ` +
        `expected ${file.bytes} bytes, sha256 ${file.sha256}): it is truncated or altered; nothing was restored`,
    );
  }
  if (f.deliver instanceof WrongKeyError) {
    return inputError(
      I.DecryptionKey,
      `does not open ${where} (it is encrypted to other recipients); nothing was restored`,
    );
  }
  if (f.decrypt !== undefined)
    return new Error(`archive ${where} fails to decrypt (corrupted); nothing was restored`, {
      cause: f.decrypt,
    });
  return f.deliver;
}

/**
 * Streams one archive of the backup from its store through its checks into `deliver`: its size and
 * sha256 against the manifest as it passes, and age's authentication of every chunk while it is
 * decrypted. Resolves only when `deliver` finished and every check passed; otherwise throws (see
 * streamError), and whatever `deliver` made of the data must be thrown away by the caller.
 */
export async function streamChecked(
  { store, manifest }: PickedBackup,
  file: ManifestFile,
  key: string | undefined,
  deliver: (plain: Readable) => Promise<unknown>,
): Promise<void> {
  const failures: StreamFailures = { where: store.where(manifest.id, file.name) };
  if (file.encrypted && !key)
    throw inputError(I.DecryptionKey, `is required: ${failures.where} is encrypted`);
  const started = Date.now();
  const digest = meteredDigest(`${file.name} from ${store.label}`);
  const reading = store.read(manifest.id, file.name, digest);
  reading.catch(() => {});
  const cipher = new PassThrough();
  digest.pipe(cipher);
  try {
    const plain = file.encrypted ? await decryptStream(cipher, key!) : cipher;
    plain.on('error', (error) => (failures.decrypt ??= error));
    await deliver(plain);
  } catch (error) {
    failures.deliver = error;
  }
  // Read to the end whatever `deliver` took: the sha256 covers the whole file, and tells an altered
  // archive from a wrong key or a host failure.
  digest.unpipe(cipher);
  cipher.destroy();
  digest.resume();
  await reading.catch((error: unknown) => (failures.reading = error));
  const error = streamError(file, { bytes: digest.bytes, sha256: digest.sha256() }, failures);
  if (error !== undefined) throw error;
  core.info(
    `${file.name}: ${formatBytes(file.bytes)} in ${took(started, file.bytes)}, sha256 matches the manifest${file.encrypted ? ', decrypted and authenticated' : ''}`,
  );
}

/**
 * What restore and verify receive on the host: temporary volumes (labelled, randomly named) and a
 * 0700 staging directory for dumps. `drop()` removes whatever is left of them.
 */
export class HostScratch {
  private readonly temps = new Set<string>();
  private stageDir: Promise<string> | undefined;

  constructor(
    private readonly host: SshSession,
    private readonly project: string,
    private readonly from: PickedBackup,
    private readonly key: string | undefined,
  ) {}

  /** Streams the archive of the compose volume `volume` into a new temp volume `<prefix>-<random>`. */
  async unpack(file: ManifestFile, volume: string, helper: VolumeHelper, prefix: string): Promise<string> {
    const temp = `${prefix}-${randomBytes(6).toString('hex')}`;
    this.temps.add(temp);
    const values = {
      IMAGE: helper.image,
      PROJECT: this.project,
      COMPOSE_VOLUME: volume,
      TEMP_VOLUME: temp,
      COMPRESSION: compressionOf(file),
      TRANSPORT: helper.transport,
      NEED_KIB: file.content?.kib ?? 0,
    };
    if (file.content?.kib === undefined)
      core.info(`${file.name}: its manifest records no size (an older backup): free space not checked`);
    await streamChecked(this.from, file, this.key, (plain) =>
      runHostScript(this.host, UNPACK_TO_TEMP, values, { input: plain, silent: true }),
    );
    return temp;
  }

  /** Streams a dump into the staging directory; returns its path on the host. */
  async stage(file: ManifestFile): Promise<string> {
    const path = `${await (this.stageDir ??= this.makeStage())}/${file.name}`;
    await streamChecked(this.from, file, this.key, (plain) =>
      runHostScript(this.host, STAGE_FILE, { STAGED_FILE: path }, { input: plain, silent: true }),
    );
    return path;
  }

  /** The temp volume is gone (swapped in, which removes it). */
  consumed(temp: string): void {
    this.temps.delete(temp);
  }

  async dropVolume(temp: string): Promise<void> {
    await runHostScript(this.host, DROP_TEMP, { TEMP_VOLUME: temp }, { silent: true });
    this.temps.delete(temp);
  }

  /** Removes every temp volume left and the staging directory. */
  async drop(): Promise<void> {
    for (const temp of [...this.temps]) await this.dropVolume(temp);
    const dir = await this.stageDir?.catch(() => undefined);
    if (dir) await runHostScript(this.host, DROP_STAGE, { STAGE_DIR: dir }, { silent: true });
  }

  private async makeStage(): Promise<string> {
    const { report } = await runHostScript(this.host, MAKE_STAGE, {}, { silent: true });
    const dir = report.last('dir')?.trim();
    if (!dir) throw new Error('the host made no staging directory');
    return dir;
  }
}

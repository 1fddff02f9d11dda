// berth/backup main step: one SSH connection to the app's host (and one per ssh:// destination);
// backup streams each archive host -> runner (sha256, age) -> every destination, manifests last,
// then retention; restore and verify stream each archive from the first destination that has the
// backup through its checks into temporary volumes / staged dumps on the host, and change live data
// only once every archive matched its manifest. Orchestration only.
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { formatBytes, inputError } from '../../../lib/action/inputs.js';
import { openSshSession, sshTarget } from '../../../lib/ssh/inputs.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { Inputs as I, MANIFEST_FORMAT, Outputs, STOP_LABEL, type Compression } from './constants.js';
import { Digest, decryptStream, encryptStream, WrongKeyError } from './crypto.js';
import {
  backupIdDate,
  destinationLabel,
  getInputs,
  newBackupId,
  type DatabaseSpec,
  type Destination,
  type Inputs,
} from './inputs.js';
import { compressionOf, dumpFile, sourceOf, volumeFile } from './archive.js';
import { ProgressMeter } from './progress.js';
import {
  ARCHIVE_VOLUME,
  DISCOVER,
  DROP_STAGE,
  DROP_TEMP,
  fromFile,
  HOLD_STOPPED,
  MAKE_STAGE,
  MY_DUMP,
  MY_QUERY,
  MY_RESTORE,
  MY_ROW_COUNTS_SQL,
  MY_SCRATCH_RESTORE,
  myArgs,
  PIPE_CHECK,
  PG_DUMP,
  PG_QUERY,
  PG_RESTORE,
  PG_SCRATCH_RESTORE,
  pgArgs,
  ROW_COUNTS_SQL,
  SERVICE_IMAGE,
  STAGE_FILE,
  SWAP_IN,
  UNPACK_TO_TEMP,
  VOLUME_DIGEST,
  WAIT_HEALTHY,
} from './remote.js';
import { keptBackups } from './retention.js';
import {
  ArtifactStore,
  MANIFEST,
  parseContent,
  parseManifest,
  parseRowCounts,
  SftpStore,
  ShellStore,
  type BackupStore,
  type Manifest,
  type ManifestFile,
} from './store.js';

interface Discovery {
  /** compose volume name -> docker volume name */
  volumes: Map<string, string>;
  image: string;
}

async function discover(host: SshSession, inputs: Inputs): Promise<Discovery> {
  const r = await host.script(DISCOVER, { args: [inputs.project], silent: true });
  const volumes = new Map<string, string>();
  let image = '';
  for (const line of r.stdout.split('\n')) {
    const v = /^::berth::volume=(\S+) (\S+)$/.exec(line);
    if (v) volumes.set(v[2]!, v[1]!);
    const m = /^::berth::image=(.*)$/.exec(line);
    if (m) image = m[1]!.trim();
  }
  return { volumes, image: inputs['helper-image'] ?? image };
}

function helperImage(found: Discovery, inputs: Inputs): string {
  if (!found.image) {
    throw inputError(
      I.HelperImage,
      `project ${inputs.project} has no container on the host to take an image from; set helper-image to an image on the host that has sh and tar`,
    );
  }
  return found.image;
}

/** How the helper containers' tar streams reach the host's shell: a FIFO, or docker's attach. */
type Transport = 'pipe' | 'attach';

async function volumeTransport(host: SshSession, image: string): Promise<Transport> {
  const r = await host.script(PIPE_CHECK, { args: [image], silent: true });
  const transport = /^::berth::transport=pipe$/m.test(r.stdout) ? 'pipe' : 'attach';
  if (/^::berth::fifo=unseen$/m.test(r.stdout))
    core.info(
      'The helper containers cannot open a FIFO in the host’s temp dir; volumes stream through docker attach (slower)',
    );
  return transport;
}

/** A Digest that prints a progress line every 5 s or 256 MiB. */
function meteredDigest(label: string): Digest {
  const meter = new ProgressMeter(label, Date.now());
  return new Digest((n) => {
    const line = meter.add(n, Date.now());
    if (line) core.info(line);
  });
}

// ---- destinations ---------------------------------------------------------------------------------

function requireArtifactService(inputs: Inputs): void {
  if (!inputs.destinations.some((d) => d.kind === 'artifact')) return;
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !process.env.ACTIONS_RESULTS_URL) {
    throw inputError(
      I.Destinations,
      'artifact needs the runner’s artifact service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL), which only a step of a GitHub Actions job has',
    );
  }
}

async function openStore(
  d: Destination,
  host: SshSession,
  inputs: Inputs,
  tempRoot: string,
  sessions: SshSession[],
): Promise<BackupStore> {
  if (d.kind === 'host') return new ShellStore(host, d.dir, destinationLabel(d));
  if (d.kind === 'artifact')
    return new ArtifactStore(inputs.project, tempRoot, inputs['artifact-retention-days']);
  const remote = await openSshSession(
    sshTarget(inputs, {
      host: d.host,
      port: d.port,
      user: d.user,
      privateKey: inputs['destination-ssh-key'],
      jumpHost: undefined,
    }),
    tempRoot,
    ' (destination)',
  );
  sessions.push(remote);
  return new SftpStore(remote, d.dir, destinationLabel(d), tempRoot);
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  requireArtifactService(inputs);
  core.setOutput(Outputs.Verified, 'false');
  const tempRoot = process.env.RUNNER_TEMP || tmpdir();
  const host = await openSshSession(sshTarget(inputs), tempRoot);
  const sessions = [host];
  const stores: BackupStore[] = [];
  try {
    for (const d of inputs.destinations) stores.push(await openStore(d, host, inputs, tempRoot, sessions));
    if (inputs.mode === 'backup') await backupOrCleanUp(host, stores, inputs);
    else await restore(host, stores, inputs, inputs.mode === 'verify');
  } finally {
    for (const store of stores) store.close();
    for (const s of sessions) await s.close();
  }
}

// ---- backup -----------------------------------------------------------------------------------

/** A backup that fails leaves no directory behind (a killed one is cleaned up by the next run). */
async function backupOrCleanUp(host: SshSession, stores: BackupStore[], inputs: Inputs): Promise<void> {
  let id: string | undefined;
  try {
    await backup(host, stores, inputs, (x) => (id = x));
  } catch (error) {
    // Only unfinished ones: a backup that failed verification keeps its manifest for inspection.
    for (const store of id ? stores : []) {
      const listing = await store.list().catch(() => undefined);
      if (listing?.partial.includes(id!)) await store.remove([id!]).catch(() => undefined);
    }
    throw error;
  }
}

async function backup(
  host: SshSession,
  stores: BackupStore[],
  inputs: Inputs,
  onId: (id: string) => void,
): Promise<void> {
  const backupStarted = Date.now();
  const recipients = inputs['encryption-recipients'];
  const encrypted = recipients.length > 0;
  const compression = inputs.compression;
  if (!encrypted) core.warning('No encryption-recipients: this backup is stored unencrypted.');
  if (inputs.verify && encrypted && !inputs['decryption-key'])
    throw inputError(I.DecryptionKey, 'is required with verify: true when the backup is encrypted');
  const id = newBackupId(new Date(), randomBytes(2).toString('hex'));
  core.setOutput(Outputs.BackupId, id);
  onId(id);
  const labels = stores.map((s) => s.label).join(', ');
  core.info(`Backup ${id} of ${inputs.project} to ${labels}`);

  const found = await core.group('Discover', () => discover(host, inputs));
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
  core.info(
    `Volumes: ${volumes.join(', ') || 'none'}; databases: ${inputs.databases.map((x) => `${x.engine}:${x.service}/${x.database}`).join(', ') || 'none'}; helper image: ${image || '-'}; compression: ${compression}`,
  );

  const files: ManifestFile[] = [];
  /** Streams what `produce` writes into a file of the backup at every destination, encrypting and hashing on the way. */
  const transfer = async (
    name: string,
    source: string,
    fileCompression: Compression,
    produce: (sink: Writable) => Promise<unknown>,
  ): Promise<ManifestFile> => {
    const started = Date.now();
    const raw = new PassThrough();
    const produced = produce(raw);
    produced.catch(() => {});
    const stored = encrypted ? await encryptStream(raw, recipients) : raw;
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
      const written = store.write(id, name, copy);
      written.catch(abort);
      return written;
    });
    const [p, ...u] = await Promise.allSettled([produced, ...uploads]);
    if (p!.status === 'rejected')
      throw new Error(`${source}: reading it on the host failed`, { cause: p!.reason });
    u.forEach((r, i) => {
      if (r.status === 'rejected')
        throw new Error(`${source}: writing ${stores[i]!.where(id, name)} failed`, { cause: r.reason });
    });
    const file: ManifestFile = {
      name,
      source,
      compression: fileCompression,
      bytes: digest.bytes,
      sha256: digest.sha256(),
      encrypted,
    };
    files.push(file);
    core.info(
      `${source} -> ${name}: ${formatBytes(digest.bytes)} in ${took(started, digest.bytes)}, sha256 ${digest.sha256()}`,
    );
    return file;
  };

  await core.group('Databases', async () => {
    for (const db of inputs.databases) {
      const source = `${db.engine}:${db.service}/${db.database}`;
      // Counted just before the dump, for verify (a write in between makes verify report a difference).
      if (db.engine === 'postgres') {
        const args = pgArgs(inputs.project, db.service, db.database);
        const counts = await host.script(PG_QUERY, { args: [...args, ROW_COUNTS_SQL], silent: true });
        const file = await transfer(dumpFile(db, 'none', encrypted), source, 'none', (sink) =>
          host.script(PG_DUMP, { args, stdout: sink }),
        );
        file.rows = parseRowCounts(counts.stdout);
      } else {
        const args = myArgs(inputs.project, db.service, db.database);
        const counts = await host.script(MY_QUERY, { args: [...args, MY_ROW_COUNTS_SQL], silent: true });
        const file = await transfer(dumpFile(db, compression, encrypted), source, compression, (sink) =>
          host.script(MY_DUMP, { args: [...args, compression], stdout: sink }),
        );
        file.rows = parseRowCounts(counts.stdout);
      }
    }
  });

  await core.group('Volumes', async () => {
    if (volumes.length === 0) return;
    const transport = await volumeTransport(host, image);
    const release = await holdStopped(host, inputs);
    try {
      for (const v of volumes) {
        // Read alongside the archive (a second reader of the same stopped volume, mostly served
        // from the page cache): the digest describes exactly what was archived.
        const digest = host.script(VOLUME_DIGEST, {
          args: [image, found.volumes.get(v)!, ''],
          silent: true,
        });
        digest.catch(() => {});
        const file = await transfer(
          volumeFile(v, compression, encrypted),
          `volume:${v}`,
          compression,
          (sink) =>
            host.script(ARCHIVE_VOLUME, {
              args: [image, found.volumes.get(v)!, compression, transport],
              stdout: sink,
            }),
        );
        file.content = parseContent((await digest).stdout);
      }
    } finally {
      await release();
    }
  });

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    project: inputs.project,
    created: new Date().toISOString(),
    encrypted,
    files,
  };
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  await core.group('Manifest', async () => {
    for (const store of stores) {
      await store.write(id, MANIFEST, manifestText);
      core.info(`${store.where(id)} is complete`);
    }
  });
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  core.setOutput(Outputs.Manifest, JSON.stringify(manifest));
  core.setOutput(Outputs.Bytes, String(bytes));

  let verified = false;
  const checks: Check[] = [];
  if (inputs.verify) {
    let failure: unknown;
    try {
      verified = await core.group('Verify', async () => {
        // A restore from the first destination; every other copy is read back and its sha256 checked.
        const restored = await verifyBackup(host, stores[0]!, inputs, manifest, checks, found);
        let copies = true;
        for (const store of stores.slice(1)) copies = (await checkCopy(store, manifest, checks)) && copies;
        return restored && copies;
      });
    } catch (error) {
      failure = error;
    }
    core.setOutput(Outputs.Verified, String(verified));
    if (!verified) {
      await writeSummary(undefined, failure);
      throw (
        failure ?? new Error(`backup ${id} did not verify (see the errors above); retention was not applied`)
      );
    }
  }

  const pruned = new Set<string>();
  await core.group('Retention', async () => {
    for (const store of stores) {
      if (!store.pruned) {
        core.info(
          `${store.label}: kept for ${inputs['artifact-retention-days'] ?? 'the repository’s default number of'} days by GitHub; Berth’s retention does not apply`,
        );
        continue;
      }
      for (const x of await applyRetention(store, inputs, id)) pruned.add(x);
    }
  });
  core.setOutput(Outputs.Pruned, String(pruned.size));
  core.setOutput(Outputs.PrunedIds, [...pruned].sort().join(' '));
  await writeSummary([...pruned].sort());

  /** The step summary; `pruned` undefined: retention was not applied (verify failed). */
  async function writeSummary(prunedIds: string[] | undefined, failure?: unknown): Promise<void> {
    const seconds = (Date.now() - backupStarted) / 1000;
    const rows = files.map(
      (f) => `| \`${f.name}\` | ${f.source} | ${formatBytes(f.bytes)} | \`${f.sha256.slice(0, 16)}…\` |`,
    );
    await core.summary
      .addRaw(
        [
          `### Backup ${id} of ${inputs.project}`,
          '',
          `To ${stores.map((s) => `\`${s.where(id)}\``).join(' and ')} in ${seconds.toFixed(1)} s, ${formatBytes(bytes)} stored (${compression}), ` +
            (encrypted
              ? `encrypted with age to ${recipients.length} recipient(s).`
              : '**not encrypted** (no `encryption-recipients`).'),
          inputs.verify ? `Verified by a restore into scratch volumes: ${verified ? 'yes' : '**no**'}.` : '',
          '',
          '| file | source | size | sha256 |',
          '| --- | --- | --- | --- |',
          ...rows,
          '',
          ...(inputs.verify ? [...verifyTable(checks, failure), ''] : []),
          prunedIds === undefined
            ? 'Retention was not applied: the backup did not verify.'
            : prunedIds.length > 0
              ? `Pruned: ${prunedIds.join(', ')}`
              : 'Pruned: none',
          '',
        ].join('\n'),
      )
      .write();
  }
}

/**
 * Stops `stop-services` and the project's containers labelled berth.backup.stop=true until the
 * returned function is called; the host restarts them if we vanish.
 */
async function holdStopped(host: SshSession, inputs: Inputs): Promise<() => Promise<void>> {
  const stdin = new PassThrough();
  let onStopped: ((count: string) => void) | undefined;
  const stopped = new Promise<string>((resolve) => (onStopped = resolve));
  const held = host.script(HOLD_STOPPED, {
    args: [inputs.project, STOP_LABEL, ...inputs['stop-services']],
    input: stdin,
    silent: true,
    onStdoutLine: (line) => {
      const m = /^::berth::stopped=(\d+)$/.exec(line);
      if (m) onStopped!(m[1]!);
    },
  });
  const count = await Promise.race([
    stopped,
    held.then(() => Promise.reject(new Error('stopping the services ended early'))),
  ]);
  const what = [...inputs['stop-services'], `label ${STOP_LABEL}`].join(', ');
  core.info(
    count === '0' ? `No running container to stop (${what})` : `Stopped ${count} container(s) (${what})`,
  );
  return async () => {
    stdin.end();
    await held;
    if (count !== '0') core.info(`Started ${count} container(s) again`);
  };
}

async function applyRetention(store: BackupStore, inputs: Inputs, current: string): Promise<string[]> {
  const listing = await store.list();
  // Directories without a manifest are runs that died (a finished backup writes its manifest last).
  const leftovers = listing.partial.filter((x) => x !== current);
  if (leftovers.length > 0) {
    core.info(`${store.label}: removing interrupted backups without a manifest: ${leftovers.join(', ')}`);
    await store.remove(leftovers);
  }
  if (!inputs.retention) return [];
  const kept = keptBackups(
    listing.complete.map((x) => ({ id: x, created: backupIdDate(x) })),
    inputs.retention,
  );
  kept.add(current);
  const pruned = listing.complete.filter((x) => !kept.has(x));
  core.info(
    `${store.label}: keeping ${kept.size}, pruning ${pruned.length}${pruned.length ? `: ${pruned.join(', ')}` : ''}`,
  );
  await store.remove(pruned);
  return pruned;
}

// ---- restore and verify -----------------------------------------------------------------------

/**
 * Streams one archive of the backup from `store` through its checks into `deliver`: its size and
 * sha256 against the manifest as it passes, and age's authentication of every chunk while it is
 * decrypted. Resolves only when `deliver` finished and every check passed; otherwise throws the
 * most precise reason (altered or truncated > wrong key > undecryptable > the host's failure), and
 * whatever `deliver` made of the data must be thrown away by the caller.
 */
async function streamChecked(
  store: BackupStore,
  manifest: Manifest,
  file: ManifestFile,
  key: string | undefined,
  deliver: (plain: Readable) => Promise<unknown>,
): Promise<void> {
  const where = store.where(manifest.id, file.name);
  if (file.encrypted && !key) throw inputError(I.DecryptionKey, `is required: ${where} is encrypted`);
  const started = Date.now();
  const digest = meteredDigest(`${file.name} from ${store.label}`);
  const reading = store.read(manifest.id, file.name, digest);
  reading.catch(() => {});
  const cipher = new PassThrough();
  digest.pipe(cipher);
  let decryptError: unknown;
  let deliverError: unknown;
  try {
    const plain = file.encrypted ? await decryptStream(cipher, key!) : cipher;
    plain.on('error', (error) => (decryptError ??= error));
    await deliver(plain);
  } catch (error) {
    deliverError = error;
  }
  // Read to the end whatever `deliver` took: the sha256 covers the whole file, and tells an altered
  // archive from a wrong key or a host failure.
  digest.unpipe(cipher);
  cipher.destroy();
  digest.resume();
  try {
    await reading;
  } catch (error) {
    throw new Error(`archive ${where} cannot be read; nothing was restored`, { cause: error });
  }
  if (digest.bytes !== file.bytes || digest.sha256() !== file.sha256) {
    throw new Error(
      `archive ${where} does not match its manifest (${digest.bytes} bytes, sha256 ${digest.sha256()}; ` +
        `expected ${file.bytes} bytes, sha256 ${file.sha256}): it is truncated or altered; nothing was restored`,
    );
  }
  if (deliverError instanceof WrongKeyError) {
    throw inputError(
      I.DecryptionKey,
      `does not open ${where} (it is encrypted to other recipients); nothing was restored`,
    );
  }
  if (decryptError !== undefined) {
    throw new Error(`archive ${where} fails to decrypt (corrupted); nothing was restored`, {
      cause: decryptError,
    });
  }
  if (deliverError !== undefined) throw deliverError;
  core.info(
    `${file.name}: ${formatBytes(file.bytes)} in ${took(started, file.bytes)}, sha256 matches the manifest${file.encrypted ? ', decrypted and authenticated' : ''}`,
  );
}

/** `12.3 s (85.0 MB/s)` since `started` (ms), or `12.3 s` without a byte count. */
function took(started: number, bytes?: number): string {
  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  return `${seconds.toFixed(1)} s${bytes === undefined ? '' : ` (${formatBytes(bytes / seconds)}/s)`}`;
}

/** What verify checked, one per archive or copy: for the log and the step summary. */
interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** Records a check; a failed one is also an error annotation. */
function record(checks: Check[], what: string, ok: boolean, detail: string): void {
  checks.push({ what, ok, detail });
  if (ok) core.info(`${what}: ${detail}`);
  else core.error(`verify: ${what}: ${detail}`);
}

/** The checks as a markdown table, and the error that stopped verify, if one did. */
function verifyTable(checks: Check[], failure?: unknown): string[] {
  const cell = (text: string): string => text.replaceAll('|', '\\|').replace(/\s+/g, ' ');
  const rows = checks.map((c) => `| \`${c.what}\` | ${c.ok ? 'ok' : '**failed**'} | ${cell(c.detail)} |`);
  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    rows.push(`| verify | **failed** | ${cell(message)} |`);
  }
  return ['| checked | result | how |', '| --- | --- | --- |', ...rows];
}

/** Reads every file of the backup back from `store` and compares its size and sha256 with the manifest. */
async function checkCopy(store: BackupStore, manifest: Manifest, checks: Check[]): Promise<boolean> {
  let ok = true;
  for (const file of manifest.files) {
    const digest = meteredDigest(`${file.name} from ${store.label}`);
    digest.resume();
    const where = store.where(manifest.id, file.name);
    try {
      await store.read(manifest.id, file.name, digest);
    } catch (error) {
      record(
        checks,
        where,
        false,
        `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
      ok = false;
      continue;
    }
    if (digest.bytes !== file.bytes || digest.sha256() !== file.sha256) {
      record(
        checks,
        where,
        false,
        `does not match the manifest (${digest.bytes} bytes, sha256 ${digest.sha256()})`,
      );
      ok = false;
    } else record(checks, where, true, 'read back, size and sha256 match the manifest');
  }
  if (ok) core.info(`${store.where(manifest.id)}: every file read back, sizes and sha256 match the manifest`);
  return ok;
}

/** Finds the backup (`backup-id`, or the newest complete one anywhere) and the first destination that has it. */
async function pickBackup(
  stores: BackupStore[],
  inputs: Inputs,
): Promise<{ store: BackupStore; manifest: Manifest }> {
  const listings = [];
  for (const store of stores) listings.push({ store, complete: (await store.list()).complete });
  const id =
    inputs['backup-id'] ??
    listings
      .flatMap((l) => l.complete)
      .sort()
      .at(-1);
  const labels = stores.map((s) => s.label).join(', ');
  if (!id) throw inputError(I.Destinations, `${labels}: no complete backup`);
  const found = listings.find((l) => l.complete.includes(id));
  if (!found) {
    const has = listings.map((l) => `${l.store.label}: ${l.complete.join(', ') || 'none'}`).join('; ');
    throw inputError(I.BackupId, `${id} is not a complete backup in ${labels} (${has})`);
  }
  const { store } = found;
  return { store, manifest: parseManifest(await store.readText(id, MANIFEST), store.where(id, MANIFEST)) };
}

/** A 0700 directory on the host for staged dumps; removed by the returned function. */
async function makeStage(host: SshSession): Promise<{ dir: string; drop: () => Promise<void> }> {
  const r = await host.script(MAKE_STAGE, { silent: true });
  const dir = /^::berth::dir=(.+)$/m.exec(r.stdout)?.[1]?.trim();
  if (!dir) throw new Error('the host made no staging directory');
  return { dir, drop: async () => void (await host.script(DROP_STAGE, { args: [dir], silent: true })) };
}

/** The argument lists of the dump's restore into the live service. */
function liveRestore(inputs: Inputs, db: DatabaseSpec, c: Compression): { script: string; args: string[] } {
  if (db.engine === 'postgres')
    return { script: fromFile(PG_RESTORE), args: pgArgs(inputs.project, db.service, db.database) };
  return { script: fromFile(MY_RESTORE), args: [...myArgs(inputs.project, db.service, db.database), c] };
}

async function restore(
  host: SshSession,
  stores: BackupStore[],
  inputs: Inputs,
  verifyOnly: boolean,
): Promise<void> {
  const { store, manifest } = await core.group('Backup', async () => {
    const picked = await pickBackup(stores, inputs);
    const m = picked.manifest;
    core.info(
      `${m.id} of ${m.project} from ${picked.store.label}, ${m.files.length} files, ${m.encrypted ? 'encrypted' : 'not encrypted'}`,
    );
    return picked;
  });
  core.setOutput(Outputs.BackupId, manifest.id);
  core.setOutput(Outputs.Manifest, JSON.stringify(manifest));
  core.setOutput(Outputs.Bytes, String(manifest.files.reduce((s, f) => s + f.bytes, 0)));
  if (verifyOnly) {
    const checks: Check[] = [];
    let ok = false;
    let failure: unknown;
    try {
      ok = await core.group('Verify', () => verifyBackup(host, store, inputs, manifest, checks));
    } catch (error) {
      failure = error;
    }
    core.setOutput(Outputs.Verified, String(ok));
    await core.summary
      .addRaw(
        [
          `### Verify of backup ${manifest.id} of ${inputs.project}`,
          '',
          `From \`${store.where(manifest.id)}\`, restored into scratch volumes and databases on the host: ` +
            (ok ? 'every archive matched.' : '**it did not verify**.'),
          '',
          ...verifyTable(checks, failure),
          '',
        ].join('\n'),
      )
      .write();
    if (failure !== undefined) throw failure;
    if (!ok) throw new Error(`backup ${manifest.id} did not verify`);
    return;
  }
  const key = inputs['decryption-key'];
  const found = await discover(host, inputs);
  const volumes = manifest.files.filter((f) => sourceOf(f).kind === 'volume');
  const dumps = manifest.files.filter((f) => sourceOf(f).kind === 'dump');
  const image = volumes.length > 0 ? helperImage(found, inputs) : '';
  const transport = volumes.length > 0 ? await volumeTransport(host, image) : 'attach';
  const temps: { short: string; temp: string }[] = [];
  const stage = dumps.length > 0 ? await makeStage(host) : undefined;
  try {
    // Every archive streams through its checks into a temporary volume or a staged file on the host;
    // live volumes and databases change only after all of them matched their manifest.
    await core.group('Receive and check every archive', async () => {
      for (const f of volumes) {
        const short = (sourceOf(f) as { volume: string }).volume;
        const temp = `berth-restore-${randomBytes(6).toString('hex')}`;
        temps.push({ short, temp });
        await streamChecked(store, manifest, f, key, (plain) =>
          host.script(UNPACK_TO_TEMP, {
            args: [image, inputs.project, short, temp, compressionOf(f), transport],
            input: plain,
            silent: true,
          }),
        );
        core.info(`${f.name} unpacked into ${temp}`);
      }
      for (const f of dumps) {
        await streamChecked(store, manifest, f, key, (plain) =>
          host.script(STAGE_FILE, { args: [`${stage!.dir}/${f.name}`], input: plain, silent: true }),
        );
      }
    });

    await core.group('Volumes', async () => {
      while (temps.length > 0) {
        const { short, temp } = temps[0]!;
        const swapStarted = Date.now();
        const r = await host.script(SWAP_IN, { args: [image, inputs.project, short, temp], silent: true });
        temps.shift();
        const how = /^::berth::swapped=(\w+)$/m.exec(r.stdout)?.[1] ?? '';
        core.info(`Volume ${short} restored, swapped in by ${how || 'copy'} in ${took(swapStarted)}`);
      }
    });

    await core.group('Databases', async () => {
      for (const f of dumps) {
        const { db } = sourceOf(f) as { db: DatabaseSpec };
        await host.script(WAIT_HEALTHY, { args: [inputs.project, db.service, '180'] });
        const { script, args } = liveRestore(inputs, db, compressionOf(f));
        await host.script(script, { args: [`${stage!.dir}/${f.name}`, ...args] });
        core.info(`Database ${db.database} of ${db.service} (${db.engine}) restored`);
      }
    });
  } finally {
    for (const { temp } of temps) await host.script(DROP_TEMP, { args: [temp], silent: true });
    await stage?.drop();
  }
  await core.summary
    .addRaw(
      `### Restored ${manifest.id} of ${inputs.project}\n\nFrom \`${store.where(manifest.id)}\`: ${manifest.files
        .map((f) => f.source)
        .join(', ')}; every archive matched its manifest's sha256 before anything was changed.\n`,
    )
    .write();
}

/** The image of the service's container, for a scratch database of the same version. */
async function serviceImage(host: SshSession, inputs: Inputs, service: string): Promise<string> {
  const img = await host.script(SERVICE_IMAGE, { args: [inputs.project, service], silent: true });
  return /^::berth::image=(.+)$/m.exec(img.stdout)?.[1]?.trim() ?? '';
}

/**
 * Proves a backup by restoring it somewhere harmless: each volume archive streams through its checks
 * (size, sha256, decryption) into a scratch volume whose file list and content hashes are compared
 * with the backup's; each dump is staged on the host the same way, restored into a scratch database
 * (a throw-away container of the service's image, no network) and its row counts compared. Live
 * data is not touched.
 */
async function verifyBackup(
  host: SshSession,
  store: BackupStore,
  inputs: Inputs,
  manifest: Manifest,
  checks: Check[],
  discovered?: Discovery,
): Promise<boolean> {
  const key = inputs['decryption-key'];
  const before = checks.length;
  const found = discovered ?? (await discover(host, inputs));
  const stage = manifest.files.some((f) => sourceOf(f).kind === 'dump') ? await makeStage(host) : undefined;
  let transport: Transport | undefined;
  try {
    for (const file of manifest.files) {
      const source = sourceOf(file);
      if (source.kind === 'volume') {
        const image = helperImage(found, inputs);
        const through = (transport ??= await volumeTransport(host, image));
        const temp = `berth-verify-${randomBytes(6).toString('hex')}`;
        try {
          await streamChecked(store, manifest, file, key, (plain) =>
            host.script(UNPACK_TO_TEMP, {
              args: [image, inputs.project, source.volume, temp, compressionOf(file), through],
              input: plain,
              silent: true,
            }),
          );
          const got = parseContent(
            (
              await host.script(VOLUME_DIGEST, {
                args: [image, temp, file.content?.hash ?? 'sha256sum'],
                silent: true,
              })
            ).stdout,
          );
          if (!file.content)
            record(checks, file.name, false, 'the manifest has no content digest to compare with');
          else if (got?.sha256 !== file.content.sha256 || got.files !== file.content.files) {
            record(
              checks,
              file.name,
              false,
              `restored ${got?.files ?? '?'} files, digest ${got?.sha256 ?? '?'}; backed up ${file.content.files} files, digest ${file.content.sha256}`,
            );
          } else
            record(
              checks,
              file.name,
              true,
              `${got.files} files restored into a scratch volume, contents identical`,
            );
        } finally {
          await host.script(DROP_TEMP, { args: [temp], silent: true });
        }
        continue;
      }
      const { db } = source;
      const path = `${stage!.dir}/${file.name}`;
      await streamChecked(store, manifest, file, key, (plain) =>
        host.script(STAGE_FILE, { args: [path], input: plain, silent: true }),
      );
      const image = await serviceImage(host, inputs, db.service);
      const r =
        db.engine === 'postgres'
          ? await host.script(fromFile(PG_SCRATCH_RESTORE), {
              args: [path, image, ROW_COUNTS_SQL],
              silent: true,
            })
          : await host.script(fromFile(MY_SCRATCH_RESTORE), {
              args: [path, image, compressionOf(file), MY_ROW_COUNTS_SQL],
              silent: true,
            });
      const got = parseRowCounts(r.stdout);
      const want = file.rows ?? {};
      const differ = [...new Set([...Object.keys(got), ...Object.keys(want)])].filter(
        (t) => got[t] !== want[t],
      );
      const scratch = db.engine === 'postgres' ? 'PostgreSQL' : db.engine === 'mysql' ? 'MySQL' : 'MariaDB';
      if (!file.rows) record(checks, file.name, false, 'the manifest has no row counts to compare with');
      else if (differ.length > 0) {
        record(
          checks,
          file.name,
          false,
          `row counts differ for ${differ.map((t) => `${t} (${got[t] ?? 'missing'} restored, ${want[t] ?? 'missing'} backed up)`).join(', ')}`,
        );
      } else {
        record(
          checks,
          file.name,
          true,
          `restored into a scratch ${scratch}, ${Object.keys(got).length} tables, row counts identical`,
        );
      }
    }
  } finally {
    await stage?.drop();
  }
  return checks.slice(before).every((c) => c.ok);
}

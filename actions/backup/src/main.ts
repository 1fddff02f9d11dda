// berth/backup main step: one SSH connection to the app's host (and one to an ssh:// destination);
// backup streams each archive host -> runner (sha256, age) -> destination, manifest last, then
// retention; restore checks every archive before it touches anything. Orchestration only.
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes, inputError } from '../../../lib/inputs.js';
import { SshSession, type SshTarget } from '../../../lib/ssh.js';
import { Inputs as I, Outputs } from './constants.js';
import { Digest, decryptStream, encryptStream, WrongKeyError } from './crypto.js';
import { backupIdDate, getInputs, newBackupId, type Inputs } from './inputs.js';
import {
  ARCHIVE_VOLUME,
  DISCOVER,
  DROP_TEMP,
  HOLD_STOPPED,
  PG_DUMP,
  PG_QUERY,
  PG_RESTORE,
  PG_SCRATCH_RESTORE,
  pgArgs,
  ROW_COUNTS_SQL,
  SERVICE_IMAGE,
  SWAP_IN,
  UNPACK_TO_TEMP,
  VOLUME_DIGEST,
  WAIT_HEALTHY,
} from './remote.js';
import { keptBackups } from './retention.js';
import {
  MANIFEST,
  SftpStore,
  ShellStore,
  type BackupStore,
  MANIFEST_FORMAT,
  parseContent,
  parseManifest,
  parseRowCounts,
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

const volumeFile = (volume: string, encrypted: boolean): string =>
  `volume-${volume}.tar.zst${encrypted ? '.age' : ''}`;
const dumpFile = (service: string, db: string, encrypted: boolean): string =>
  `postgres-${service}-${db}.dump${encrypted ? '.age' : ''}`;

function sessionTarget(inputs: Inputs, over: Partial<SshTarget> = {}): SshTarget {
  return {
    host: inputs.host,
    port: inputs.port,
    user: inputs.user,
    privateKey: inputs['ssh-key'],
    knownHosts: inputs['known-hosts'],
    jumpHost: inputs['jump-host'],
    connectTimeoutSeconds: inputs['connect-timeout'],
    ...over,
  };
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  core.setOutput(Outputs.Verified, 'false');
  const tempRoot = process.env.RUNNER_TEMP || tmpdir();
  const target = `${inputs.user}@${inputs.host}:${inputs.port}`;
  const host = await core.group(`Connect to ${target}`, () =>
    SshSession.open(sessionTarget(inputs), { tempDir: tempRoot }),
  );
  const sessions = [host];
  try {
    const d = inputs.destination;
    let store: BackupStore;
    if (d.kind === 'ssh') {
      const label = `ssh://${d.user}@${d.host}:${d.port}${d.dir}`;
      const remote = await core.group(`Connect to ${d.user}@${d.host}:${d.port} (destination)`, () =>
        SshSession.open(
          sessionTarget(inputs, {
            host: d.host,
            port: d.port,
            user: d.user,
            privateKey: inputs['destination-ssh-key'],
            jumpHost: undefined,
          }),
          { tempDir: tempRoot },
        ),
      );
      sessions.push(remote);
      store = new SftpStore(remote, d.dir, label, tempRoot);
    } else {
      store = new ShellStore(host, d.dir, `host:${d.dir}`);
    }
    try {
      if (inputs.mode === 'backup') await backupOrCleanUp(host, store, inputs, tempRoot);
      else await restore(host, store, inputs, tempRoot, inputs.mode === 'verify');
    } finally {
      if (store instanceof SftpStore) store.close();
    }
  } finally {
    for (const s of sessions) await s.close();
  }
}

// ---- backup -----------------------------------------------------------------------------------

/** A backup that fails leaves no directory behind (a killed one is cleaned up by the next run). */
async function backupOrCleanUp(
  host: SshSession,
  store: BackupStore,
  inputs: Inputs,
  tempRoot: string,
): Promise<void> {
  let id: string | undefined;
  try {
    await backup(host, store, inputs, tempRoot, (x) => (id = x));
  } catch (error) {
    const listing = id ? await store.list().catch(() => undefined) : undefined;
    // Only an unfinished one: a backup that failed verification keeps its manifest for inspection.
    if (id && listing?.partial.includes(id)) await store.remove([id]).catch(() => undefined);
    throw error;
  }
}

async function backup(
  host: SshSession,
  store: BackupStore,
  inputs: Inputs,
  tempRoot: string,
  onId: (id: string) => void,
): Promise<void> {
  const started = Date.now();
  const recipients = inputs['encryption-recipients'];
  const encrypted = recipients.length > 0;
  if (!encrypted) core.warning('No encryption-recipients: this backup is stored unencrypted.');
  if (inputs.verify && encrypted && !inputs['decryption-key'])
    throw inputError(I.DecryptionKey, 'is required with verify: true when the backup is encrypted');
  const id = newBackupId(new Date(), randomBytes(2).toString('hex'));
  core.setOutput(Outputs.BackupId, id);
  onId(id);
  core.info(`Backup ${id} of ${inputs.project} to ${store.label}`);

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
    `Volumes: ${volumes.join(', ') || 'none'}; databases: ${inputs.databases.map((x) => `${x.service}/${x.database}`).join(', ') || 'none'}; helper image: ${image || '-'}`,
  );

  const files: ManifestFile[] = [];
  /** Streams what `produce` writes into a file of the backup, encrypting and hashing on the way. */
  const transfer = async (
    name: string,
    source: string,
    produce: (sink: Writable) => Promise<unknown>,
  ): Promise<ManifestFile> => {
    const raw = new PassThrough();
    const produced = produce(raw);
    produced.catch(() => {});
    const stored = encrypted ? await encryptStream(raw, recipients) : raw;
    const digest = new Digest();
    stored.on('error', (error) => digest.destroy(error));
    const uploaded = store.write(id, name, stored.pipe(digest));
    uploaded.catch((error: unknown) =>
      raw.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    const [p, u] = await Promise.allSettled([produced, uploaded]);
    if (p.status === 'rejected')
      throw new Error(`${source}: reading it on the host failed`, { cause: p.reason });
    if (u.status === 'rejected')
      throw new Error(`${source}: writing ${store.where(id, name)} failed`, { cause: u.reason });
    const file: ManifestFile = { name, source, bytes: digest.bytes, sha256: digest.sha256(), encrypted };
    files.push(file);
    core.info(`${source} -> ${name}: ${formatBytes(digest.bytes)}, sha256 ${digest.sha256()}`);
    return file;
  };

  await core.group('Databases', async () => {
    for (const db of inputs.databases) {
      // Counted just before the dump, for verify (a write in between makes verify report a difference).
      const counts = await host.script(PG_QUERY, {
        args: [...pgArgs(inputs.project, db.service, db.database), ROW_COUNTS_SQL],
        silent: true,
      });
      const file = await transfer(
        dumpFile(db.service, db.database, encrypted),
        `postgres:${db.service}/${db.database}`,
        (sink) =>
          host.script(PG_DUMP, { args: pgArgs(inputs.project, db.service, db.database), stdout: sink }),
      );
      file.rows = parseRowCounts(counts.stdout);
    }
  });

  await core.group('Volumes', async () => {
    if (volumes.length === 0) return;
    const release = await holdStopped(host, inputs);
    try {
      for (const v of volumes) {
        const file = await transfer(volumeFile(v, encrypted), `volume:${v}`, (sink) =>
          host.script(ARCHIVE_VOLUME, { args: [image, found.volumes.get(v)!], stdout: sink }),
        );
        // Still stopped: the digest describes exactly what was archived.
        const r = await host.script(VOLUME_DIGEST, { args: [image, found.volumes.get(v)!], silent: true });
        file.content = parseContent(r.stdout);
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
  await core.group('Manifest', () => store.write(id, MANIFEST, manifestText));
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  core.setOutput(Outputs.Manifest, JSON.stringify(manifest));
  core.setOutput(Outputs.Bytes, String(bytes));

  let verified = false;
  if (inputs.verify) {
    verified = await core.group('Verify', () => verifyBackup(host, store, inputs, manifest, tempRoot));
    core.setOutput(Outputs.Verified, String(verified));
    if (!verified)
      throw new Error(`backup ${id} did not verify (see the errors above); retention was not applied`);
  }

  const pruned = await core.group('Retention', () => applyRetention(store, inputs, id));
  core.setOutput(Outputs.Pruned, pruned.join(' '));

  const seconds = (Date.now() - started) / 1000;
  const rows = files.map(
    (f) => `| \`${f.name}\` | ${f.source} | ${formatBytes(f.bytes)} | \`${f.sha256.slice(0, 16)}…\` |`,
  );
  await core.summary
    .addRaw(
      [
        `### Backup ${id} of ${inputs.project}`,
        '',
        `To \`${store.where(id)}\` in ${seconds.toFixed(1)} s, ${formatBytes(bytes)} stored, ` +
          (encrypted
            ? `encrypted with age to ${recipients.length} recipient(s).`
            : '**not encrypted** (no `encryption-recipients`).'),
        inputs.verify ? `Verified by a restore into scratch volumes: ${verified ? 'yes' : 'no'}.` : '',
        '',
        '| file | source | size | sha256 |',
        '| --- | --- | --- | --- |',
        ...rows,
        '',
        pruned.length > 0 ? `Pruned: ${pruned.join(', ')}` : 'Pruned: none',
        '',
      ].join('\n'),
    )
    .write();
}

/** Stops `stop-services` until the returned function is called; the host restarts them if we vanish. */
async function holdStopped(host: SshSession, inputs: Inputs): Promise<() => Promise<void>> {
  if (inputs['stop-services'].length === 0) return async () => {};
  const stdin = new PassThrough();
  let onStopped: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  const held = host.script(HOLD_STOPPED, {
    args: [inputs.project, ...inputs['stop-services']],
    input: stdin,
    onStdoutLine: (line) => {
      if (line.startsWith('::berth::stopped=')) onStopped!();
    },
  });
  await Promise.race([
    stopped,
    held.then(() => Promise.reject(new Error('stopping the services ended early'))),
  ]);
  core.info(`Stopped ${inputs['stop-services'].join(', ')}`);
  return async () => {
    stdin.end();
    await held;
    core.info(`Started ${inputs['stop-services'].join(', ')} again`);
  };
}

async function applyRetention(store: BackupStore, inputs: Inputs, current: string): Promise<string[]> {
  const listing = await store.list();
  // Directories without a manifest are runs that died (a finished backup writes its manifest last).
  const leftovers = listing.partial.filter((x) => x !== current);
  if (leftovers.length > 0) {
    core.info(`Removing interrupted backups without a manifest: ${leftovers.join(', ')}`);
    await store.remove(leftovers);
  }
  if (!inputs.retention) return [];
  const kept = keptBackups(
    listing.complete.map((x) => ({ id: x, created: backupIdDate(x) })),
    inputs.retention,
  );
  kept.add(current);
  const pruned = listing.complete.filter((x) => !kept.has(x));
  core.info(`Keeping ${kept.size}, pruning ${pruned.length}${pruned.length ? `: ${pruned.join(', ')}` : ''}`);
  await store.remove(pruned);
  return pruned;
}

// ---- restore and verify -----------------------------------------------------------------------

interface CheckedFile {
  file: ManifestFile;
  path: string;
}

/** Downloads every file of the backup, checks its size and sha256, and that the key opens it all. */
async function checkArchives(
  store: BackupStore,
  manifest: Manifest,
  key: string | undefined,
  dir: string,
): Promise<CheckedFile[]> {
  const checked: CheckedFile[] = [];
  for (const file of manifest.files) {
    const where = store.where(manifest.id, file.name);
    const path = join(dir, file.name);
    const digest = new Digest();
    const pass = new PassThrough();
    const saved = pipeline(pass, digest, createWriteStream(path, { mode: 0o600 }));
    await Promise.all([store.read(manifest.id, file.name, pass), saved]).catch((error: unknown) => {
      throw new Error(`archive ${where} cannot be read; nothing was restored`, { cause: error });
    });
    if (digest.bytes !== file.bytes || digest.sha256() !== file.sha256) {
      throw new Error(
        `archive ${where} does not match its manifest (${digest.bytes} bytes, sha256 ${digest.sha256()}; ` +
          `expected ${file.bytes} bytes, sha256 ${file.sha256}): it is truncated or altered; nothing was restored`,
      );
    }
    if (file.encrypted) {
      if (!key) throw inputError(I.DecryptionKey, `is required: ${where} is encrypted`);
      try {
        const source = createReadStream(path);
        const plain = await decryptStream(source, key);
        if (file.source.startsWith('volume:')) {
          // The key opens it (age checked the header). Volumes are unpacked into a temporary volume
          // first, where age's authentication of every chunk fails before the live volume is touched,
          // so a second full pass here would only cost time.
          plain.destroy();
          source.destroy();
        } else {
          // A dump goes straight into the live database: it must decrypt completely first.
          await pipeline(plain, devNull());
        }
      } catch (error) {
        if (error instanceof WrongKeyError) {
          throw inputError(
            I.DecryptionKey,
            `does not open ${where} (it is encrypted to other recipients); nothing was restored`,
          );
        }
        throw new Error(`archive ${where} fails to decrypt (corrupted); nothing was restored`, {
          cause: error,
        });
      }
    }
    core.info(
      `${file.name}: ${formatBytes(file.bytes)}, sha256 matches the manifest${file.encrypted ? ', decrypts' : ''}`,
    );
    checked.push({ file, path });
  }
  return checked;
}

const devNull = (): Writable => new Writable({ write: (_c, _e, done) => done() });

async function plaintext(c: CheckedFile, key: string | undefined): Promise<Readable> {
  const source = createReadStream(c.path);
  return c.file.encrypted ? decryptStream(source, key!) : source;
}

async function pickBackup(store: BackupStore, inputs: Inputs): Promise<Manifest> {
  const listing = await store.list();
  const id = inputs['backup-id'] ?? listing.complete.at(-1);
  if (!id) throw inputError(I.Destination, `${store.label} holds no complete backup`);
  if (!listing.complete.includes(id)) {
    throw inputError(
      I.BackupId,
      `${id} is not a complete backup in ${store.label} (it has: ${listing.complete.join(', ') || 'none'})`,
    );
  }
  return parseManifest(await store.readText(id, MANIFEST), store.where(id, MANIFEST));
}

async function restore(
  host: SshSession,
  store: BackupStore,
  inputs: Inputs,
  tempRoot: string,
  verifyOnly: boolean,
): Promise<void> {
  const manifest = await core.group('Backup', async () => {
    const m = await pickBackup(store, inputs);
    core.info(
      `${m.id} of ${m.project}, ${m.files.length} files, ${m.encrypted ? 'encrypted' : 'not encrypted'}`,
    );
    return m;
  });
  core.setOutput(Outputs.BackupId, manifest.id);
  core.setOutput(Outputs.Manifest, JSON.stringify(manifest));
  core.setOutput(Outputs.Bytes, String(manifest.files.reduce((s, f) => s + f.bytes, 0)));
  if (verifyOnly) {
    const ok = await core.group('Verify', () => verifyBackup(host, store, inputs, manifest, tempRoot));
    core.setOutput(Outputs.Verified, String(ok));
    if (!ok) throw new Error(`backup ${manifest.id} did not verify`);
    return;
  }
  const dir = mkdtempSync(join(tempRoot, 'berth-restore-'));
  try {
    const key = inputs['decryption-key'];
    const checked = await core.group('Check the archives', () => checkArchives(store, manifest, key, dir));
    const found = await discover(host, inputs);
    const volumes = checked.filter((c) => c.file.source.startsWith('volume:'));
    const dumps = checked.filter((c) => c.file.source.startsWith('postgres:'));
    const image = volumes.length > 0 ? helperImage(found, inputs) : '';

    await core.group('Volumes', async () => {
      const temps: { short: string; temp: string }[] = [];
      try {
        // Everything is unpacked into temporary volumes first; live volumes change only after that.
        for (const c of volumes) {
          const short = c.file.source.slice('volume:'.length);
          const temp = `berth-restore-${randomBytes(6).toString('hex')}`;
          temps.push({ short, temp });
          await host.script(UNPACK_TO_TEMP, {
            args: [image, inputs.project, short, temp],
            input: await plaintext(c, key),
          });
          core.info(`${c.file.name} unpacked into ${temp}`);
        }
        while (temps.length > 0) {
          const { short, temp } = temps[0]!;
          await host.script(SWAP_IN, { args: [image, inputs.project, short, temp] });
          temps.shift();
          core.info(`Volume ${short} restored`);
        }
      } finally {
        for (const { temp } of temps) await host.script(DROP_TEMP, { args: [temp], silent: true });
      }
    });

    await core.group('Databases', async () => {
      for (const c of dumps) {
        const [service, database] = c.file.source.slice('postgres:'.length).split('/') as [string, string];
        await host.script(WAIT_HEALTHY, { args: [inputs.project, service, '180'] });
        await host.script(PG_RESTORE, {
          args: pgArgs(inputs.project, service, database),
          input: await plaintext(c, key),
        });
        core.info(`Database ${database} of ${service} restored`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await core.summary
    .addRaw(
      `### Restored ${manifest.id} of ${inputs.project}\n\nFrom \`${store.where(manifest.id)}\`: ${manifest.files
        .map((f) => f.source)
        .join(', ')}; every archive matched its manifest's sha256 before anything was changed.\n`,
    )
    .write();
}

/**
 * Proves a backup by restoring it somewhere harmless: every archive is checked (size, sha256,
 * decryption), each volume is unpacked into a scratch volume and its file list and content hashes
 * compared with the backup's, each dump is restored into a scratch PostgreSQL (a throw-away
 * container of the service's image, no network) and its row counts compared. Live data is not touched.
 */
async function verifyBackup(
  host: SshSession,
  store: BackupStore,
  inputs: Inputs,
  manifest: Manifest,
  tempRoot: string,
): Promise<boolean> {
  const dir = mkdtempSync(join(tempRoot, 'berth-verify-'));
  const key = inputs['decryption-key'];
  const problems: string[] = [];
  try {
    const checked = await checkArchives(store, manifest, key, dir);
    const found = await discover(host, inputs);
    for (const c of checked) {
      const { file } = c;
      if (file.source.startsWith('volume:')) {
        const short = file.source.slice('volume:'.length);
        const image = helperImage(found, inputs);
        const temp = `berth-verify-${randomBytes(6).toString('hex')}`;
        try {
          await host.script(UNPACK_TO_TEMP, {
            args: [image, inputs.project, short, temp],
            input: await plaintext(c, key),
            silent: true,
          });
          const got = parseContent(
            (await host.script(VOLUME_DIGEST, { args: [image, temp], silent: true })).stdout,
          );
          if (!file.content)
            problems.push(`${file.name}: the manifest has no content digest to compare with`);
          else if (got?.sha256 !== file.content.sha256 || got.files !== file.content.files) {
            problems.push(
              `${file.name}: restored ${got?.files ?? '?'} files, digest ${got?.sha256 ?? '?'}; backed up ${file.content.files} files, digest ${file.content.sha256}`,
            );
          } else
            core.info(`${file.name}: ${got.files} files restored into a scratch volume, contents identical`);
        } finally {
          await host.script(DROP_TEMP, { args: [temp], silent: true });
        }
      } else if (file.source.startsWith('postgres:')) {
        const [service] = file.source.slice('postgres:'.length).split('/') as [string, string];
        const img = await host.script(SERVICE_IMAGE, { args: [inputs.project, service], silent: true });
        const image = /^::berth::image=(.+)$/m.exec(img.stdout)?.[1]?.trim() ?? '';
        const r = await host.script(PG_SCRATCH_RESTORE, {
          args: [image, ROW_COUNTS_SQL],
          input: await plaintext(c, key),
          silent: true,
        });
        const got = parseRowCounts(r.stdout);
        const want = file.rows ?? {};
        const differ = [...new Set([...Object.keys(got), ...Object.keys(want)])].filter(
          (t) => got[t] !== want[t],
        );
        if (!file.rows) problems.push(`${file.name}: the manifest has no row counts to compare with`);
        else if (differ.length > 0) {
          problems.push(
            `${file.name}: row counts differ for ${differ.map((t) => `${t} (${got[t] ?? 'missing'} restored, ${want[t] ?? 'missing'} backed up)`).join(', ')}`,
          );
        } else {
          core.info(
            `${file.name}: restored into a scratch PostgreSQL, ${Object.keys(got).length} tables, row counts identical`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const p of problems) core.error(`verify: ${p}`);
  return problems.length === 0;
}

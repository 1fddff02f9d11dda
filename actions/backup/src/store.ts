// Where backups are kept: a directory reached through an SSH session (the app's host for `host:`,
// another host for `ssh://`), or workflow artifacts. One backup is `<dir>/<id>/`, its files and,
// written last, manifest.json; as an artifact, `berth-backup-<project>-<id>` holding the same files.
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sftpQuote, type SshSession } from '../../../lib/ssh/session.js';
import { MANIFEST_FORMAT, type Compression } from './constants.js';
import { BACKUP_ID } from './inputs.js';
import { LIST_BACKUPS, READ_FILE, REMOVE_BACKUPS, WRITE_FILE } from './remote.js';

export const MANIFEST = 'manifest.json';

/** The test LIST_BACKUPS makes on the host with grep, for manifests read by the runner. */
function hasManifestFormat(text: string): boolean {
  return new RegExp(`"format": *"${MANIFEST_FORMAT.replace(/[/.]/g, '\\$&')}"`).test(text);
}

export interface ManifestFile {
  name: string;
  /** `volume:<compose volume>` or `<engine>:<service>/<database>` (engine postgres, mysql, mariadb) */
  source: string;
  /**
   * how the content was compressed on the host before encryption; absent in older manifests, which
   * mean zstd for volumes and none for dumps (pg_dump's custom format compresses itself)
   */
  compression?: Compression;
  /** size and sha256 of the file as stored (after encryption when encrypted) */
  bytes: number;
  sha256: string;
  encrypted: boolean;
  /** volumes: file count and digest of the path list and file hashes, for verify */
  content?: VolumeContent;
  /** databases: exact row count of every table at backup time, for verify */
  rows?: Record<string, number>;
}

/** `schema.table|count` lines (psql -At) as a record. */
export function parseRowCounts(stdout: string): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(.+)\|(\d+)$/.exec(line.trim());
    if (m) Object.defineProperty(rows, m[1]!, { value: Number(m[2]), enumerable: true, writable: true });
  }
  return rows;
}

/** A volume's content digest (VOLUME_DIGEST), for verify. */
export interface VolumeContent {
  files: number;
  /** sha256 of the sorted path list followed by every file's `hash` line */
  sha256: string;
  /** the per-file hash tool; absent in older manifests, which used sha256sum */
  hash?: 'b2sum' | 'sha256sum';
}

/** `::berth::content=<files> <sha256> <tool>` */
export function parseContent(stdout: string): VolumeContent | undefined {
  const m = /^::berth::content=(\d+) ([0-9a-f]{64}) (b2sum|sha256sum)$/m.exec(stdout);
  return m ? { files: Number(m[1]), sha256: m[2]!, hash: m[3] as VolumeContent['hash'] } : undefined;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  project: string;
  created: string;
  encrypted: boolean;
  files: ManifestFile[];
}

export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  const m = value as Partial<Manifest>;
  if (m?.format !== MANIFEST_FORMAT || !Array.isArray(m.files) || typeof m.id !== 'string') {
    throw new Error(`${where} is not a Berth backup manifest (${MANIFEST_FORMAT})`);
  }
  for (const f of m.files) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(f.name) || !/^[0-9a-f]{64}$/.test(f.sha256)) {
      throw new Error(`${where} lists an invalid file entry`);
    }
  }
  return m as Manifest;
}

export interface Listing {
  complete: string[];
  partial: string[];
}

export function parseListing(stdout: string): Listing {
  const listing: Listing = { complete: [], partial: [] };
  for (const line of stdout.split('\n')) {
    const m = /^::berth::(complete|partial)=(\S+)$/.exec(line);
    if (m) listing[m[1] as keyof Listing].push(m[2]!);
  }
  listing.complete.sort();
  listing.partial.sort();
  return listing;
}

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
  remove(ids: readonly string[]): Promise<void>;
  /** Deletes what the store keeps on the runner. */
  close(): void;
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
    return `${this.label}/${id}${name ? `/${name}` : ''}`;
  }

  /** Uploads `data` as `<id>/<name>`; resolves when the host has it in place. */
  async write(id: string, name: string, data: Readable | string): Promise<void> {
    await this.session.script(WRITE_FILE, { args: [`${this.dir}/${id}`, name], input: data, silent: true });
  }

  /** Streams `<id>/<name>` into `sink`. */
  async read(id: string, name: string, sink: Writable): Promise<void> {
    await this.session.script(READ_FILE, { args: [`${this.dir}/${id}`, name], stdout: sink, silent: true });
  }

  async readText(id: string, name: string): Promise<string> {
    const r = await this.session.script(READ_FILE, {
      args: [`${this.dir}/${id}`, name],
      silent: true,
      ignoreReturnCode: true,
    });
    if (r.exitCode !== 0) throw new Error(`${this.where(id, name)} cannot be read: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async list(): Promise<Listing> {
    const r = await this.session.script(LIST_BACKUPS, { args: [this.dir], silent: true });
    return parseListing(r.stdout);
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.session.script(REMOVE_BACKUPS, { args: [this.dir, ...ids], silent: true });
  }

  close(): void {}
}

/**
 * A directory on an sftp-only account (an off-site backup server whose user has no shell). sftp
 * uploads regular files only, so each file is staged on the runner first; the one SSH connection
 * carries every sftp batch.
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
    return `${this.label}/${id}${name ? `/${name}` : ''}`;
  }

  private local(): string {
    return join(this.staging, randomBytes(8).toString('hex'));
  }

  async write(id: string, name: string, data: Readable | string): Promise<void> {
    const file = this.local();
    try {
      await pipeline(
        typeof data === 'string' ? Readable.from([data]) : data,
        createWriteStream(file, { mode: 0o600 }),
      );
      const path = `${this.dir}/${id}/${name}`;
      await this.session.sftp([
        `-mkdir ${sftpQuote(this.dir)}`,
        `-mkdir ${sftpQuote(`${this.dir}/${id}`)}`,
        `put ${sftpQuote(file)} ${sftpQuote(`${path}.part`)}`,
        `-rm ${sftpQuote(path)}`,
        `rename ${sftpQuote(`${path}.part`)} ${sftpQuote(path)}`,
      ]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async read(id: string, name: string, sink: Writable): Promise<void> {
    const file = this.local();
    try {
      await this.session.sftp([`get ${sftpQuote(`${this.dir}/${id}/${name}`)} ${sftpQuote(file)}`]);
      await pipeline(createReadStream(file), sink);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async readText(id: string, name: string): Promise<string> {
    const file = this.local();
    try {
      const r = await this.session.sftp(
        [`get ${sftpQuote(`${this.dir}/${id}/${name}`)} ${sftpQuote(file)}`],
        {
          ignoreReturnCode: true,
        },
      );
      if (r.exitCode !== 0) throw new Error(`${this.where(id, name)} cannot be read: ${r.stderr.trim()}`);
      return readFileSync(file, 'utf8');
    } finally {
      rmSync(file, { force: true });
    }
  }

  async list(): Promise<Listing> {
    const r = await this.session.sftp([`ls -1 ${sftpQuote(this.dir)}`], { ignoreReturnCode: true });
    if (r.exitCode !== 0) return { complete: [], partial: [] };
    const ids = r.stdout
      .split('\n')
      .map((l) => l.trim().split('/').pop() ?? '')
      .filter((x) => BACKUP_ID.test(x));
    const got = mkdtempSync(join(this.staging, 'list-'));
    try {
      if (ids.length > 0) {
        await this.session.sftp(
          ids.map((x) => `-get ${sftpQuote(`${this.dir}/${x}/${MANIFEST}`)} ${sftpQuote(join(got, x))}`),
          { ignoreReturnCode: true },
        );
      }
      const present = new Set(readdirSync(got));
      const listing: Listing = { complete: [], partial: [] };
      for (const x of ids) {
        const ok = present.has(x) && hasManifestFormat(readFileSync(join(got, x), 'utf8'));
        listing[ok ? 'complete' : 'partial'].push(x);
      }
      listing.complete.sort();
      listing.partial.sort();
      return listing;
    } finally {
      rmSync(got, { recursive: true, force: true });
    }
  }

  async remove(ids: readonly string[]): Promise<void> {
    const lines: string[] = [];
    for (const x of ids) {
      if (!BACKUP_ID.test(x)) throw new Error(`refusing to delete ${x}`);
      const d = `${this.dir}/${x}`;
      lines.push(`-rm ${sftpQuote(d)}/*`, `-rmdir ${sftpQuote(d)}`);
    }
    if (lines.length > 0) await this.session.sftp(lines);
  }

  close(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

type ArtifactModule = typeof import('@actions/artifact');
let artifactModule: Promise<ArtifactModule> | undefined;
/** @actions/artifact (and its Azure SDK) loads only when an artifact destination is used. */
const loadArtifact = (): Promise<ArtifactModule> => (artifactModule ??= import('@actions/artifact'));

/** The artifact name of a backup. */
export const artifactName = (project: string, id: string): string => `berth-backup-${project}-${id}`;

/**
 * Workflow artifacts through the runner's artifact service (@actions/artifact): one artifact per
 * backup, uploaded when its manifest is written (an artifact only exists once finalized, so an
 * interrupted backup leaves none), kept for `artifact-retention-days`. Reading lists and downloads the
 * artifacts of the current workflow run (any of its jobs), so a later job can verify or restore them.
 * The files are staged on the runner, since the service takes whole files.
 */
export class ArtifactStore implements BackupStore {
  readonly label = 'artifact';
  readonly pruned = false;
  private readonly staging: string;
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(
    readonly project: string,
    tempRoot: string,
    readonly retentionDays: number | undefined,
  ) {
    this.staging = mkdtempSync(join(tempRoot, 'berth-artifact-'));
  }

  where(id: string, name?: string): string {
    return `artifact ${artifactName(this.project, id)}${name ? `/${name}` : ''}`;
  }

  async write(id: string, name: string, data: Readable | string): Promise<void> {
    const dir = join(this.staging, 'up', id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    await pipeline(
      typeof data === 'string' ? Readable.from([data]) : data,
      createWriteStream(`${file}.part`, { mode: 0o600 }),
    );
    renameSync(`${file}.part`, file);
    if (name !== MANIFEST) return;
    const { DefaultArtifactClient } = await loadArtifact();
    const files = readdirSync(dir).map((f) => join(dir, f));
    await new DefaultArtifactClient().uploadArtifact(artifactName(this.project, id), files, dir, {
      retentionDays: this.retentionDays,
      // The archives are compressed and encrypted already.
      compressionLevel: 0,
    });
    rmSync(dir, { recursive: true, force: true });
  }

  /** The artifact's files, downloaded once into the staging directory. */
  private download(id: string): Promise<string> {
    let dir = this.downloads.get(id);
    if (!dir) {
      dir = (async () => {
        const { DefaultArtifactClient } = await loadArtifact();
        const client = new DefaultArtifactClient();
        const name = artifactName(this.project, id);
        const { artifact } = await client.getArtifact(name);
        const path = join(this.staging, 'down', id);
        await client.downloadArtifact(artifact.id, { path });
        return path;
      })();
      this.downloads.set(id, dir);
    }
    return dir;
  }

  async read(id: string, name: string, sink: Writable): Promise<void> {
    const file = join(await this.download(id), name);
    if (!existsSync(file)) throw new Error(`${this.where(id, name)} is missing from the artifact`);
    await pipeline(createReadStream(file), sink);
  }

  async readText(id: string, name: string): Promise<string> {
    const file = join(await this.download(id), name);
    if (!existsSync(file)) throw new Error(`${this.where(id, name)} is missing from the artifact`);
    return readFileSync(file, 'utf8');
  }

  async list(): Promise<Listing> {
    const { DefaultArtifactClient } = await loadArtifact();
    const { artifacts } = await new DefaultArtifactClient().listArtifacts({ latest: true });
    const prefix = artifactName(this.project, '');
    const complete = artifacts
      .map((a) => a.name.slice(prefix.length))
      .filter((x, i) => artifacts[i]!.name.startsWith(prefix) && BACKUP_ID.test(x))
      .sort();
    return { complete, partial: [] };
  }

  /** Artifacts expire by artifact-retention-days; Berth deletes none. */
  async remove(): Promise<void> {}

  close(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

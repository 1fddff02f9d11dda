// What a backup says about itself: manifest.json (written last: a backup without it is partial), its
// file entries, and the readers of what hosts report about backups (listings, row counts, volume
// content digests). Everything here comes from storage or a host, so it is validated.
import { oneLine } from '../../../lib/action/untrusted.js';
import { HostReport } from '../../../lib/ssh/host-script.js';
import { MANIFEST_FORMAT, type Compression } from './constants.js';

export const MANIFEST = 'manifest.json';

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

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  project: string;
  created: string;
  encrypted: boolean;
  files: ManifestFile[];
}

/** The test LIST_BACKUPS makes on the host with grep, for manifests read by the runner. */
export function hasManifestFormat(text: string): boolean {
  return new RegExp(`"format": *"${MANIFEST_FORMAT.replace(/[/.]/g, '\\$&')}"`).test(text);
}

/**
 * The path (`files.0.source`) of the first name or text in `value` that oneLine would change: a line
 * break, a control character, a workflow command. Berth never writes one, and its messages quote them.
 */
function unsafeText(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return oneLine(value) === value ? undefined : path || '(the manifest)';
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (oneLine(key) !== key) return at;
    const found = unsafeText(child, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  const unsafe = unsafeText(value);
  if (unsafe !== undefined) {
    throw new Error(
      `${where} is forged: "${oneLine(unsafe)}" holds a line break, a control character or a workflow command`,
    );
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
  /** the space the content takes on disk (du -sk), for restore's free-space check; absent in older manifests */
  kib?: number;
}

/** VOLUME_DIGEST's report, `content=<files> <sha256> <tool>[ <KiB>]`. */
export function parseContent(stdout: string): VolumeContent | undefined {
  const m = /^(\d+) ([0-9a-f]{64}) (b2sum|sha256sum)(?: (\d{1,15}))?$/.exec(
    HostReport.parse(stdout).last('content') ?? '',
  );
  if (!m) return undefined;
  const content: VolumeContent = { files: Number(m[1]), sha256: m[2]!, hash: m[3] as VolumeContent['hash'] };
  if (m[4] !== undefined) content.kib = Number(m[4]);
  return content;
}

/** The backups in a destination: with a manifest, and without one (interrupted runs). */
export interface Listing {
  complete: string[];
  partial: string[];
  /** ids whose directory is a symbolic link (it might lead anywhere): neither read nor removed */
  symlinks?: string[];
}

/** LIST_BACKUPS's report, `complete=<id>` and `partial=<id>`, sorted. */
export function parseListing(stdout: string): Listing {
  const report = HostReport.parse(stdout);
  const ids = (key: string) => report.all(key).filter((id) => /^\S+$/.test(id));
  return {
    complete: ids('complete').sort(),
    partial: ids('partial').sort(),
    symlinks: ids('symlink').sort(),
  };
}

/** Small files of several backups, by id then name (what READ_BACKUP_FILES reports). */
export type BackupFiles = Map<string, Map<string, string>>;

/** READ_BACKUP_FILES's report: `file=<id>/<name>`, then base64 `chunk=` lines of its content. */
export function parseBackupFiles(stdout: string): BackupFiles {
  const files: BackupFiles = new Map();
  const chunks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const { key, value } of HostReport.parse(stdout).lines) {
    if (key === 'file') {
      const m = /^([^/]+)\/([^/]+)$/.exec(value);
      current = m ? [] : undefined;
      if (m) chunks.set(value, current!);
    } else if (key === 'chunk') current?.push(value);
  }
  for (const [path, parts] of chunks) {
    const [id, name] = path.split('/') as [string, string];
    if (!files.has(id)) files.set(id, new Map());
    files.get(id)!.set(name, Buffer.from(parts.join(''), 'base64').toString('utf8'));
  }
  return files;
}

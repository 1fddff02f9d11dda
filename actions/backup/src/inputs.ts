// berth/backup's inputs: the typed interface (keys as in action.yml) and getInputs(), the only
// place that reads them. Every value that reaches a remote shell is validated here and quoted later.
import { maskSecret } from '../../../lib/action/secrets.js';
import {
  getBooleanInput,
  getDurationInput,
  getEnumInput,
  getListInput,
  getString,
  inputError,
} from '../../../lib/action/inputs.js';
import { parseProjectName } from '../../../lib/action/input-checks.js';
import { getSshInputs, parseJumpHost, type SshInputs } from '../../../lib/ssh/inputs.js';
import { parseMetricsDir } from '../../../lib/ssh/textfile.js';
import { normalizePrivateKey } from '../../../lib/ssh/target.js';
import {
  BACKUP_ID_PATTERN,
  COMPRESSIONS,
  ENGINES,
  Inputs as I,
  MODES,
  type Compression,
  type Engine,
  type Mode,
} from './constants.js';
import { identityLines } from './crypto.js';
import { parseHeartbeatUrl } from './heartbeat.js';
import { parseRetention, type RetentionPolicy } from './retention.js';
import { checkEncryption, getSigningInputs, type SigningInputs } from './signing-inputs.js';

/** Where backups live: a directory on the app's host, on another host over SSH, or a workflow artifact. */
export type Destination =
  | { kind: 'host'; dir: string }
  | { kind: 'ssh'; user: string; host: string; port: number; dir: string }
  | { kind: 'artifact' };

export interface DatabaseSpec {
  service: string;
  engine: Engine;
  database: string;
}

export interface Inputs extends SshInputs, SigningInputs {
  mode: Mode;
  project: string;
  /** empty: every named volume of the project */
  volumes: string[];
  databases: DatabaseSpec[];
  'stop-services': string[];
  'helper-image'?: string;
  /** at least one; backups are written to each, restore/verify read from the first that has the backup */
  destinations: Destination[];
  'destination-ssh-key': string;
  /** days; undefined: the repository's default */
  'artifact-retention-days'?: number;
  compression: Compression;
  'encryption-recipients': string[];
  'decryption-key'?: string;
  'backup-id'?: string;
  retention: RetentionPolicy | null;
  verify: boolean;
  /** the project's directory on the host, whose `.lock` backup, restore and deploy share (deploy's `remote-dir`) */
  'remote-dir': string;
  /** seconds to wait for that lock */
  'lock-timeout': number;
  /** the node exporter's textfile directory on the host (metrics.ts) */
  'metrics-dir'?: string;
  /** pinged when a backup or verify ends (heartbeat.ts); a secret */
  'heartbeat-url'?: URL;
}

/** compose service and volume names, database names: no shell or path syntax. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9_.\-/:@]*$/;
export const BACKUP_ID = new RegExp(`^${BACKUP_ID_PATTERN}$`);

/** Sortable by time, unique across concurrent runs: `20261122T050102Z-3fa1`. */
export function newBackupId(now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${random}`;
}

/** The time a backup id names; an impossible date (month 13, 31 April, 25 h) is not an id. */
export function backupIdDate(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (!m) throw new Error(`${id} is not a backup id`);
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  // Date.UTC rolls over (month 13 is next January): a real date reads back the same.
  if (Number.isNaN(date.getTime()) || !id.startsWith(newBackupId(date, '')))
    throw new Error(`${id} names an impossible date`);
  return date;
}

function checkDir(name: string, dir: string): string {
  const clean = dir.replace(/\/+$/, '');
  if (!clean.startsWith('/') || /[\n\r\0]/.test(clean) || clean.split('/').includes('..') || clean === '') {
    throw inputError(name, `${JSON.stringify(dir)} is not an absolute directory path without ".."`);
  }
  return clean;
}

/** `host:/dir` (on the app's host), `ssh://user@host[:port]/dir` or `artifact`. */
export function parseDestination(name: string, value: string): Destination {
  const text = value.trim();
  if (text.startsWith('host:')) return { kind: 'host', dir: checkDir(name, text.slice('host:'.length)) };
  if (text.startsWith('ssh://')) {
    const rest = text.slice('ssh://'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) throw inputError(name, `${JSON.stringify(value)} is not ssh://user@host[:port]/dir`);
    const jump = parseJumpHost(name, rest.slice(0, slash));
    const dir = checkDir(name, rest.slice(slash));
    // sftp batch commands glob; keep the directory plain.
    if (!/^[A-Za-z0-9_./-]+$/.test(dir))
      throw inputError(
        name,
        `${JSON.stringify(dir)}: an ssh:// directory may only have letters, digits and _ . / -`,
      );
    return { kind: 'ssh', ...jump, dir };
  }
  if (text === 'artifact') return { kind: 'artifact' };
  throw inputError(name, `${JSON.stringify(value)} is not host:/dir, ssh://user@host[:port]/dir or artifact`);
}

/** One destination a line; the same one twice is refused (it would be written twice). */
export function parseDestinations(name: string, lines: string[], project: string): Destination[] {
  const list = (lines.length > 0 ? lines : [`host:/var/backups/${project}`]).map((l) =>
    parseDestination(name, l),
  );
  const seen = new Set<string>();
  for (const d of list) {
    const key = JSON.stringify(d);
    if (seen.has(key)) throw inputError(name, `${destinationLabel(d)} is listed twice`);
    seen.add(key);
  }
  return list;
}

export function destinationLabel(d: Destination): string {
  if (d.kind === 'host') return `host:${d.dir}`;
  if (d.kind === 'ssh') return `ssh://${d.user}@${d.host}:${d.port}${d.dir}`;
  return 'artifact';
}

/** 1 to 90 days (GitHub's limit; a repository's own maximum may be lower and wins). */
export function parseRetentionDays(name: string, value: string): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  const days = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(days >= 1 && days <= 90))
    throw inputError(name, `${JSON.stringify(value)} is not a number of days from 1 to 90`);
  return days;
}

/** `service:engine:database` lines (engine `postgres`, `mysql` or `mariadb`). */
export function parseDatabases(name: string, lines: string[]): DatabaseSpec[] {
  return lines.map((line, i) => {
    const [service, engine, database, extra] = line.split(':');
    if (!service || !engine || !database || extra !== undefined) {
      throw inputError(
        name,
        `line ${i + 1} is not service:engine:database (engine postgres, mysql or mariadb)`,
      );
    }
    if (!NAME.test(service))
      throw inputError(name, `line ${i + 1}: ${JSON.stringify(service)} is not a service name`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(database))
      throw inputError(name, `line ${i + 1}: ${JSON.stringify(database)} is not a database name`);
    if (!(ENGINES as readonly string[]).includes(engine))
      throw inputError(
        name,
        `line ${i + 1}: engine ${JSON.stringify(engine)} is not supported (${ENGINES.join(', ')})`,
      );
    return { service, engine: engine as Engine, database };
  });
}

function parseNames(name: string, items: string[], what: string): string[] {
  for (const item of items) {
    if (!NAME.test(item)) throw inputError(name, `${JSON.stringify(item)} is not a ${what} name`);
  }
  return items;
}

/** age recipients (`age1...` X25519, `age1pq1...`), one per line or comma-separated. */
export function parseRecipients(name: string, items: string[]): string[] {
  for (const item of items) {
    if (!/^age1[0-9a-z]+$/.test(item))
      throw inputError(name, `${JSON.stringify(item.slice(0, 20))} is not an age recipient (age1...)`);
  }
  return items;
}

/** `decryption-key`: age identities, one per line, as age-keygen writes them (comments allowed). */
export function checkDecryptionKey(text: string): void {
  const lines = identityLines(text);
  if (lines.length === 0 || !lines.every((l) => /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(l))) {
    throw inputError(
      I.DecryptionKey,
      'is not an age identity (AGE-SECRET-KEY-1..., as age-keygen prints; content not shown)',
    );
  }
}

/** A backup id, or `latest` / empty for the newest complete backup (undefined). */
export function parseBackupId(name: string, value: string): string | undefined {
  const id = value.trim();
  if (id === '' || id === 'latest') return undefined;
  if (!BACKUP_ID.test(id))
    throw inputError(name, `${JSON.stringify(id)} is not a backup id (like 20261122T050102Z-3fa1) or latest`);
  try {
    backupIdDate(id);
  } catch {
    throw inputError(name, `${JSON.stringify(id)} names an impossible date`);
  }
  return id;
}

export function getInputs(): Inputs {
  const mode = getEnumInput(I.Mode, MODES, { default: 'backup' });
  const ssh = getSshInputs();
  const destinationKey = getString(I.DestinationSshKey) || ssh['ssh-key'];
  maskSecret(destinationKey);
  const heartbeat = getString(I.HeartbeatUrl) ?? '';
  maskSecret(heartbeat);
  const decryptionKey = getString(I.DecryptionKey) || undefined;
  maskSecret(decryptionKey);
  if (decryptionKey) checkDecryptionKey(decryptionKey);
  const project = parseProjectName(I.Project, getString(I.Project, { required: true }));
  const helper = getString(I.HelperImage) || undefined;
  if (helper && !IMAGE.test(helper))
    throw inputError(I.HelperImage, `${JSON.stringify(helper)} is not an image reference`);
  const inputs: Inputs = {
    mode,
    ...ssh,
    ...getSigningInputs(mode),
    project,
    volumes: parseNames(I.Volumes, getListInput(I.Volumes), 'volume'),
    databases: parseDatabases(I.Databases, getListInput(I.Databases)),
    'stop-services': parseNames(I.StopServices, getListInput(I.StopServices), 'service'),
    'helper-image': helper,
    destinations: parseDestinations(
      I.Destinations,
      getListInput(I.Destinations, { newlinesOnly: true }),
      project,
    ),
    'destination-ssh-key': normalizePrivateKey(destinationKey),
    'artifact-retention-days': parseRetentionDays(
      I.ArtifactRetentionDays,
      getString(I.ArtifactRetentionDays) ?? '',
    ),
    compression: getEnumInput(I.Compression, COMPRESSIONS, { default: 'zstd' }),
    'encryption-recipients': parseRecipients(I.EncryptionRecipients, getListInput(I.EncryptionRecipients)),
    'decryption-key': decryptionKey,
    'backup-id': parseBackupId(I.BackupId, getString(I.BackupId) ?? ''),
    retention: parseRetention(I.Retention, getString(I.Retention) ?? ''),
    verify: getBooleanInput(I.Verify, { default: false }),
    'remote-dir': checkDir(I.RemoteDir, getString(I.RemoteDir) || `/opt/${project}`),
    'lock-timeout': Math.ceil(getDurationInput(I.LockTimeout, { default: 300_000 }) / 1000),
    'metrics-dir': parseMetricsDir(I.MetricsDir, getString(I.MetricsDir) ?? ''),
    'heartbeat-url': parseHeartbeatUrl(I.HeartbeatUrl, heartbeat),
  };
  checkEncryption({
    mode,
    recipients: inputs['encryption-recipients'],
    kinds: inputs.destinations.map((d) => d.kind),
    allowUnencrypted: inputs['allow-unencrypted'],
  });
  return inputs;
}

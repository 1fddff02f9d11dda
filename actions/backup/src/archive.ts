// What a file of a backup is: its name from its source, compression and encryption, and back from
// a manifest entry (which comes from storage, so it is validated before any of it reaches a host).
import { ENGINES, type Compression, type Engine } from './constants.js';
import type { DatabaseSpec } from './inputs.js';
import type { ManifestFile } from './manifest.js';

const EXTENSION: Record<Compression, string> = { zstd: '.zst', gzip: '.gz', none: '' };
const age = (encrypted: boolean): string => (encrypted ? '.age' : '');
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DATABASE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** `volume-<name>.tar[.zst|.gz][.age]` */
export const volumeFile = (volume: string, c: Compression, encrypted: boolean): string =>
  `volume-${volume}.tar${EXTENSION[c]}${age(encrypted)}`;

/** `postgres-<service>-<db>.dump[.age]` (pg_dump compresses), `<engine>-<service>-<db>.sql[.zst|.gz][.age]` */
export const dumpFile = (db: DatabaseSpec, c: Compression, encrypted: boolean): string =>
  db.engine === 'postgres'
    ? `postgres-${db.service}-${db.database}.dump${age(encrypted)}`
    : `${db.engine}-${db.service}-${db.database}.sql${EXTENSION[c]}${age(encrypted)}`;

export type Source = { kind: 'volume'; volume: string } | { kind: 'dump'; db: DatabaseSpec };

/** `volume:<name>` or `<engine>:<service>/<database>`; anything else is refused. */
export function sourceOf(file: Pick<ManifestFile, 'source'>): Source {
  const m = /^([a-z]+):(.*)$/s.exec(file.source);
  const [kind, rest] = [m?.[1] ?? '', m?.[2] ?? ''];
  if (kind === 'volume' && NAME.test(rest)) return { kind: 'volume', volume: rest };
  const [service = '', database = '', extra] = rest.split('/');
  if (
    (ENGINES as readonly string[]).includes(kind) &&
    NAME.test(service) &&
    DATABASE.test(database) &&
    extra === undefined
  )
    return { kind: 'dump', db: { engine: kind as Engine, service, database } };
  throw new Error(
    `the manifest lists a source Berth does not write: ${JSON.stringify(file.source.slice(0, 80))}`,
  );
}

/** Older manifests have no compression: zstd for volumes, none for (custom-format) dumps. */
export const compressionOf = (file: Pick<ManifestFile, 'source' | 'compression'>): Compression =>
  file.compression ?? (file.source.startsWith('volume:') ? 'zstd' : 'none');

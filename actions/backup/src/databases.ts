// The `databases`, one table of scripts per engine: row counts and a dump of the live database (for
// backup), a restore of a staged dump into it (restore) or into a scratch server (verify).
import { runHostScript, type HostValues } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import type { Compression, Engine } from './constants.js';
import type { HostProducer } from './host-encrypt.js';
import type { DatabaseSpec } from './inputs.js';
import { parseRowCounts } from './manifest.js';
import * as remote from './script/databases.js';

interface EngineScripts {
  /** runs inside the service's container, gets the credentials there */
  inContainer: string;
  dump: string;
  restore: string;
  query: string;
  rowCounts: string;
  scratchRestore: string;
  /** what verify's scratch server is called in messages */
  scratch: string;
}

const POSTGRES: EngineScripts = {
  inContainer: remote.PG_IN_CONTAINER,
  dump: remote.PG_DUMP,
  restore: remote.PG_RESTORE,
  query: remote.PG_QUERY,
  rowCounts: remote.ROW_COUNTS_SQL,
  scratchRestore: remote.PG_SCRATCH_RESTORE,
  scratch: 'PostgreSQL',
};

const MYSQL: Omit<EngineScripts, 'scratch'> = {
  inContainer: remote.MY_IN_CONTAINER,
  dump: remote.MY_DUMP,
  restore: remote.MY_RESTORE,
  query: remote.MY_QUERY,
  rowCounts: remote.MY_ROW_COUNTS_SQL,
  scratchRestore: remote.MY_SCRATCH_RESTORE,
};

const ENGINE: Record<Engine, EngineScripts> = {
  postgres: POSTGRES,
  mysql: { ...MYSQL, scratch: 'MySQL' },
  mariadb: { ...MYSQL, scratch: 'MariaDB' },
};

/** pg_dump's custom format compresses itself: postgres dumps are stored as they come. */
export const dumpCompression = (db: DatabaseSpec, compression: Compression): Compression =>
  db.engine === 'postgres' ? 'none' : compression;

/** What the scripts that reach into the live service's container need. */
function serviceValues(project: string, db: DatabaseSpec, compression: Compression): HostValues {
  return {
    PROJECT: project,
    SERVICE: db.service,
    DATABASE: db.database,
    IN_CONTAINER: ENGINE[db.engine].inContainer,
    COMPRESSION: dumpCompression(db, compression),
  };
}

/** Exact row counts of every table of the live database. */
export async function countRows(
  host: SshSession,
  project: string,
  db: DatabaseSpec,
): Promise<Record<string, number>> {
  const { query, rowCounts } = ENGINE[db.engine];
  const values = { ...serviceValues(project, db, 'none'), QUERY: rowCounts };
  return parseRowCounts((await runHostScript(host, query, values, { silent: true })).stdout);
}

/** The script that dumps the live database (compressed, see dumpCompression) on its stdout. */
export function dumpScript(project: string, db: DatabaseSpec, compression: Compression): HostProducer {
  return { body: ENGINE[db.engine].dump, values: serviceValues(project, db, compression) };
}

/** Restores the dump staged at `staged` on the host into the live database. */
export async function restoreDatabase(
  host: SshSession,
  project: string,
  db: DatabaseSpec,
  staged: string,
  compression: Compression,
): Promise<void> {
  const values = { ...serviceValues(project, db, compression), STAGED_FILE: staged };
  await runHostScript(host, ENGINE[db.engine].restore, values);
}

/**
 * Restores the dump staged at `staged` into a scratch server of `image` (the service's own) in a
 * throw-away container with no network; returns its row counts.
 */
export async function restoreScratch(
  host: SshSession,
  db: DatabaseSpec,
  image: string,
  staged: string,
  compression: Compression,
): Promise<Record<string, number>> {
  const { scratchRestore, rowCounts } = ENGINE[db.engine];
  const values = { IMAGE: image, COMPRESSION: compression, QUERY: rowCounts, STAGED_FILE: staged };
  return parseRowCounts((await runHostScript(host, scratchRestore, values, { silent: true })).stdout);
}

/** `PostgreSQL`, `MySQL` or `MariaDB`: what verify restored into. */
export const scratchName = (db: DatabaseSpec): string => ENGINE[db.engine].scratch;

// What the step did besides judging findings, for the end of the job summary: which Trivy, which
// DB and where it came from, where the files are.

export interface DbDetails {
  /** hours since the DB was built, one decimal */
  ageHours?: number;
  /**
   * what the GitHub cache did: the key restored, a miss, not there or failing, off, or not needed
   * (`local`: a fresh DB was in the cache dir already)
   */
  cache: { restored: string } | 'miss' | 'unavailable' | 'off' | 'local';
  /** Trivy downloaded the DB in this run */
  downloaded: boolean;
  /** saved under this key after the scan */
  saved?: string;
}

export interface RunDetails {
  trivy: { version: string; source: 'download' | 'tool-cache' | 'preinstalled' };
  /** what was scanned and how it was read, e.g. `image ... (read from the registry)` */
  scanned: string;
  db?: DbDetails;
  /** Trivy could not fetch the checks bundle and used the checks built into it */
  embeddedChecks: boolean;
  /** the monitoring checks, when there was something to check */
  monitoring?: {
    tools: readonly { tool: string; version: string; source: 'download' | 'tool-cache' }[];
    files: number;
  };
  reportFile: string;
  sarifFile: string;
}

/** What the GitHub cache did for the DB, from cache-db and restoreDb()'s result. */
export function dbCacheState(
  cacheDb: boolean,
  localFresh: boolean,
  restored: { key?: string; available: boolean } | undefined,
): DbDetails['cache'] {
  if (!cacheDb) return 'off';
  if (localFresh) return 'local';
  if (restored?.key) return { restored: restored.key };
  return restored?.available ? 'miss' : 'unavailable';
}

const TOOL_SOURCE = {
  download: 'downloaded and checksum-verified',
  'tool-cache': 'from the tool cache',
  preinstalled: 'preinstalled',
} as const;

function dbLine(db: DbDetails): string {
  const age = db.ageHours === undefined ? 'of unknown age' : `built ${db.ageHours.toFixed(1)} h ago`;
  const cache =
    typeof db.cache === 'object'
      ? `restored from the cache (\`${db.cache.restored}\`)`
      : db.cache === 'miss'
        ? 'not in the cache'
        : db.cache === 'unavailable'
          ? 'cache service unavailable'
          : db.cache === 'local'
            ? 'fresh in the cache dir already (GitHub cache not used)'
            : 'cache-db off';
  const parts = [`Vulnerability DB ${age}`, cache, db.downloaded ? 'downloaded by Trivy' : 'not downloaded'];
  if (db.saved) parts.push(`saved as \`${db.saved}\``);
  return parts.join(' · ');
}

function monitoringLine(m: NonNullable<RunDetails['monitoring']>): string {
  const tools = m.tools.map((t) => `${t.tool} ${t.version} (${TOOL_SOURCE[t.source]})`);
  const files = `${m.files} monitoring config${m.files === 1 ? '' : 's'} checked`;
  return [files, ...tools].join(' · ');
}

export function detailsMarkdown(d: RunDetails): string {
  const lines = [
    `Trivy ${d.trivy.version} (${TOOL_SOURCE[d.trivy.source]}) · ${d.scanned}`,
    ...(d.db ? [dbLine(d.db)] : []),
    ...(d.embeddedChecks
      ? ["Misconfiguration checks: Trivy's embedded checks (the checks bundle could not be fetched)"]
      : []),
    ...(d.monitoring ? [monitoringLine(d.monitoring)] : []),
    `Report \`${d.reportFile}\` · SARIF \`${d.sarifFile}\``,
  ];
  return `\n${lines.map((line) => `<sub>${line}</sub>`).join('<br>\n')}\n`;
}

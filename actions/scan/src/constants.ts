// Names of berth/scan's inputs, outputs and saved state, kept in one place so action.yml,
// the code and the tests agree (a test checks action.yml against these).
export const Inputs = {
  ScanType: 'scan-type',
  Image: 'image',
  Input: 'input',
  ScanRef: 'scan-ref',
  Scanners: 'scanners',
  Severity: 'severity',
  FailOn: 'fail-on',
  IgnoreUnfixed: 'ignore-unfixed',
  IgnoreFile: 'ignore-file',
  Audit: 'audit',
  ComposeFiles: 'compose-files',
  MonitoringConfigs: 'monitoring-configs',
  PrometheusVersion: 'prometheus-version',
  AlertmanagerVersion: 'alertmanager-version',
  MonitoringDownloadUrl: 'monitoring-download-url',
  TrivyVersion: 'trivy-version',
  TrivyDownloadUrl: 'trivy-download-url',
  TrivySha256: 'trivy-sha256',
  GithubToken: 'github-token',
  DbRepository: 'db-repository',
  CacheDb: 'cache-db',
  CacheDir: 'cache-dir',
  JavaDb: 'java-db',
  RegistryUsername: 'registry-username',
  RegistryPassword: 'registry-password',
  Timeout: 'timeout',
  OutputDir: 'output-dir',
} as const;

export const Outputs = {
  Critical: 'critical',
  High: 'high',
  Medium: 'medium',
  Low: 'low',
  Unknown: 'unknown',
  Total: 'total',
  Failed: 'failed',
  ReportFile: 'report-file',
  SarifFile: 'sarif-file',
  DbAgeHours: 'db-age-hours',
  TrivyVersion: 'trivy-version',
} as const;

export const State = {} as const;

export const DEFAULT_SEVERITY = 'CRITICAL,HIGH';
export const DEFAULT_FAIL_ON = 'CRITICAL';
/** `fail-on` values that report without ever failing on findings */
export const FAIL_ON_NEVER = ['none', 'never'] as const;
export const AUDIT_MODES = ['error', 'warn', 'off'] as const;
export const DEFAULT_AUDIT = 'error';
export type AuditMode = (typeof AUDIT_MODES)[number];

export const SCAN_TYPES = ['image', 'fs', 'config'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];
/** What Berth can turn into findings (Trivy's `license` scanner is not among them). */
export const SCANNERS = ['vuln', 'secret', 'misconfig'] as const;
export type Scanner = (typeof SCANNERS)[number];
export const DEFAULT_SCANNERS: Readonly<Record<ScanType, readonly Scanner[]>> = {
  image: ['vuln', 'secret'],
  fs: ['vuln', 'secret', 'misconfig'],
  config: ['misconfig'],
};
/** Trivy's own default, in its order of priority. */
export const DEFAULT_DB_REPOSITORIES = [
  'mirror.gcr.io/aquasec/trivy-db:2',
  'ghcr.io/aquasecurity/trivy-db:2',
];
export const DEFAULT_TIMEOUT = '10m';
/** The key prefix of the vulnerability DB in the GitHub cache; then `<os>-<YYYY-MM-DD>`. */
export const DB_CACHE_PREFIX = 'berth-trivy-db-';

// The one shape every finding takes, whatever found it (a Trivy vulnerability, secret or
// misconfiguration, or a rule of the compose audit), and the severity scale they share.

/** Trivy's severities, lowest first; `rank` compares them. */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Highest first, the order of every table and list Berth prints. */
export const SEVERITIES_DESC: readonly Severity[] = [...SEVERITIES].reverse();

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** A Trivy severity string as a Severity; anything unrecognised is UNKNOWN, as Trivy treats it. */
export function toSeverity(value: unknown): Severity {
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : '';
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNKNOWN';
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export type FindingKind = 'vuln' | 'secret' | 'misconfig' | 'audit';

export interface Finding {
  kind: FindingKind;
  /** CVE/GHSA id, secret rule id, misconfiguration id (DS-0002) or audit rule id (BERTH-C001) */
  id: string;
  severity: Severity;
  /** Trivy's Result.Target (`image (debian 12.5)`, `Dockerfile`, a lockfile), or the compose file */
  target: string;
  /** Trivy's Result.Class (`os-pkgs`, `lang-pkgs`, `secret`, `config`); `compose` for the audit */
  class: string;
  /** Trivy's Result.Type (`debian`, `npm`, `dockerfile`); the audit uses `compose` */
  type?: string;
  /** one line: the advisory title, the rule's title, or the audit message */
  title: string;
  /** the check's own title and description when `title` describes this one occurrence (audit) */
  ruleTitle?: string;
  ruleDescription?: string;
  description?: string;
  /** how to fix it: Trivy's Resolution for misconfigurations, the audit rule's remediation */
  remediation?: string;
  url?: string;
  // vulnerabilities
  pkg?: string;
  /** the package's file inside the image for language packages (Trivy's PkgPath) */
  pkgPath?: string;
  purl?: string;
  installed?: string;
  /** empty when there is no fix */
  fixed?: string;
  /** Trivy's Status (`fixed`, `affected`, `will_not_fix`, ...), when the report has one */
  status?: string;
  // secrets, misconfigurations and audit findings
  /** the file the finding is in, relative to the scanned root (for the audit: the compose file) */
  file?: string;
  line?: number;
  endLine?: number;
  /** other ids the same check is known by (a misconfiguration's AVD id) */
  aliases?: string[];
  /** the compose service an audit finding is about */
  service?: string;
}

/** `CVE-1 in pkg 1.0 -> 1.1`, `aws-access-key-id in deploy.sh:3`: the short form for lists and logs. */
export function findingLabel(f: Finding): string {
  if (f.kind === 'vuln') {
    const fix = f.fixed ? ` -> ${f.fixed}` : ' (no fix)';
    return `${f.id} in ${f.pkg ?? f.target} ${f.installed ?? ''}${fix}`.replace(/ {2,}/g, ' ');
  }
  const place = f.file && f.line ? `${f.file}:${f.line}` : f.file;
  if (f.service)
    return place ? `${f.id} in service ${f.service} (${place})` : `${f.id} in service ${f.service}`;
  return `${f.id} in ${place ?? f.target}`;
}

/** A finding of the monitoring checks (promtool, amtool): gated with the audit's, reported apart. */
export function isMonitoringFinding(f: Finding): boolean {
  return f.kind === 'audit' && f.class === 'monitoring';
}

// Which findings count: the `severity` list, `ignore-unfixed` and the ignore file, decided once per
// finding so that the JSON report, the SARIF file, the outputs and the gate all agree.
import { SEVERITIES, toSeverity, type Finding, type Severity } from './finding.js';
import type { IgnoreEntry } from './ignore.js';
import { matchIgnore } from './ignore-match.js';
import {
  isFailedMisconfiguration,
  misconfigurationFinding,
  secretFinding,
  vulnerabilityFinding,
  type TrivyReport,
  type TrivyResult,
} from './report.js';

export interface FilterOptions {
  /** the severities that count; Trivy findings of other severities are dropped */
  severities: readonly Severity[];
  /** drop vulnerabilities that have no fixed version (Trivy's --ignore-unfixed) */
  ignoreUnfixed: boolean;
  /** the ignore entries still in force (`partitionIgnores(...).active`) */
  ignores: readonly IgnoreEntry[];
}

export type DropReason = 'severity' | 'unfixed' | 'ignored';

export interface Dropped {
  finding: Finding;
  reason: DropReason;
  /** the ignore entry, for `ignored` */
  entry?: IgnoreEntry;
}

export interface Filtered {
  kept: Finding[];
  dropped: Dropped[];
}

/**
 * A vulnerability without a fix: a Status other than `fixed` (Trivy's `affected`, `will_not_fix`,
 * `fix_deferred`, ...), or, in reports without a Status, no FixedVersion.
 */
export function isUnfixed(finding: Finding): boolean {
  if (finding.kind !== 'vuln') return false;
  if (finding.status !== undefined) return finding.status !== 'fixed';
  return !finding.fixed;
}

/**
 * Why `finding` does not count, or undefined when it does. Audit findings are judged by the
 * ignore file only: the `severity` list and `ignore-unfixed` are about what Trivy reports.
 */
export function dropReason(finding: Finding, options: FilterOptions): Omit<Dropped, 'finding'> | undefined {
  if (finding.kind !== 'audit') {
    if (!options.severities.includes(finding.severity)) return { reason: 'severity' };
    if (options.ignoreUnfixed && isUnfixed(finding)) return { reason: 'unfixed' };
  }
  const entry = matchIgnore(finding, options.ignores);
  return entry ? { reason: 'ignored', entry } : undefined;
}

export function filterFindings(findings: readonly Finding[], options: FilterOptions): Filtered {
  const kept: Finding[] = [];
  const dropped: Dropped[] = [];
  for (const finding of findings) {
    const drop = dropReason(finding, options);
    if (drop) dropped.push({ finding, ...drop });
    else kept.push(finding);
  }
  return { kept, dropped };
}

export interface FilteredReport extends Filtered {
  /** the same report with only the findings that count (and no passed misconfiguration checks) */
  report: TrivyReport;
}

/** Filters a Trivy report; `report` is left as it was. */
export function filterReport(report: TrivyReport, options: FilterOptions): FilteredReport {
  const kept: Finding[] = [];
  const dropped: Dropped[] = [];
  const keep = <T>(
    items: readonly T[] | null | undefined,
    toFinding: (item: T) => Finding,
  ): T[] | undefined => {
    if (!items) return undefined;
    return items.filter((item) => {
      const finding = toFinding(item);
      const drop = dropReason(finding, options);
      if (drop) dropped.push({ finding, ...drop });
      else kept.push(finding);
      return !drop;
    });
  };
  const results = (report.Results ?? []).map((result): TrivyResult => {
    const out: TrivyResult = { ...result };
    const vulnerabilities = keep(result.Vulnerabilities, (v) => vulnerabilityFinding(result, v));
    const secrets = keep(result.Secrets, (s) => secretFinding(result, s));
    const failed = result.Misconfigurations?.filter(isFailedMisconfiguration);
    const misconfigurations = keep(failed, (m) => misconfigurationFinding(result, m));
    if (vulnerabilities) out.Vulnerabilities = vulnerabilities;
    if (secrets) out.Secrets = secrets;
    if (misconfigurations) out.Misconfigurations = misconfigurations;
    return out;
  });
  const filtered: TrivyReport = { ...report };
  if (report.Results) filtered.Results = results;
  return { report: filtered, kept, dropped };
}

export type Counts = Record<Severity, number> & { total: number };

export function countBySeverity(findings: readonly Finding[]): Counts {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Counts;
  counts.total = 0;
  for (const f of findings) {
    counts[toSeverity(f.severity)] += 1;
    counts.total += 1;
  }
  return counts;
}

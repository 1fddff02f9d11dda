// The whole decision in one pure call, and the only place the gate is decided, so nothing can filter
// the report, the SARIF file, the outputs and the gate differently: Trivy reports, audit findings,
// ignore entries and settings in; the filtered reports, what counts (files as repository paths),
// what was left out and the gate's verdict out.
import { filterFindings, filterReport, type Dropped, type FilteredReport } from './filter.js';
import type { Finding } from './finding.js';
import { decideGate, type GateResult, type GateSettings } from './gate.js';
import { partitionIgnores, type IgnoreEntry } from './ignore.js';
import type { TrivyReport } from './report.js';
import { withRepoPaths } from './target.js';

export interface EvaluateInput {
  /** the Trivy JSON reports of this step (an image, the repository, ...) */
  reports: readonly TrivyReport[];
  /** auditCompose()'s findings; undefined when no compose stack was audited */
  audit?: readonly Finding[];
  /** every entry of the ignore file, expired ones included */
  ignores: readonly IgnoreEntry[];
  settings: GateSettings;
  /** the clock the ignore dates are read against */
  now: Date;
  /**
   * the repository path of the directory Trivy scanned (targetRepoPrefix): Trivy names files relative
   * to it, code scanning, annotations and the summary want repository paths; `''` or absent for none
   */
  repoPrefix?: string;
}

export interface Evaluation {
  /**
   * per input report, in order: the report to write as report-file (Trivy's paths, as Trivy wrote
   * it), and its findings that count (repository paths) and left out
   */
  reports: FilteredReport[];
  /** every Trivy finding that counts, all reports together, with repository paths */
  findings: Finding[];
  /** the audit findings that count; undefined when the audit is off or did not run */
  audit?: Finding[];
  /** everything left out, with the reason (and the ignore entry) */
  dropped: Dropped[];
  /** ignore entries whose date has passed (the gate fails on them) */
  expired: IgnoreEntry[];
  gate: GateResult;
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { active, expired } = partitionIgnores(input.ignores, input.now);
  const options = {
    severities: input.settings.severities,
    ignoreUnfixed: input.settings.ignoreUnfixed,
    ignores: active,
  };
  const reports = input.reports.map((report) => {
    const filtered = filterReport(report, options);
    return { ...filtered, kept: withRepoPaths(filtered.kept, input.repoPrefix ?? '') };
  });
  const auditFiltered =
    input.settings.audit === 'off' || input.audit === undefined
      ? undefined
      : filterFindings(input.audit, options);
  const findings = reports.flatMap((r) => r.kept);
  const dropped = [...reports.flatMap((r) => r.dropped), ...(auditFiltered?.dropped ?? [])];
  const gate = decideGate({
    findings,
    audit: auditFiltered?.kept ?? [],
    expired,
    failOn: input.settings.failOn,
    auditMode: input.settings.audit,
    dropped,
  });
  return { reports, findings, audit: auditFiltered?.kept, dropped, expired, gate };
}

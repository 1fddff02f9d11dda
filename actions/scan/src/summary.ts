// The job summary: counts by severity, the findings that failed the gate, expired ignore entries,
// the compose audit, and the one sentence that says why the step failed or passed.
import { inlineCode, markdownTable } from '../../../lib/action/summary.js';
import type { AuditMode } from './constants.js';
import { countBySeverity, type Counts, type Dropped } from './filter.js';
import { SEVERITIES_DESC, type Finding } from './finding.js';
import type { FailOn, GateResult } from './gate.js';
import { expiredMessage } from './ignore.js';

export interface SummaryFacts {
  /** what was scanned, e.g. the image reference */
  title: string;
  gate: GateResult;
  settings: {
    severities: readonly string[];
    failOn: FailOn;
    ignoreUnfixed: boolean;
    audit: AuditMode;
    /** the ignore file as the user named it, when there is one */
    ignoreFile?: string;
  };
  /** the audit findings that count (failing or not); undefined when no compose stack was audited */
  audit?: readonly Finding[];
  /** the monitoring checks' findings that count, and how many files were checked; undefined when none ran */
  monitoring?: { files: number; findings: readonly Finding[] };
  dropped?: readonly Dropped[];
  /** rows per table before "and N more" (default 50) */
  maxRows?: number;
}

function link(f: Finding): string {
  return f.url ? `[${f.id}](${f.url})` : f.id;
}

function place(f: Finding): string {
  const file = f.file ?? f.target;
  return inlineCode(f.line ? `${file}:${f.line}` : file);
}

/** A table of at most `max` rows, then a line saying how many more there are. */
function limitedTable<T>(
  headers: readonly string[],
  rows: readonly T[],
  max: number,
  render: (row: T) => (string | undefined)[],
): string[] {
  if (rows.length === 0) return [];
  const out = [markdownTable(headers, rows.slice(0, max).map(render))];
  if (rows.length > max)
    out.push(`\n_and ${rows.length - max} more (see the JSON report and the SARIF file)_`);
  return out;
}

const vulnTable = (findings: readonly Finding[], max: number): string[] =>
  limitedTable(
    ['Severity', 'Vulnerability', 'Package', 'Installed -> Fixed', 'Target'],
    findings,
    max,
    (f) => [
      f.severity,
      link(f),
      inlineCode(f.pkg),
      `${f.installed ?? ''} -> ${f.fixed ? f.fixed : '_no fix_'}`,
      f.target,
    ],
  );

const ruleTable = (findings: readonly Finding[], max: number): string[] =>
  limitedTable(['Severity', 'Rule', 'Kind', 'Where', 'Title'], findings, max, (f) => [
    f.severity,
    link(f),
    f.kind === 'secret' ? 'secret' : 'misconfiguration',
    place(f),
    f.title,
  ]);

/** Audit findings (compose, or monitoring without the service column), ❌ where they fail the step. */
const auditTable = (
  findings: readonly Finding[],
  failing: ReadonlySet<Finding>,
  max: number,
  withService = true,
): string[] =>
  limitedTable(
    ['', 'Severity', 'Rule', ...(withService ? ['Service'] : []), 'Where', 'Finding'],
    findings,
    max,
    (f) => [
      failing.has(f) ? '❌' : '⚠️',
      f.severity,
      link(f),
      ...(withService ? [inlineCode(f.service)] : []),
      place(f),
      f.title,
    ],
  );

function monitoringSection(f: SummaryFacts, max: number): string[] {
  const m = f.settings.audit === 'off' ? undefined : f.monitoring;
  if (!m) return [];
  const checked = `${m.files} file${m.files === 1 ? '' : 's'} checked with promtool and amtool`;
  if (m.findings.length === 0) return ['', '#### Monitoring configs', '', `Every check passed (${checked}).`];
  const title =
    f.settings.audit === 'error'
      ? `#### Monitoring configs (❌ fails the step at or above ${f.settings.failOn}, ⚠️ reported only)`
      : '#### Monitoring configs (audit: warn, reported only)';
  return [
    '',
    title,
    '',
    `${checked}.`,
    '',
    ...auditTable(m.findings, new Set(f.gate.failingAudit), max, false),
  ];
}

function settingsLine(s: SummaryFacts['settings']): string {
  return [
    `severity ${s.severities.join(',')}`,
    `fail-on ${s.failOn}`,
    s.ignoreUnfixed ? 'unfixed vulnerabilities ignored' : 'unfixed vulnerabilities counted',
    s.ignoreFile ? `ignore file ${inlineCode(s.ignoreFile)}` : 'no ignore file',
    `audit ${s.audit}`,
  ].join(' · ');
}

/** Counts by severity: Trivy's findings, then the compose audit's and the monitoring checks' when they ran. */
function countsTable(f: SummaryFacts, audit: readonly Finding[] | undefined): string {
  const monitoring = f.settings.audit === 'off' ? undefined : f.monitoring?.findings;
  const columns: [string, Counts][] = [
    ['Findings', f.gate.counts],
    ...(audit ? [['Compose audit', countBySeverity(audit)] as [string, Counts]] : []),
    ...(monitoring ? [['Monitoring configs', countBySeverity(monitoring)] as [string, Counts]] : []),
  ];
  return markdownTable(
    ['Severity', ...columns.map(([name]) => name)],
    [
      ...SEVERITIES_DESC.map((s) => [s, ...columns.map(([, c]) => c[s])]),
      ['**Total**', ...columns.map(([, c]) => `**${c.total}**`)],
    ],
  );
}

export function summaryMarkdown(f: SummaryFacts): string {
  const max = f.maxRows ?? 50;
  const { gate } = f;
  const audit = f.settings.audit === 'off' ? undefined : f.audit;
  const withAudit = audit !== undefined;
  const out: string[] = [
    `### berth/scan: ${inlineCode(f.title)}`,
    '',
    `${gate.failed ? '❌' : '✅'} ${gate.sentence}`,
    '',
  ];

  out.push(countsTable(f, audit), '', settingsLine(f.settings));
  if (f.dropped && f.dropped.length > 0) {
    const by = (r: Dropped['reason']) => f.dropped!.filter((d) => d.reason === r).length;
    out.push(
      '',
      `Not counted: ${by('severity')} outside the severity list, ${by('unfixed')} without a fix, ${by('ignored')} ignored by the ignore file.`,
    );
  }

  if (gate.failing.length > 0) {
    const vulns = gate.failing.filter((x) => x.kind === 'vuln');
    const rules = gate.failing.filter((x) => x.kind !== 'vuln');
    out.push('', `#### Findings at or above ${f.settings.failOn}`, '');
    if (vulns.length > 0) out.push(...vulnTable(vulns, max));
    if (vulns.length > 0 && rules.length > 0) out.push('');
    if (rules.length > 0) out.push(...ruleTable(rules, max));
  }
  if (gate.expired.length > 0) {
    out.push(
      '',
      '#### Expired ignore entries',
      '',
      ...gate.expired.map((e) => `- ${inlineCode(expiredMessage(e))}`),
    );
  }
  if (audit && audit.length > 0) {
    const failing = new Set(gate.failingAudit);
    const title =
      f.settings.audit === 'error'
        ? `#### Compose audit (❌ fails the step at or above ${f.settings.failOn}, ⚠️ reported only)`
        : '#### Compose audit (audit: warn, reported only)';
    out.push('', title, '', ...auditTable(audit, failing, max));
  } else if (withAudit) {
    out.push('', '#### Compose audit', '', 'Every rule passed.');
  }
  out.push(...monitoringSection(f, max));
  return `${out.join('\n')}\n`;
}

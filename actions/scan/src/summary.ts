// The job summary: counts by severity, the findings that failed the gate, expired ignore entries,
// the compose audit, and the one sentence that says why the step failed or passed.
import type { AuditMode } from './constants.js';
import type { Dropped } from './filter.js';
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
  dropped?: readonly Dropped[];
  /** rows per table before "and N more" (default 50) */
  maxRows?: number;
}

/** Text for a table cell: no pipes or newlines to break the row. */
export function cell(text: string | number | undefined): string {
  if (text === undefined || text === '') return '';
  return String(text)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');
}

/** Inline code; in a table cell a pipe must be escaped even there. */
const code = (text: string | undefined, inTable = true) =>
  text ? `\`${text.replace(/`/g, "'").replace(/\|/g, inTable ? '\\|' : '|')}\`` : '';

function link(f: Finding): string {
  return f.url ? `[${cell(f.id)}](${f.url})` : cell(f.id);
}

function place(f: Finding): string {
  const file = f.file ?? f.target;
  return f.line ? code(`${file}:${f.line}`) : code(file);
}

function limited<T>(rows: readonly T[], max: number, render: (row: T) => string): string[] {
  const out = rows.slice(0, max).map(render);
  if (rows.length > max)
    out.push(`\n_and ${rows.length - max} more (see the JSON report and the SARIF file)_`);
  return out;
}

function vulnTable(findings: readonly Finding[], max: number): string[] {
  if (findings.length === 0) return [];
  return [
    '| Severity | Vulnerability | Package | Installed -> Fixed | Target |',
    '| --- | --- | --- | --- | --- |',
    ...limited(
      findings,
      max,
      (f) =>
        `| ${f.severity} | ${link(f)} | ${code(f.pkg)} | ${cell(f.installed)} -> ${f.fixed ? cell(f.fixed) : '_no fix_'} | ${cell(f.target)} |`,
    ),
  ];
}

function ruleTable(findings: readonly Finding[], max: number): string[] {
  if (findings.length === 0) return [];
  return [
    '| Severity | Rule | Kind | Where | Title |',
    '| --- | --- | --- | --- | --- |',
    ...limited(
      findings,
      max,
      (f) =>
        `| ${f.severity} | ${link(f)} | ${f.kind === 'secret' ? 'secret' : 'misconfiguration'} | ${place(f)} | ${cell(f.title)} |`,
    ),
  ];
}

function auditTable(findings: readonly Finding[], failing: ReadonlySet<Finding>, max: number): string[] {
  if (findings.length === 0) return [];
  return [
    '| | Severity | Rule | Service | Where | Finding |',
    '| --- | --- | --- | --- | --- | --- |',
    ...limited(
      findings,
      max,
      (f) =>
        `| ${failing.has(f) ? '❌' : '⚠️'} | ${f.severity} | ${link(f)} | ${code(f.service)} | ${place(f)} | ${cell(f.title)} |`,
    ),
  ];
}

function settingsLine(s: SummaryFacts['settings']): string {
  return [
    `severity ${s.severities.join(',')}`,
    `fail-on ${s.failOn}`,
    s.ignoreUnfixed ? 'unfixed vulnerabilities ignored' : 'unfixed vulnerabilities counted',
    s.ignoreFile ? `ignore file ${code(s.ignoreFile, false)}` : 'no ignore file',
    `audit ${s.audit}`,
  ].join(' · ');
}

export function summaryMarkdown(f: SummaryFacts): string {
  const max = f.maxRows ?? 50;
  const { gate } = f;
  const audit = f.settings.audit === 'off' ? undefined : f.audit;
  const withAudit = audit !== undefined;
  const out: string[] = [
    `### berth/scan: ${code(f.title, false)}`,
    '',
    `${gate.failed ? '❌' : '✅'} ${gate.sentence}`,
    '',
  ];

  const header = withAudit ? '| Severity | Findings | Compose audit |' : '| Severity | Findings |';
  out.push(header, withAudit ? '| --- | --- | --- |' : '| --- | --- |');
  for (const s of SEVERITIES_DESC) {
    out.push(
      withAudit ? `| ${s} | ${gate.counts[s]} | ${gate.auditCounts[s]} |` : `| ${s} | ${gate.counts[s]} |`,
    );
  }
  out.push(
    withAudit
      ? `| **Total** | **${gate.counts.total}** | **${gate.auditCounts.total}** |`
      : `| **Total** | **${gate.counts.total}** |`,
    '',
    settingsLine(f.settings),
  );
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
      ...gate.expired.map((e) => `- ${code(expiredMessage(e), false)}`),
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
  return `${out.join('\n')}\n`;
}

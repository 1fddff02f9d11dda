// The severity gate: parsing `severity`, `fail-on` and `audit`, deciding whether the step fails,
// the one sentence that says why, the step outputs and the annotations.
import { inputError, parseBoolean, parseEnum, parseList } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import {
  AUDIT_MODES,
  DEFAULT_AUDIT,
  DEFAULT_FAIL_ON,
  DEFAULT_SEVERITY,
  FAIL_ON_NEVER,
  Inputs,
  Outputs,
  type AuditMode,
} from './constants.js';
import { countBySeverity, type Counts, type Dropped } from './filter.js';
import {
  atOrAbove,
  findingLabel,
  isMonitoringFinding,
  SEVERITIES,
  SEVERITIES_DESC,
  severityRank,
  type Finding,
  type Severity,
} from './finding.js';
import { expiredMessage, type IgnoreEntry } from './ignore.js';

export type FailOn = Severity | 'none';

function severityWord(name: string, word: string): Severity {
  const upper = word.trim().toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(upper)) {
    throw inputError(name, `"${word.trim()}" is not a severity (use ${SEVERITIES_DESC.join(', ')})`);
  }
  return upper as Severity;
}

/** `severity`: a comma- or newline-separated list, any case; highest first, without repeats. */
export function parseSeverities(name: string, value: string): Severity[] {
  const items = parseList(value);
  if (items.length === 0) throw inputError(name, `lists no severity (use ${SEVERITIES_DESC.join(', ')})`);
  const set = new Set(items.map((item) => severityWord(name, item)));
  return SEVERITIES_DESC.filter((s) => set.has(s));
}

/** `fail-on`: the lowest severity that fails the step, or `none`/`never` to only report. */
export function parseFailOn(name: string, value: string): FailOn {
  const word = value.trim().toLowerCase();
  if ((FAIL_ON_NEVER as readonly string[]).includes(word)) return 'none';
  if (word.includes(',')) {
    throw inputError(name, `takes one severity, the lowest that fails the step (e.g. HIGH), not a list`);
  }
  try {
    return severityWord(name, value);
  } catch {
    throw inputError(
      name,
      `"${value.trim()}" is not a severity or none (use ${SEVERITIES_DESC.join(', ')}, or none to only report)`,
    );
  }
}

export function parseAuditMode(name: string, value: string): AuditMode {
  return parseEnum(name, value, AUDIT_MODES);
}

/** The gate's settings, parsed from the action's inputs. */
export interface GateSettings {
  severities: Severity[];
  failOn: FailOn;
  ignoreUnfixed: boolean;
  audit: AuditMode;
}

/**
 * Parses the gate's inputs from their raw strings (as core.getInput returns them); an empty
 * string takes action.yml's default. Errors name the input.
 */
export function parseGateSettings(
  raw: Partial<Record<'severity' | 'fail-on' | 'ignore-unfixed' | 'audit', string>>,
): GateSettings {
  const value = (name: string, fallback: string) => {
    const text = raw[name as keyof typeof raw]?.trim() ?? '';
    return text === '' ? fallback : text;
  };
  return {
    severities: parseSeverities(Inputs.Severity, value(Inputs.Severity, DEFAULT_SEVERITY)),
    failOn: parseFailOn(Inputs.FailOn, value(Inputs.FailOn, DEFAULT_FAIL_ON)),
    ignoreUnfixed: parseBoolean(Inputs.IgnoreUnfixed, value(Inputs.IgnoreUnfixed, 'true')),
    audit: parseAuditMode(Inputs.Audit, value(Inputs.Audit, DEFAULT_AUDIT)),
  };
}

export interface GateInput {
  /** the Trivy findings that count (after filtering) */
  findings: readonly Finding[];
  /** the compose audit findings that count (after the ignore file); empty when the audit is off */
  audit: readonly Finding[];
  /** ignore entries whose date has passed: each one fails the step */
  expired: readonly IgnoreEntry[];
  failOn: FailOn;
  auditMode: AuditMode;
  /** what filtering took out, for the sentence's "not counted" part */
  dropped?: readonly Dropped[];
}

export interface GateResult {
  failed: boolean;
  /** Trivy findings by severity: the `critical` ... `total` outputs */
  counts: Counts;
  auditCounts: Counts;
  /** Trivy findings at or above fail-on */
  failing: Finding[];
  /** audit findings at or above fail-on when audit is `error` */
  failingAudit: Finding[];
  expired: IgnoreEntry[];
  /** one sentence: why the step failed or passed */
  sentence: string;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `2 CRITICAL, 1 HIGH`, highest first, zero severities left out. */
export function breakdown(findings: readonly Finding[]): string {
  const counts = countBySeverity(findings);
  return SEVERITIES_DESC.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

/** What audit findings are called in the sentence: the compose audit's, the monitoring checks', or both. */
function auditNoun(findings: readonly Finding[]): string {
  const monitoring = findings.filter(isMonitoringFinding).length;
  if (monitoring === 0) return 'compose audit finding';
  return monitoring === findings.length ? 'monitoring config finding' : 'audit finding';
}

function joinClauses(clauses: string[]): string {
  if (clauses.length <= 1) return clauses.join('');
  return `${clauses.slice(0, -1).join(', ')} and ${clauses[clauses.length - 1]}`;
}

/** A short list of ids for a sentence: the first few, then "and N more". */
function someLabels(findings: readonly Finding[], max = 3): string {
  const labels = findings.slice(0, max).map((f) => oneLine(findingLabel(f)));
  const more = findings.length > max ? `, and ${findings.length - max} more` : '';
  return labels.join('; ') + more;
}

function droppedNote(dropped: readonly Dropped[] | undefined): string {
  if (!dropped || dropped.length === 0) return '';
  const by = (reason: Dropped['reason']) => dropped.filter((d) => d.reason === reason).length;
  const parts = [
    by('severity') ? `${by('severity')} outside the severity list` : '',
    by('unfixed') ? `${by('unfixed')} without a fix` : '',
    by('ignored') ? `${by('ignored')} ignored by the ignore file` : '',
  ].filter(Boolean);
  return `; not counted: ${parts.join(', ')}`;
}

export function decideGate(input: GateInput): GateResult {
  const { failOn, auditMode } = input;
  const gated = (f: Finding) => failOn !== 'none' && atOrAbove(f.severity, failOn);
  const bySeverity = (a: Finding, b: Finding) => severityRank(b.severity) - severityRank(a.severity);
  const failing = input.findings.filter(gated).sort(bySeverity);
  const failingAudit = auditMode === 'error' ? input.audit.filter(gated).sort(bySeverity) : [];
  const expired = [...input.expired];
  const failed = failing.length > 0 || failingAudit.length > 0 || expired.length > 0;

  let sentence: string;
  if (failed) {
    const clauses: string[] = [];
    if (failing.length > 0) {
      clauses.push(
        `${plural(failing.length, 'finding')} ${failing.length === 1 ? 'is' : 'are'} at or above ` +
          `fail-on ${failOn} (${breakdown(failing)}: ${someLabels(failing)})`,
      );
    }
    if (failingAudit.length > 0) {
      clauses.push(
        `${plural(failingAudit.length, auditNoun(failingAudit))} ${failingAudit.length === 1 ? 'is' : 'are'} ` +
          `at or above fail-on ${failOn} with audit: error (${someLabels(failingAudit)})`,
      );
    }
    if (expired.length > 0) {
      clauses.push(
        `${plural(expired.length, 'ignore entry', 'ignore entries')} ${expired.length === 1 ? 'has' : 'have'} ` +
          `expired (${expired.map(expiredMessage).join('; ')}): renew or remove ${expired.length === 1 ? 'it' : 'them'}`,
      );
    }
    sentence = `The scan failed because ${joinClauses(clauses)}.`;
  } else {
    const counted =
      input.findings.length === 0
        ? 'no finding counted'
        : `${plural(input.findings.length, 'finding')} counted: ${breakdown(input.findings)}`;
    const main =
      failOn === 'none'
        ? `fail-on is none, so findings are reported without failing the step (${counted}${droppedNote(input.dropped)})`
        : `no finding is at or above fail-on ${failOn} (${counted}${droppedNote(input.dropped)})`;
    const auditNote =
      input.audit.length === 0
        ? ''
        : auditMode === 'warn'
          ? `; ${plural(input.audit.length, auditNoun(input.audit))} reported as warnings (audit: warn)`
          : `; ${plural(input.audit.length, auditNoun(input.audit))} below fail-on`;
    sentence = `The scan passed: ${main}${auditNote}.`;
  }
  return {
    failed,
    counts: countBySeverity(input.findings),
    auditCounts: countBySeverity(input.audit),
    failing,
    failingAudit,
    expired,
    sentence,
  };
}

/** The step outputs, by their action.yml names. */
export function gateOutputs(
  gate: GateResult,
  files: { reportFile: string; sarifFile: string },
): Record<string, string> {
  return {
    [Outputs.Critical]: String(gate.counts.CRITICAL),
    [Outputs.High]: String(gate.counts.HIGH),
    [Outputs.Medium]: String(gate.counts.MEDIUM),
    [Outputs.Low]: String(gate.counts.LOW),
    [Outputs.Unknown]: String(gate.counts.UNKNOWN),
    [Outputs.Total]: String(gate.counts.total),
    [Outputs.Failed]: String(gate.failed),
    [Outputs.ReportFile]: files.reportFile,
    [Outputs.SarifFile]: files.sarifFile,
  };
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title: string;
  message: string;
  /** repository-relative, when the finding is in a file of the repository */
  file?: string;
  startLine?: number;
}

/**
 * Annotations for the step: an error for each finding that failed the gate and each expired ignore
 * entry, a warning for every other audit finding (audit `warn`, or below fail-on). `repoFiles`
 * says whether a finding's file is a repository path (image findings are not).
 */
export function annotations(
  gate: GateResult,
  audit: readonly Finding[],
  repoFiles: (finding: Finding) => boolean = (f) => f.kind !== 'vuln',
): Annotation[] {
  const out: Annotation[] = [];
  const place = (f: Finding) =>
    repoFiles(f) && f.file ? { file: f.file, startLine: f.line } : ({} as Record<string, never>);
  for (const f of gate.failing) {
    out.push({
      level: 'error',
      title: `${f.severity} ${f.id}`,
      message: `${findingLabel(f)}: ${f.title}`,
      ...place(f),
    });
  }
  const failingAudit = new Set(gate.failingAudit);
  for (const f of audit) {
    out.push({
      level: failingAudit.has(f) ? 'error' : 'warning',
      title: `${f.id} ${f.severity}`,
      message: `${f.title}${f.remediation ? `. ${f.remediation}` : ''}`,
      ...place(f),
    });
  }
  for (const e of gate.expired) {
    out.push({
      level: 'error',
      title: 'Expired ignore entry',
      message: `${expiredMessage(e)}: renew the date or remove the entry`,
      file: e.file,
      startLine: e.line,
    });
  }
  return out;
}

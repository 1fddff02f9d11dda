// Trivy's JSON report (`trivy ... --format json`, schema version 2): the types Berth relies on,
// a parser that says exactly what is wrong with a file that is not such a report, and the
// conversion of its vulnerabilities, secrets and failed misconfigurations to Findings.
import { readFileSync } from 'node:fs';
import { toSeverity, type Finding } from './finding.js';

export interface TrivyVulnerability {
  VulnerabilityID: string;
  PkgName: string;
  PkgID?: string;
  PkgPath?: string;
  PkgIdentifier?: { PURL?: string; UID?: string };
  InstalledVersion?: string;
  FixedVersion?: string;
  Status?: string;
  Severity: string;
  Title?: string;
  Description?: string;
  PrimaryURL?: string;
  [key: string]: unknown;
}

export interface TrivySecret {
  RuleID: string;
  Category?: string;
  Severity: string;
  Title?: string;
  StartLine?: number;
  EndLine?: number;
  Match?: string;
  [key: string]: unknown;
}

export interface TrivyMisconfiguration {
  ID: string;
  AVDID?: string;
  Type?: string;
  Title?: string;
  Description?: string;
  Message?: string;
  Resolution?: string;
  Severity: string;
  PrimaryURL?: string;
  /** FAIL, PASS or EXCEPTION; only FAIL is a finding (PASS appears with --include-non-failures) */
  Status?: string;
  CauseMetadata?: { StartLine?: number; EndLine?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface TrivyResult {
  Target: string;
  Class?: string;
  Type?: string;
  Vulnerabilities?: TrivyVulnerability[] | null;
  Secrets?: TrivySecret[] | null;
  Misconfigurations?: TrivyMisconfiguration[] | null;
  [key: string]: unknown;
}

export interface TrivyReport {
  SchemaVersion: 2;
  ArtifactName?: string;
  ArtifactType?: string;
  CreatedAt?: string;
  Trivy?: { Version?: string };
  Metadata?: {
    ImageID?: string;
    RepoTags?: string[] | null;
    RepoDigests?: string[] | null;
    OS?: { Family?: string; Name?: string };
    [key: string]: unknown;
  };
  Results?: TrivyResult[] | null;
  [key: string]: unknown;
}

/** A file that is not a Trivy JSON report, with what is wrong and where. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The array at `field` (absent or null: empty), every item an object with these string fields. */
function checkItems(
  source: string,
  result: Json,
  where: string,
  field: string,
  required: readonly string[],
): void {
  const items = result[field];
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) throw new ReportError(`${source}: ${where}.${field} is not an array`);
  items.forEach((item, i) => {
    if (!isObject(item)) throw new ReportError(`${source}: ${where}.${field}[${i}] is not an object`);
    for (const key of required) {
      if (typeof item[key] !== 'string' || item[key] === '') {
        throw new ReportError(`${source}: ${where}.${field}[${i}].${key} is missing or not a string`);
      }
    }
  });
}

/**
 * Parses and checks a Trivy JSON report. `source` names the file in error messages. Fields Berth
 * does not use are kept as they are, so a filtered report is still a complete Trivy report.
 */
export function parseTrivyReport(text: string, source = 'the Trivy report'): TrivyReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(data))
    throw new ReportError(`${source}: not a Trivy JSON report (the top level is not an object)`);
  if (data.version === '2.1.0' && Array.isArray(data.runs)) {
    throw new ReportError(`${source}: this is SARIF, not Trivy JSON; run trivy with --format json`);
  }
  if (data.SchemaVersion !== 2) {
    const found =
      data.SchemaVersion === undefined
        ? 'no SchemaVersion'
        : `SchemaVersion ${JSON.stringify(data.SchemaVersion)}`;
    throw new ReportError(
      `${source}: not a Trivy JSON report Berth can read (${found}; expected SchemaVersion 2, from trivy --format json)`,
    );
  }
  const results = data.Results;
  if (results !== undefined && results !== null && !Array.isArray(results)) {
    throw new ReportError(`${source}: Results is not an array`);
  }
  (results ?? []).forEach((result: unknown, i: number) => {
    const where = `Results[${i}]`;
    if (!isObject(result)) throw new ReportError(`${source}: ${where} is not an object`);
    if (typeof result.Target !== 'string') throw new ReportError(`${source}: ${where}.Target is missing`);
    checkItems(source, result, where, 'Vulnerabilities', ['VulnerabilityID', 'PkgName']);
    checkItems(source, result, where, 'Secrets', ['RuleID']);
    checkItems(source, result, where, 'Misconfigurations', ['ID']);
  });
  return data as TrivyReport;
}

/** Reads and parses the report Trivy wrote to `file`. */
export function readTrivyReport(file: string): TrivyReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportError(`cannot read the Trivy report ${file}: ${(error as Error).message}`);
  }
  return parseTrivyReport(text, file);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The first sentence of a description, for advisories that have no title. */
function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const sentence = /^(.{1,200}?[.!?])(\s|$)/s.exec(text)?.[1] ?? text.slice(0, 200);
  return sentence.replace(/\s+/g, ' ').trim();
}

/** What every Trivy finding takes from its result and its own severity, title and id. */
function fromResult(
  result: TrivyResult,
  kind: 'vuln' | 'secret' | 'misconfig',
  id: string,
  item: { Severity: string; Title?: string },
): Finding {
  const fallbackClass = { vuln: 'unknown', secret: 'secret', misconfig: 'config' }[kind];
  return {
    kind,
    id,
    severity: toSeverity(item.Severity),
    target: result.Target,
    class: result.Class ?? fallbackClass,
    type: result.Type,
    title: nonEmpty(item.Title) ?? id,
  };
}

export function vulnerabilityFinding(result: TrivyResult, v: TrivyVulnerability): Finding {
  return {
    ...fromResult(result, 'vuln', v.VulnerabilityID, v),
    title: nonEmpty(v.Title) ?? firstSentence(v.Description) ?? v.VulnerabilityID,
    description: nonEmpty(v.Description),
    url: nonEmpty(v.PrimaryURL),
    pkg: v.PkgName,
    pkgPath: nonEmpty(v.PkgPath),
    purl: nonEmpty(v.PkgIdentifier?.PURL),
    installed: nonEmpty(v.InstalledVersion),
    fixed: nonEmpty(v.FixedVersion),
    status: nonEmpty(v.Status),
  };
}

export function secretFinding(result: TrivyResult, s: TrivySecret): Finding {
  return {
    ...fromResult(result, 'secret', s.RuleID, s),
    // Match is Trivy's masked line; the secret itself never reaches a Finding.
    description: nonEmpty(s.Match),
    remediation:
      'Remove the secret from the file (and from the git history), rotate it, and pass it at run time',
    file: result.Target,
    line: positive(s.StartLine),
    endLine: positive(s.EndLine),
  };
}

export function misconfigurationFinding(result: TrivyResult, m: TrivyMisconfiguration): Finding {
  const avd = nonEmpty(m.AVDID);
  return {
    ...fromResult(result, 'misconfig', m.ID, m),
    description: nonEmpty(m.Message) ?? nonEmpty(m.Description),
    remediation: nonEmpty(m.Resolution),
    url: nonEmpty(m.PrimaryURL),
    file: result.Target,
    line: positive(m.CauseMetadata?.StartLine),
    endLine: positive(m.CauseMetadata?.EndLine),
    aliases: avd && avd !== m.ID ? [avd] : undefined,
  };
}

/** Only failed checks are findings; PASS and EXCEPTION entries come from --include-non-failures. */
export function isFailedMisconfiguration(m: TrivyMisconfiguration): boolean {
  return m.Status === undefined || m.Status === 'FAIL';
}

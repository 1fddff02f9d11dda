// SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif), written from the
// findings that count, so the alerts match the report, the outputs and the gate. One run per
// scanned thing, each with its own category (runAutomationDetails.id, see category.ts).
import { createHash } from 'node:crypto';
import { imageRepository } from './category.js';
import { severityRank, type Finding, type Severity } from './finding.js';
import type { TrivyReport } from './report.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** GitHub's security-severity scores (critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low < 4.0). */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string | undefined>> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  // No score: GitHub then shows the alert by its level alone.
  UNKNOWN: undefined,
};

export type SarifLevel = 'error' | 'warning' | 'note';

/** As Trivy maps them: CRITICAL and HIGH are errors, MEDIUM a warning, LOW and UNKNOWN notes. */
export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'CRITICAL' || severity === 'HIGH') return 'error';
  return severity === 'MEDIUM' ? 'warning' : 'note';
}

export interface SarifTool {
  name: string;
  version?: string;
  fullName?: string;
  informationUri?: string;
}

export const TRIVY_INFORMATION_URI = 'https://github.com/aquasecurity/trivy';
const SECRET_RULES_URI = 'https://trivy.dev/latest/docs/scanner/secret/';

export function trivyTool(version: string | undefined): SarifTool {
  return {
    name: 'Trivy',
    version: version || undefined,
    fullName: 'Trivy (run by berth/scan)',
    informationUri: TRIVY_INFORMATION_URI,
  };
}

export function berthAuditTool(version?: string): SarifTool {
  return { name: 'Berth compose audit', version, fullName: 'berth/scan compose audit' };
}

export interface SarifRunInput {
  /** runAutomationDetails.id, from scanCategory() */
  category: string;
  tool: SarifTool;
  findings: readonly Finding[];
  /** run.properties, e.g. the image's name and id */
  properties?: Record<string, unknown>;
}

export interface SarifMessage {
  text: string;
  markdown?: string;
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  help: SarifMessage;
  helpUri?: string;
  defaultConfiguration: { level: SarifLevel };
  properties: { tags: string[]; precision: string; 'security-severity'?: string };
}

export interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string };
    region: { startLine: number; endLine?: number; startColumn?: number; endColumn?: number };
  };
  message?: SarifMessage;
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: SarifLocation[];
  partialFingerprints: Record<string, string>;
  properties?: Record<string, unknown>;
}

export interface SarifRun {
  tool: { driver: SarifTool & { rules: SarifRule[] } };
  automationDetails: { id: string };
  columnKind: 'utf16CodeUnits';
  results: SarifResult[];
  properties?: Record<string, unknown>;
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

const KIND_TAG: Record<Finding['kind'], string> = {
  vuln: 'vulnerability',
  secret: 'secret',
  misconfig: 'misconfiguration',
  audit: 'compose-audit',
};

function ruleName(f: Finding): string {
  if (f.kind === 'vuln') {
    return f.class === 'os-pkgs' ? 'OsPackageVulnerability' : 'LanguageSpecificPackageVulnerability';
  }
  if (f.kind === 'secret') return 'Secret';
  if (f.kind === 'misconfig') return 'Misconfiguration';
  return 'ComposeAudit';
}

/**
 * The artifact a result points at. OS packages live in the image, named as Trivy names it (the
 * repository path); language packages in their file inside the image; secrets, misconfigurations
 * and audit findings in a file of the repository.
 */
export function artifactUri(f: Finding): string {
  let uri: string;
  if (f.kind === 'vuln') uri = f.class === 'os-pkgs' ? imageRepository(f.target) : (f.pkgPath ?? f.target);
  else uri = f.file ?? f.target;
  // Relative, as code scanning wants: a secret in an image is at `/app/.env`.
  return uri.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
}

function resultMessage(f: Finding): string {
  switch (f.kind) {
    case 'vuln':
      return [
        `Package: ${f.pkg}`,
        `Installed Version: ${f.installed ?? 'unknown'}`,
        `Vulnerability ${f.id}`,
        `Severity: ${f.severity}`,
        `Fixed Version: ${f.fixed ?? 'none'}`,
        ...(f.url ? [`Link: [${f.id}](${f.url})`] : []),
      ].join('\n');
    case 'secret':
      // Never the matched text: even masked, it says more about the secret than an alert needs.
      return `Secret ${f.title} (rule ${f.id}, ${f.severity}) in ${f.file ?? f.target}${f.line ? ` line ${f.line}` : ''}`;
    case 'misconfig':
      return `${f.id} ${f.title} (${f.severity}): ${f.description ?? f.title}`;
    case 'audit':
      return `${f.title}${f.remediation ? `. ${f.remediation}` : ''}`;
  }
}

function help(f: Finding): SarifMessage {
  const title = f.ruleTitle ?? f.title;
  const lines = [
    `${KIND_TAG[f.kind]} ${f.id}: ${title}`,
    `Severity: ${f.severity}`,
    ...(f.remediation ? [`Remediation: ${f.remediation}`] : []),
    ...(f.url ? [`More: ${f.url}`] : []),
  ];
  const markdown = [
    `**${f.id}**: ${title}`,
    '',
    `| Severity | Kind |`,
    `| --- | --- |`,
    `| ${f.severity} | ${KIND_TAG[f.kind]} |`,
    ...(f.remediation ? ['', `**Remediation:** ${f.remediation}`] : []),
    ...(f.url ? ['', `[${f.id}](${f.url})`] : []),
  ];
  // Audit findings describe one service in `title`; the rule's help stays general.
  if (f.kind !== 'secret' && f.kind !== 'audit' && f.description && f.description !== f.title) {
    lines.push('', f.description);
    markdown.push('', f.description);
  }
  return { text: lines.join('\n'), markdown: markdown.join('\n') };
}

function ruleFor(f: Finding): SarifRule {
  const score = SECURITY_SEVERITY[f.severity];
  return {
    id: f.id,
    name: ruleName(f),
    shortDescription: { text: f.ruleTitle ?? f.title },
    fullDescription: {
      text: f.kind === 'secret' ? f.title : (f.ruleDescription ?? f.description ?? f.title),
    },
    help: help(f),
    ...(f.kind === 'secret' ? { helpUri: SECRET_RULES_URI } : f.url ? { helpUri: f.url } : {}),
    defaultConfiguration: { level: sarifLevel(f.severity) },
    properties: {
      tags: ['security', KIND_TAG[f.kind], f.severity],
      precision: f.kind === 'vuln' ? 'very-high' : 'high',
      ...(score ? { 'security-severity': score } : {}),
    },
  };
}

function fingerprint(f: Finding, uri: string): string {
  const key = [
    f.kind,
    f.id,
    uri,
    f.pkg ?? '',
    f.installed ?? '',
    f.service ?? '',
    f.file ? String(f.line ?? '') : '',
  ];
  return createHash('sha256').update(key.join('\u0000')).digest('hex');
}

function resultFor(f: Finding, ruleIndex: number): SarifResult {
  const uri = artifactUri(f);
  const startLine = f.kind === 'vuln' ? 1 : (f.line ?? 1);
  const endLine = f.kind === 'vuln' ? 1 : Math.max(f.endLine ?? startLine, startLine);
  const where =
    f.kind === 'vuln'
      ? `${uri}: ${f.pkg}@${f.installed ?? ''}`
      : f.service
        ? `${uri}: service ${f.service}`
        : uri;
  return {
    ruleId: f.id,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: resultMessage(f) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri },
          region: { startLine, endLine, startColumn: 1, endColumn: 1 },
        },
        message: { text: where },
      },
    ],
    partialFingerprints: { 'berthFindingHash/v1': fingerprint(f, uri) },
    ...(f.service ? { properties: { service: f.service } } : {}),
  };
}

export function sarifRun(input: SarifRunInput): SarifRun {
  const rules: SarifRule[] = [];
  const ruleSeverity: Severity[] = [];
  const index = new Map<string, number>();
  const results: SarifResult[] = [];
  for (const f of input.findings) {
    let i = index.get(f.id);
    if (i === undefined) {
      i = rules.length;
      index.set(f.id, i);
      rules.push(ruleFor(f));
      ruleSeverity.push(f.severity);
    } else if (severityRank(f.severity) > severityRank(ruleSeverity[i]!)) {
      // One id, two severities (packages of different vendors): the rule shows the higher one.
      rules[i] = ruleFor(f);
      ruleSeverity[i] = f.severity;
    }
    results.push(resultFor(f, i));
  }
  const { name, version, fullName, informationUri } = input.tool;
  return {
    tool: {
      driver: {
        name,
        ...(version ? { version } : {}),
        ...(fullName ? { fullName } : {}),
        ...(informationUri ? { informationUri } : {}),
        rules,
      },
    },
    automationDetails: { id: input.category },
    columnKind: 'utf16CodeUnits',
    results,
    ...(input.properties ? { properties: input.properties } : {}),
  };
}

/** A SARIF log with one run per input; categories must differ (GitHub rejects repeats). */
export function sarifLog(runs: readonly SarifRunInput[]): SarifLog {
  const seen = new Set<string>();
  for (const run of runs) {
    if (seen.has(run.category)) throw new Error(`two SARIF runs share the category ${run.category}`);
    seen.add(run.category);
  }
  return { $schema: SARIF_SCHEMA, version: '2.1.0', runs: runs.map(sarifRun) };
}

/** The run for one Trivy report: Trivy's version as the tool's, the image's facts as properties. */
export function trivySarifRun(
  report: TrivyReport,
  findings: readonly Finding[],
  category: string,
): SarifRunInput {
  const image = report.ArtifactType === 'container_image';
  return {
    category,
    tool: trivyTool(report.Trivy?.Version),
    findings,
    properties: image
      ? {
          imageName: report.ArtifactName,
          imageID: report.Metadata?.ImageID,
          // As Trivy writes them (null when the image has none), so both SARIF files agree.
          repoTags: report.Metadata?.RepoTags ?? null,
          repoDigests: report.Metadata?.RepoDigests ?? null,
        }
      : { artifactName: report.ArtifactName, artifactType: report.ArtifactType },
  };
}

// SARIF rules: one per finding id, with the level and security-severity code scanning sorts by and
// the help it shows beside an alert.
import { isMonitoringFinding, type Finding, type Severity } from './finding.js';

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

const SECRET_RULES_URI = 'https://trivy.dev/latest/docs/scanner/secret/';

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
  return isMonitoringFinding(f) ? 'MonitoringConfig' : 'ComposeAudit';
}

function kindTag(f: Finding): string {
  return isMonitoringFinding(f) ? 'monitoring-config' : KIND_TAG[f.kind];
}

function help(f: Finding): SarifMessage {
  const title = f.ruleTitle ?? f.title;
  const lines = [
    `${kindTag(f)} ${f.id}: ${title}`,
    `Severity: ${f.severity}`,
    ...(f.remediation ? [`Remediation: ${f.remediation}`] : []),
    ...(f.url ? [`More: ${f.url}`] : []),
  ];
  const markdown = [
    `**${f.id}**: ${title}`,
    '',
    `| Severity | Kind |`,
    `| --- | --- |`,
    `| ${f.severity} | ${kindTag(f)} |`,
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

export function ruleFor(f: Finding): SarifRule {
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
      tags: ['security', kindTag(f), f.severity],
      precision: f.kind === 'vuln' ? 'very-high' : 'high',
      ...(score ? { 'security-severity': score } : {}),
    },
  };
}

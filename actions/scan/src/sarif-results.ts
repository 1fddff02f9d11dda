// SARIF results: one per finding, where it is (a file of the repository, or the image) and the
// fingerprint that keeps an alert the same across runs.
import { createHash } from 'node:crypto';
import { imageRepository } from './category.js';
import type { Finding } from './finding.js';
import { sarifLevel, type SarifLevel, type SarifMessage } from './sarif-rules.js';

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

export function resultFor(f: Finding, ruleIndex: number): SarifResult {
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

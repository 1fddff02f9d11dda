// SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif), written from the
// findings that count, so the alerts match the report, the outputs and the gate. One run per
// scanned thing, each with its own category (runAutomationDetails.id, see category.ts); its rules
// (sarif-rules.ts) and results (sarif-results.ts).
import { severityRank, type Finding, type Severity } from './finding.js';
import type { TrivyReport } from './report.js';
import { resultFor, type SarifResult } from './sarif-results.js';
import { ruleFor, type SarifRule } from './sarif-rules.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifTool {
  name: string;
  version?: string;
  fullName?: string;
  informationUri?: string;
}

export const TRIVY_INFORMATION_URI = 'https://github.com/aquasecurity/trivy';

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

/** The monitoring checks, with the promtool and amtool releases that ran them. */
export function berthMonitoringTool(
  version: string | undefined,
  tools: readonly { tool: string; version: string }[],
): SarifTool {
  const ran = tools.map((t) => `${t.tool} ${t.version}`).join(', ');
  return {
    name: 'Berth monitoring checks',
    version,
    fullName: `berth/scan monitoring checks${ran ? ` (${ran})` : ''}`,
  };
}

export interface SarifRunInput {
  /** runAutomationDetails.id, from scanCategory() */
  category: string;
  tool: SarifTool;
  findings: readonly Finding[];
  /** run.properties, e.g. the image's name and id */
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

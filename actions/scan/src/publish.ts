// What the step leaves behind once evaluate() has decided: the JSON report and the SARIF file, the
// step outputs, annotations and the job summary.
import * as core from '@actions/core';
import { oneLine } from '../../../lib/action/untrusted.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditedStack } from './audit-stack.js';
import { reportBaseName, scanCategory } from './category.js';
import type { TrivyTarget } from './command.js';
import { detailsMarkdown, type RunDetails } from './details.js';
import type { Evaluation } from './evaluate.js';
import { annotations, gateOutputs, type Annotation } from './gate.js';
import type { Inputs } from './inputs.js';
import type { TrivyReport } from './report.js';
import { isMonitoringFinding } from './finding.js';
import type { MonitoringResult } from './monitoring.js';
import { berthAuditTool, berthMonitoringTool, sarifLog, trivySarifRun, type SarifRunInput } from './sarif.js';
import { summaryMarkdown } from './summary.js';
import { categoryTarget, describeTarget, inRepository } from './target.js';

/** Annotations per level beyond which the log would only repeat the summary. */
const MAX_ANNOTATIONS = 50;

export interface ReportFiles {
  reportFile: string;
  sarifFile: string;
}

/** The filtered Trivy report and the SARIF file (Trivy's run, the audit's), named after the target. */
export function writeReportFiles(
  outputDir: string,
  facts: {
    target: TrivyTarget;
    workspace: string;
    report: TrivyReport;
    stack?: AuditedStack;
    monitoring?: MonitoringResult;
    /** `monitoring-configs`, which name the monitoring run when there is no stack */
    configs?: readonly string[];
  },
  evaluation: Evaluation,
): ReportFiles {
  const { target, report, stack, monitoring } = facts;
  const category = categoryTarget(target, facts.workspace, report.Metadata?.RepoTags);
  const base = reportBaseName(category);
  mkdirSync(outputDir, { recursive: true });
  const reportFile = join(outputDir, `${base}.json`);
  const sarifFile = join(outputDir, `${base}.sarif`);
  const filtered = evaluation.reports[0]!;
  writeFileSync(reportFile, `${JSON.stringify(filtered.report, null, 2)}\n`);
  const runs: SarifRunInput[] = [trivySarifRun(report, filtered.kept, scanCategory(category))];
  const version = process.env.GITHUB_ACTION_REF || undefined;
  if (stack && evaluation.audit) {
    runs.push({
      category: scanCategory({ kind: 'compose', name: stack.project }),
      tool: berthAuditTool(version),
      findings: evaluation.audit.filter((f) => !isMonitoringFinding(f)),
    });
  }
  if (monitoring && evaluation.audit) {
    // Its own category: a clean run closes the alerts of configs that were fixed.
    const name = stack?.project ?? dirname(facts.configs?.[0] ?? '.');
    runs.push({
      category: scanCategory({ kind: 'monitoring', name }),
      tool: berthMonitoringTool(version, monitoring.tools),
      findings: evaluation.audit.filter(isMonitoringFinding),
    });
  }
  writeFileSync(sarifFile, `${JSON.stringify(sarifLog(runs), null, 2)}\n`);
  core.info(`Report ${reportFile}, SARIF ${sarifFile}`);
  return { reportFile, sarifFile };
}

export function setGateOutputs(evaluation: Evaluation, files: ReportFiles): void {
  for (const [name, value] of Object.entries(gateOutputs(evaluation.gate, files))) {
    core.setOutput(name, value);
  }
}

/** The gate's annotations, at most MAX_ANNOTATIONS per level. */
export function annotate(evaluation: Evaluation, target: TrivyTarget): void {
  const list: readonly Annotation[] = annotations(
    evaluation.gate,
    evaluation.audit ?? [],
    inRepository(target),
  );
  const shown = { error: 0, warning: 0, notice: 0 };
  for (const a of list) {
    shown[a.level] += 1;
    if (shown[a.level] > MAX_ANNOTATIONS) continue;
    // Messages quote findings (image names, Trivy's titles): one line each, shown as written.
    const properties = { title: oneLine(a.title), file: a.file, startLine: a.startLine };
    const message = oneLine(a.message);
    if (a.level === 'error') core.error(message, properties);
    else if (a.level === 'warning') core.warning(message, properties);
    else core.notice(message, properties);
  }
  for (const [level, count] of Object.entries(shown)) {
    if (count > MAX_ANNOTATIONS) core.info(`${count - MAX_ANNOTATIONS} more ${level} annotations left out`);
  }
}

/** The job summary: the verdict and its findings, then what the step did. */
export async function writeJobSummary(
  facts: {
    inputs: Inputs;
    target: TrivyTarget;
    workspace: string;
    audited: boolean;
    monitoring?: MonitoringResult;
  },
  evaluation: Evaluation,
  details: RunDetails,
): Promise<void> {
  const { inputs } = facts;
  await core.summary
    .addRaw(
      summaryMarkdown({
        title: describeTarget(facts.target, facts.workspace),
        gate: evaluation.gate,
        settings: { ...inputs.gate, ignoreFile: inputs['ignore-file'] },
        audit: facts.audited ? (evaluation.audit ?? []).filter((f) => !isMonitoringFinding(f)) : undefined,
        monitoring: facts.monitoring && {
          files: facts.monitoring.files.length,
          findings: (evaluation.audit ?? []).filter(isMonitoringFinding),
        },
        dropped: evaluation.dropped,
      }),
    )
    .addRaw(detailsMarkdown(details))
    .write();
}

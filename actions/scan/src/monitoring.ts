// The monitoring checks: the plan (monitoring-plan.ts), promtool and amtool installed only when
// there is something for them to check, each file checked on its own, and what the tools reject
// turned into findings with file and line, gated like the compose audit's.
import * as core from '@actions/core';
import { runProcess } from '../../../lib/action/exec.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { MONITORING_RULES } from './audit-rules.js';
import type { ComposeConfig } from './compose-service.js';
import type { Finding } from './finding.js';
import type { Inputs } from './inputs.js';
import {
  installMonitoringTool,
  type MonitoringTool,
  type MonitoringToolInstall,
} from './monitoring-install.js';
import { toolProblems } from './monitoring-output.js';
import { describePlan, monitoringFinding, planMonitoring, type MonitoringFile } from './monitoring-plan.js';
import { KIND_NAMES, type MonitoringKind } from './monitoring-yaml.js';

export interface MonitoringResult {
  /** the files checked, by repository path */
  files: { path: string; kind: MonitoringKind }[];
  tools: MonitoringToolInstall[];
  findings: Finding[];
}

const TOOL_OF: Readonly<Record<MonitoringKind, MonitoringTool>> = {
  prometheus: 'promtool',
  rules: 'promtool',
  alertmanager: 'amtool',
};

const RULE_OF = {
  prometheus: MONITORING_RULES.prometheusConfig,
  rules: MONITORING_RULES.rules,
  alertmanager: MONITORING_RULES.alertmanagerConfig,
} as const;

/**
 * The command that checks one file. A Prometheus config is checked for its own syntax only
 * (`--syntax-only`): the files it names are paths in the container, and its rule files are checked
 * on their own, found through the stack's mounts.
 */
export function checkCommand(kind: MonitoringKind, tool: string, file: string): [string, string[]] {
  switch (kind) {
    case 'prometheus':
      return [tool, ['check', 'config', '--syntax-only', file]];
    case 'rules':
      return [tool, ['check', 'rules', file]];
    case 'alertmanager':
      return [tool, ['check-config', file]];
  }
}

/** The findings of one file's check; none when the tool accepts it. */
async function checkFile(
  file: MonitoringFile,
  tool: string,
  run: { work: string; timeoutMs: number; docsUrl?: string },
): Promise<Finding[]> {
  const [command, args] = checkCommand(file.kind, tool, file.absolute);
  // Only PATH from the runner, HOME empty: no amtool config of the runner's is read.
  const result = await runProcess(command, args, {
    cwd: run.work,
    env: { PATH: process.env.PATH ?? '', HOME: run.work },
    silent: true,
    timeoutMs: run.timeoutMs,
  });
  if (result.timedOut) throw new Error(`${oneLine(command)} did not finish checking ${file.path} in time`);
  const name = KIND_NAMES[file.kind];
  if (result.exitCode === 0) {
    core.info(oneLine(`${file.path}: a valid ${name} (${file.origin})`));
    return [];
  }
  const problems = toolProblems(file.kind, `${result.stdout}\n${result.stderr}`, file.absolute, file.yaml);
  return problems.map((p) => {
    // Tool output is untrusted: one line, shown as written.
    const message = oneLine(`${name} rejected by ${TOOL_OF[file.kind]}: ${p.message}`);
    core.info(oneLine(`${file.path}:${p.line}: ${message}`));
    return monitoringFinding(
      RULE_OF[file.kind],
      { file: file.path, line: p.line, kind: file.kind },
      message,
      run.docsUrl,
    );
  });
}

export interface MonitoringRun {
  inputs: Pick<
    Inputs,
    | 'monitoring-configs'
    | 'prometheus-version'
    | 'alertmanager-version'
    | 'monitoring-download-url'
    | 'github-token'
    | 'timeout'
  >;
  /** the merged compose configuration, when a stack is audited */
  config?: ComposeConfig;
  workspace: string;
  /** an empty directory, removed after the step */
  work: string;
  docsUrl?: string;
}

/** The monitoring checks; undefined when there is nothing to check (and nothing was installed). */
export async function checkMonitoring(run: MonitoringRun): Promise<MonitoringResult | undefined> {
  const { inputs } = run;
  const plan = planMonitoring({
    configs: inputs['monitoring-configs'],
    config: run.config,
    root: run.workspace,
    docsUrl: run.docsUrl,
  });
  if (plan.files.length === 0 && plan.findings.length === 0) return undefined;
  core.info(`Checking ${describePlan(plan.files) || 'no file'}`);
  for (const f of plan.findings) core.info(oneLine(`${f.file}:${f.line}: ${f.title}`));

  const needed = [...new Set(plan.files.map((f) => TOOL_OF[f.kind]))].sort();
  const tools = await Promise.all(
    needed.map((tool) =>
      installMonitoringTool(tool, {
        version: tool === 'promtool' ? inputs['prometheus-version'] : inputs['alertmanager-version'],
        downloadUrl: inputs['monitoring-download-url'],
        token: inputs['github-token'],
      }),
    ),
  );
  const path = (tool: MonitoringTool) => tools.find((t) => t.tool === tool)!.path;
  const findings = [...plan.findings];
  for (const file of plan.files) {
    findings.push(
      ...(await checkFile(file, path(TOOL_OF[file.kind]), { ...run, timeoutMs: inputs.timeout })),
    );
  }
  return { files: plan.files.map((f) => ({ path: f.path, kind: f.kind })), tools, findings };
}

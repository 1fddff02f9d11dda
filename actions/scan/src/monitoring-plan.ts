// Which monitoring configs the scan checks: those `monitoring-configs` names, the Prometheus and
// Alertmanager configs and rule files the compose stack mounts from the repository, and the rule
// files a Prometheus config loads (`rule_files`, container paths mapped back through the stack's
// mounts). An entry that cannot be mapped, or matches no file, is a finding, never silently skipped.
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, posix, resolve } from 'node:path';
import { inputError } from '../../../lib/action/inputs.js';
import { MONITORING_RULES, type AuditRule } from './audit-rules.js';
import type { ComposeConfig } from './compose-service.js';
import { Inputs as I } from './constants.js';
import type { Finding } from './finding.js';
import {
  globFiles,
  hostPath,
  insideRoot,
  mountedFiles,
  stackMounts,
  type Mount,
} from './monitoring-stack.js';
import { KIND_NAMES, MonitoringYaml, type MonitoringKind } from './monitoring-yaml.js';

export interface MonitoringFile {
  /** as findings name it: relative to the repository root, `/` separators */
  path: string;
  absolute: string;
  kind: MonitoringKind;
  yaml: MonitoringYaml;
  /** why it is checked: `monitoring-configs`, `mounted into service prometheus`, `rule_files of x.yml` */
  origin: string;
}

export interface MonitoringPlan {
  files: MonitoringFile[];
  /** rule_files entries that could not be checked */
  findings: Finding[];
}

/** A finding of a monitoring rule at `file`:`line`. */
export function monitoringFinding(
  rule: AuditRule,
  where: { file: string; line: number; kind: MonitoringKind },
  message: string,
  docsUrl?: string,
): Finding {
  return {
    kind: 'audit',
    id: rule.id,
    severity: rule.severity,
    target: where.file,
    class: 'monitoring',
    type: where.kind,
    title: message,
    ruleTitle: rule.title,
    ruleDescription: `${rule.title}. ${rule.remediation}.`,
    remediation: rule.remediation,
    url: docsUrl ? `${docsUrl.split('#')[0]}#${rule.id.toLowerCase()}` : undefined,
    file: where.file,
    line: where.line,
  };
}

/** A file's kind when its YAML is too broken to tell by content: by its name, as a last resort. */
function kindByName(path: string): MonitoringKind | undefined {
  const name = basename(path).toLowerCase();
  if (name.includes('alertmanager')) return 'alertmanager';
  if (/rule|alert/.test(name)) return 'rules';
  return name.includes('prometheus') ? 'prometheus' : undefined;
}

class Planner {
  readonly files = new Map<string, MonitoringFile>();
  readonly findings: Finding[] = [];

  constructor(
    private readonly root: string,
    private readonly docsUrl?: string,
  ) {}

  repoPath(absolute: string): string {
    return insideRoot(this.root, absolute) ?? absolute;
  }

  add(absolute: string, kind: MonitoringKind, yaml: MonitoringYaml, origin: string): void {
    if (!this.files.has(absolute)) {
      this.files.set(absolute, { path: this.repoPath(absolute), absolute, kind, yaml, origin });
    }
  }

  unchecked(config: MonitoringFile, line: number, missing: boolean, message: string): void {
    const rule = missing ? MONITORING_RULES.ruleFileMissing : MONITORING_RULES.ruleFileUnchecked;
    const where = { file: config.path, line, kind: config.kind };
    this.findings.push(monitoringFinding(rule, where, message, this.docsUrl));
  }

  /** Adds the rule files a host pattern matches, or says it matches none. */
  addRuleFiles(config: MonitoringFile, line: number, pattern: string, shown: string): void {
    const matches = globFiles(pattern);
    // A glob may match nothing on purpose (a drop-in directory kept empty), and Prometheus loads it
    // fine; a plain path that names no file is a mistake.
    if (matches.length === 0 && !/[*?[]/.test(pattern)) {
      this.unchecked(
        config,
        line,
        true,
        `rule_files entry ${shown} names no file (${this.repoPath(pattern)})`,
      );
    }
    for (const file of matches) {
      this.add(file, 'rules', new MonitoringYaml(readText(file)), `rule_files of ${config.path}`);
    }
  }

  /** The rule files of a Prometheus config, through the stack's mounts when it is mounted. */
  mapRuleFiles(config: MonitoringFile, placements: readonly MountedAt[], mounts: readonly Mount[]): void {
    for (const { pattern, line } of config.yaml.ruleFiles()) {
      const shown = JSON.stringify(pattern);
      if (placements.length === 0) {
        if (isAbsolute(pattern)) {
          this.unchecked(
            config,
            line,
            false,
            `rule_files entry ${shown} is a path in the container, and ${config.path} is not mounted by the compose stack (${I.ComposeFiles}), so it was not checked`,
          );
        } else {
          this.addRuleFiles(config, line, resolve(dirname(config.absolute), pattern), shown);
        }
        continue;
      }
      for (const { service, containerPath } of placements) {
        const inContainer = posix.resolve(posix.dirname(containerPath), pattern);
        const at = inContainer === pattern ? '' : ` (${inContainer})`;
        const host = hostPath(mounts, service, inContainer);
        if (host === undefined || insideRoot(this.root, host) === undefined) {
          const why =
            host === undefined ? 'no mount of service' : 'a mount from outside the repository in service';
          this.unchecked(
            config,
            line,
            false,
            `rule_files entry ${shown}${at} comes from ${why} ${service}, so it was not checked`,
          );
        } else {
          this.addRuleFiles(config, line, host, shown);
        }
      }
    }
  }
}

interface MountedAt {
  service: string;
  containerPath: string;
}

function readText(absolute: string): string {
  try {
    return readFileSync(absolute, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The plan: `configs` (workspace-relative, as the input gives them; one that is no monitoring config
 * is an input error), then what `config` (the merged compose configuration) mounts from `root`.
 */
export function planMonitoring(options: {
  configs: readonly string[];
  config?: ComposeConfig;
  root: string;
  docsUrl?: string;
}): MonitoringPlan {
  const { root } = options;
  const planner = new Planner(root, options.docsUrl);
  for (const given of options.configs) {
    const absolute = resolve(root, given);
    const yaml = new MonitoringYaml(readText(absolute));
    const kind = yaml.kind() ?? (yaml.syntaxErrorLine === undefined ? undefined : kindByName(given));
    if (kind === undefined) {
      throw inputError(
        I.MonitoringConfigs,
        `${given} is none of: a Prometheus config, a Prometheus rule file, an Alertmanager config`,
      );
    }
    planner.add(absolute, kind, yaml, I.MonitoringConfigs);
  }
  const mounts = options.config ? stackMounts(options.config) : [];
  const placements = new Map<string, MountedAt[]>();
  for (const { service, absolute, containerPath } of mountedFiles(mounts, root)) {
    const yaml = new MonitoringYaml(readText(absolute));
    const kind = planner.files.get(absolute)?.kind ?? yaml.kind();
    if (kind === undefined) continue;
    planner.add(absolute, kind, yaml, `mounted into service ${service}`);
    placements.set(absolute, [...(placements.get(absolute) ?? []), { service, containerPath }]);
  }
  for (const file of [...planner.files.values()]) {
    if (file.kind === 'prometheus') planner.mapRuleFiles(file, placements.get(file.absolute) ?? [], mounts);
  }
  return { files: [...planner.files.values()], findings: planner.findings };
}

/** `2 Prometheus rule files, 1 Alertmanager config`, for logs. */
export function describePlan(files: readonly MonitoringFile[]): string {
  const counts = new Map<MonitoringKind, number>();
  for (const f of files) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${KIND_NAMES[kind]}${n === 1 ? '' : 's'}`).join(', ');
}

// Shared by the unit and integration tests (never imported by the action): where the real Trivy
// reports are, every finding of a report, and a structural check of SARIF as code scanning reads it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './finding.js';
import {
  isFailedMisconfiguration,
  misconfigurationFinding,
  parseTrivyReport,
  secretFinding,
  vulnerabilityFinding,
  type TrivyReport,
} from './report.js';

/** Real Trivy output (from Trivy's own test data), present on every machine that runs the tests. */
export const TRIVY_FIXTURES = process.env.BERTH_TRIVY_FIXTURES ?? '/work/shared/fixtures/trivy';

export const TRIVY_JSON_FIXTURES = [
  'alpine-310.json',
  'alpine-39-high-critical.json',
  'centos-7.json',
  'debian-buster-ignore-unfixed.json',
  'debian-buster.json',
  'distroless-base.json',
  'dockerfile.json',
  'secrets.json',
  'ubuntu-1804.json',
] as const;

export type TrivyFixture = (typeof TRIVY_JSON_FIXTURES)[number];

export function fixturePath(name: string): string {
  return join(TRIVY_FIXTURES, name);
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function fixtureReport(name: TrivyFixture): TrivyReport {
  return parseTrivyReport(fixtureText(name), name);
}

/** Every vulnerability, secret and failed misconfiguration in the report, in report order. */
export function findingsFromReport(report: TrivyReport): Finding[] {
  const findings: Finding[] = [];
  for (const result of report.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) findings.push(vulnerabilityFinding(result, v));
    for (const s of result.Secrets ?? []) findings.push(secretFinding(result, s));
    for (const m of result.Misconfigurations ?? []) {
      if (isFailedMisconfiguration(m)) findings.push(misconfigurationFinding(result, m));
    }
  }
  return findings;
}

// ---- SARIF, structurally ---------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const LEVELS = new Set(['none', 'note', 'warning', 'error']);

export interface ValidateOptions {
  /** every run must have automationDetails.id (GitHub needs it to tell several uploads apart) */
  requireCategory?: boolean;
}

/** The problems of one rule at `where`; its id is pushed to `ruleIds` ('' when it has none). */
function ruleProblems(rule: unknown, where: string, ruleIds: string[]): string[] {
  if (!isObject(rule) || typeof rule.id !== 'string' || rule.id === '') {
    ruleIds.push('');
    return [`${where}.id is missing`];
  }
  const problems: string[] = [];
  if (ruleIds.includes(rule.id)) problems.push(`${where}.id ${rule.id} is not unique`);
  ruleIds.push(rule.id);
  const props = isObject(rule.properties) ? rule.properties : {};
  const score = props['security-severity'];
  if (score !== undefined) {
    const n = typeof score === 'string' ? Number(score) : NaN;
    if (!/^\d+(\.\d+)?$/.test(String(score)) || !(n >= 0 && n <= 10)) {
      problems.push(
        `${where}.properties.security-severity ${JSON.stringify(score)} is not a number 0-10 in a string`,
      );
    }
  }
  if (
    props.tags !== undefined &&
    !(Array.isArray(props.tags) && props.tags.every((t) => typeof t === 'string'))
  ) {
    problems.push(`${where}.properties.tags is not a list of strings`);
  }
  if (rule.helpUri !== undefined && (typeof rule.helpUri !== 'string' || !URL.canParse(rule.helpUri))) {
    problems.push(`${where}.helpUri is not an absolute URI`);
  }
  const level = isObject(rule.defaultConfiguration) ? rule.defaultConfiguration.level : undefined;
  if (level !== undefined && !LEVELS.has(String(level)))
    problems.push(`${where}.defaultConfiguration.level is invalid`);
  return problems;
}

function locationProblems(loc: unknown, where: string): string[] {
  const problems: string[] = [];
  const physical = isObject(loc) && isObject(loc.physicalLocation) ? loc.physicalLocation : undefined;
  const artifact = physical && isObject(physical.artifactLocation) ? physical.artifactLocation : undefined;
  if (!artifact || typeof artifact.uri !== 'string' || artifact.uri === '') {
    problems.push(`${where}.physicalLocation.artifactLocation.uri is missing`);
  }
  const region = physical?.region;
  if (region !== undefined) {
    const start = isObject(region) ? region.startLine : undefined;
    if (!Number.isInteger(start) || (start as number) < 1) {
      problems.push(`${where}.physicalLocation.region.startLine is not a line number`);
    }
  }
  return problems;
}

function resultProblems(result: unknown, where: string, ruleIds: readonly string[]): string[] {
  if (!isObject(result)) return [`${where} is not an object`];
  const problems: string[] = [];
  if (typeof result.ruleId !== 'string' || !ruleIds.includes(result.ruleId)) {
    problems.push(`${where}.ruleId ${JSON.stringify(result.ruleId)} is not among the run's rules`);
  }
  if (result.ruleIndex !== undefined && ruleIds[result.ruleIndex as number] !== result.ruleId) {
    problems.push(
      `${where}.ruleIndex ${String(result.ruleIndex)} does not point at rule ${String(result.ruleId)}`,
    );
  }
  if (result.level !== undefined && !LEVELS.has(String(result.level)))
    problems.push(`${where}.level is invalid`);
  if (!isObject(result.message) || typeof result.message.text !== 'string' || result.message.text === '') {
    problems.push(`${where}.message.text is missing`);
  }
  const locations = result.locations;
  if (!Array.isArray(locations) || locations.length === 0) {
    return [...problems, `${where}.locations is empty (code scanning needs one)`];
  }
  locations.forEach((loc: unknown, l: number) => {
    problems.push(...locationProblems(loc, `${where}.locations[${l}]`));
  });
  return problems;
}

function runProblems(run: unknown, at: string, categories: Set<string>, options: ValidateOptions): string[] {
  if (!isObject(run)) return [`${at} is not an object`];
  const problems: string[] = [];
  const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : undefined;
  if (!driver || typeof driver.name !== 'string' || driver.name === '') {
    problems.push(`${at}.tool.driver.name is missing`);
  }
  const rules = Array.isArray(driver?.rules) ? (driver.rules as unknown[]) : [];
  const ruleIds: string[] = [];
  rules.forEach((rule, i) => problems.push(...ruleProblems(rule, `${at}.tool.driver.rules[${i}]`, ruleIds)));
  const details = run.automationDetails;
  if (details !== undefined || options.requireCategory) {
    const id = isObject(details) ? details.id : undefined;
    if (typeof id !== 'string' || id === '') problems.push(`${at}.automationDetails.id is missing`);
    else if (categories.has(id)) problems.push(`${at}.automationDetails.id ${id} repeats another run's`);
    else categories.add(id);
  }
  if (!Array.isArray(run.results)) return [...problems, `${at}.results is not an array`];
  run.results.forEach((result: unknown, i: number) => {
    problems.push(...resultProblems(result, `${at}.results[${i}]`, ruleIds));
  });
  return problems;
}

/**
 * The problems that would make GitHub reject a SARIF log or show it wrongly; empty when there
 * are none. A structural check of what code scanning reads, not the full JSON schema.
 */
export function validateSarif(log: unknown, options: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  if (!isObject(log)) return ['the log is not an object'];
  if (log.version !== '2.1.0') problems.push(`version is ${JSON.stringify(log.version)}, not "2.1.0"`);
  if (!Array.isArray(log.runs)) return [...problems, 'runs is not an array'];
  const categories = new Set<string>();
  log.runs.forEach((run: unknown, r: number) => {
    problems.push(...runProblems(run, `runs[${r}]`, categories, options));
  });
  return problems;
}

// Shared by the unit tests (never imported by the action): where the real Trivy reports are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrivyReport, type TrivyReport } from './report.js';

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

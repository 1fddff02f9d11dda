import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/action/inputs.js';
import { auditCompose } from './audit.js';
import { parseComposeConfig } from './compose-service.js';
import { Outputs } from './constants.js';
import { filterFindings, filterReport, isUnfixed, type FilterOptions } from './filter.js';
import { SEVERITIES, type Severity } from './finding.js';
import {
  annotations,
  decideGate,
  gateOutputs,
  parseAuditMode,
  parseFailOn,
  parseGateSettings,
  parseSeverities,
  type FailOn,
} from './gate.js';
import { parseIgnoreFile, partitionIgnores } from './ignore.js';
import { findingsFromReport, fixtureReport, TRIVY_JSON_FIXTURES, type TrivyFixture } from './testing.js';

const DEFAULTS = parseGateSettings({});
const ALL: Severity[] = [...SEVERITIES];

function gate(
  name: TrivyFixture,
  opts: { severities?: Severity[]; ignoreUnfixed?: boolean; failOn?: FailOn; ignores?: string } = {},
) {
  const now = new Date('2025-03-15T00:00:00Z');
  const entries = opts.ignores ? parseIgnoreFile(opts.ignores, '.trivyignore') : [];
  const { active, expired } = partitionIgnores(entries, now);
  const options: FilterOptions = {
    severities: opts.severities ?? DEFAULTS.severities,
    ignoreUnfixed: opts.ignoreUnfixed ?? DEFAULTS.ignoreUnfixed,
    ignores: active,
  };
  const filtered = filterReport(fixtureReport(name), options);
  const result = decideGate({
    findings: filtered.kept,
    audit: [],
    expired,
    failOn: opts.failOn ?? DEFAULTS.failOn,
    auditMode: 'error',
    dropped: filtered.dropped,
  });
  return { filtered, result };
}

describe('input parsers', () => {
  it('parseGateSettings: the defaults of action.yml', () => {
    expect(DEFAULTS).toEqual({
      severities: ['CRITICAL', 'HIGH'],
      failOn: 'CRITICAL',
      ignoreUnfixed: true,
      audit: 'error',
    });
    expect(
      parseGateSettings({ severity: 'low', 'fail-on': 'never', 'ignore-unfixed': 'false', audit: 'WARN' }),
    ).toEqual({
      severities: ['LOW'],
      failOn: 'none',
      ignoreUnfixed: false,
      audit: 'warn',
    });
  });

  it('parseSeverities: any case, commas or lines, highest first, once each', () => {
    expect(parseSeverities('severity', 'high, critical')).toEqual(['CRITICAL', 'HIGH']);
    expect(parseSeverities('severity', 'LOW\nHIGH,low\nunknown')).toEqual(['HIGH', 'LOW', 'UNKNOWN']);
  });

  it('errors name the input and list what is allowed', () => {
    expect(() => parseSeverities('severity', 'HIGH,SEVERE')).toThrow(
      'Input "severity": "SEVERE" is not a severity (use CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)',
    );
    expect(() => parseSeverities('severity', ' , ')).toThrow(InputError);
    expect(() => parseFailOn('fail-on', 'HIGH,CRITICAL')).toThrow(
      'Input "fail-on": takes one severity, the lowest that fails the step (e.g. HIGH), not a list',
    );
    expect(() => parseFailOn('fail-on', 'always')).toThrow(
      'Input "fail-on": "always" is not a severity or none (use CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, or none to only report)',
    );
    expect(() => parseAuditMode('audit', 'strict')).toThrow(
      'Input "audit": "strict" is not one of: error, warn, off',
    );
    const inputOf = (raw: Parameters<typeof parseGateSettings>[0]) => {
      try {
        parseGateSettings(raw);
      } catch (error) {
        return error instanceof InputError ? error.input : String(error);
      }
      return 'no error';
    };
    expect(inputOf({ 'ignore-unfixed': 'maybe' })).toBe('ignore-unfixed');
    expect(inputOf({ severity: 'SEVERE' })).toBe('severity');
    expect(inputOf({ 'fail-on': 'x' })).toBe('fail-on');
    expect(inputOf({ audit: 'x' })).toBe('audit');
  });

  it('parseFailOn: a severity, or none/never', () => {
    expect(['none', 'NEVER', ' None '].map((v) => parseFailOn('fail-on', v))).toEqual([
      'none',
      'none',
      'none',
    ]);
    expect(parseFailOn('fail-on', 'medium')).toBe('MEDIUM');
  });
});

describe('the gate with the defaults over every real report', () => {
  // fixture: [failed, critical, high, total kept, dropped for severity, dropped unfixed]
  const EXPECTED: Record<TrivyFixture, [boolean, number, number, number, number, number]> = {
    'alpine-310.json': [false, 0, 0, 0, 4, 0],
    'alpine-39-high-critical.json': [true, 2, 0, 2, 0, 0],
    'centos-7.json': [false, 0, 0, 0, 3, 0],
    'debian-buster-ignore-unfixed.json': [true, 1, 0, 1, 0, 0],
    'debian-buster.json': [true, 1, 0, 1, 1, 0],
    'distroless-base.json': [false, 0, 0, 0, 4, 0],
    'dockerfile.json': [false, 0, 1, 1, 0, 0],
    'secrets.json': [true, 1, 1, 2, 0, 0],
    'ubuntu-1804.json': [false, 0, 0, 0, 5, 0],
  };

  it.each(TRIVY_JSON_FIXTURES)('%s', (name) => {
    const { filtered, result } = gate(name);
    const [failed, critical, high, total, severity, unfixed] = EXPECTED[name];
    expect(result.failed).toBe(failed);
    expect([result.counts.CRITICAL, result.counts.HIGH, result.counts.total]).toEqual([
      critical,
      high,
      total,
    ]);
    expect(result.counts.MEDIUM + result.counts.LOW + result.counts.UNKNOWN).toBe(0);
    expect(filtered.dropped.filter((d) => d.reason === 'severity')).toHaveLength(severity);
    expect(filtered.dropped.filter((d) => d.reason === 'unfixed')).toHaveLength(unfixed);
    expect(result.sentence).toMatch(failed ? /^The scan failed because / : /^The scan passed: /);
    // One sentence: it ends the text and nothing inside starts another.
    expect(result.sentence.endsWith('.')).toBe(true);
    expect(result.sentence.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z][a-z]/);
  });
});

describe('the gate over the real reports, other settings', () => {
  it('says which findings failed it, with package and fixed version (alpine-39)', () => {
    const { result } = gate('alpine-39-high-critical.json');
    expect(result.sentence).toBe(
      'The scan failed because 2 findings are at or above fail-on CRITICAL (2 CRITICAL: ' +
        'CVE-2019-14697 in musl 1.1.20-r4 -> 1.1.20-r5; CVE-2019-14697 in musl-utils 1.1.20-r4 -> 1.1.20-r5).',
    );
    expect(gateOutputs(result, { reportFile: '/tmp/r.json', sarifFile: '/tmp/r.sarif' })).toEqual({
      [Outputs.Critical]: '2',
      [Outputs.High]: '0',
      [Outputs.Medium]: '0',
      [Outputs.Low]: '0',
      [Outputs.Unknown]: '0',
      [Outputs.Total]: '2',
      [Outputs.Failed]: 'true',
      [Outputs.ReportFile]: '/tmp/r.json',
      [Outputs.SarifFile]: '/tmp/r.sarif',
    });
  });

  it('says why it passed and what was not counted (alpine-310)', () => {
    expect(gate('alpine-310.json').result.sentence).toBe(
      'The scan passed: no finding is at or above fail-on CRITICAL (no finding counted; not counted: 4 outside the severity list).',
    );
  });

  it('ignore-unfixed over debian-buster gives exactly what trivy --ignore-unfixed reported', () => {
    const { filtered } = gate('debian-buster.json', { severities: ALL });
    const trivys = fixtureReport('debian-buster-ignore-unfixed.json');
    expect(filtered.report.Results).toEqual(trivys.Results);
    expect(filtered.dropped.map((d) => [d.reason, d.finding.id, d.finding.pkg])).toEqual([
      ['unfixed', 'CVE-2019-18276', 'bash'],
    ]);
  });

  it('unfixed means a status other than fixed (centos will_not_fix, distroless affected)', () => {
    const centos = gate('centos-7.json', { severities: ALL, failOn: 'LOW' });
    expect(centos.filtered.dropped.map((d) => [d.reason, d.finding.status])).toEqual([
      ['unfixed', 'will_not_fix'],
    ]);
    expect(centos.result.counts).toMatchObject({ MEDIUM: 1, LOW: 1, total: 2 });
    const distroless = gate('distroless-base.json', { severities: ALL, failOn: 'LOW' });
    expect(distroless.result.failing.map((f) => `${f.id} ${f.pkg} ${f.fixed}`)).toEqual([
      'CVE-2019-1563 libssl1.1 1.1.0l-1~deb9u1',
      'CVE-2019-1563 openssl 1.1.0l-1~deb9u1',
    ]);
    expect(
      isUnfixed({ kind: 'vuln', id: 'x', severity: 'LOW', target: 't', class: 'os-pkgs', title: 't' }),
    ).toBe(true);
  });

  it('with every severity and unfixed counted, every finding of every report counts', () => {
    for (const name of TRIVY_JSON_FIXTURES) {
      const { result } = gate(name, { severities: ALL, ignoreUnfixed: false, failOn: 'none' });
      expect(result.counts.total, name).toBe(findingsFromReport(fixtureReport(name)).length);
      expect(result.failed, name).toBe(false);
    }
  });

  it('fail-on HIGH fails the Dockerfile misconfiguration; the sentence names rule and file', () => {
    const { result } = gate('dockerfile.json', { failOn: 'HIGH' });
    expect(result.failed).toBe(true);
    expect(result.sentence).toBe(
      'The scan failed because 1 finding is at or above fail-on HIGH (1 HIGH: DS-0002 in Dockerfile).',
    );
  });

  it('fail-on none reports without failing (secrets)', () => {
    const { result } = gate('secrets.json', { failOn: 'none' });
    expect(result.failed).toBe(false);
    expect(result.counts).toMatchObject({ CRITICAL: 1, HIGH: 1, total: 2 });
    expect(result.sentence).toBe(
      'The scan passed: fail-on is none, so findings are reported without failing the step (2 findings counted: 1 CRITICAL, 1 HIGH).',
    );
  });

  it('the ignore file takes findings out of the counts and the gate (debian-buster passes)', () => {
    const { result, filtered } = gate('debian-buster.json', { ignores: 'CVE-2019-18224\n' });
    expect(result.failed).toBe(false);
    expect(filtered.dropped.find((d) => d.reason === 'ignored')?.entry?.line).toBe(1);
    expect(result.sentence).toBe(
      'The scan passed: no finding is at or above fail-on CRITICAL (no finding counted; not counted: 1 outside the severity list, 1 ignored by the ignore file).',
    );
  });

  it('an expired ignore entry fails the step, even with fail-on none, and is not applied', () => {
    const { result } = gate('debian-buster.json', {
      ignores: '# old\nCVE-2019-18224 exp:2025-01-01\n',
      failOn: 'none',
    });
    expect(result.failed).toBe(true);
    expect(result.counts.CRITICAL).toBe(1);
    expect(result.sentence).toBe(
      'The scan failed because 1 ignore entry has expired (.trivyignore:2: CVE-2019-18224 expired on 2025-01-01): renew or remove it.',
    );
  });

  it('findings and expired entries together make one sentence', () => {
    const { result } = gate('secrets.json', {
      ignores: 'CVE-0000-0001 exp:2020-01-01\nCVE-0000-0002 exp:2020-02-01\n',
    });
    expect(result.sentence).toBe(
      'The scan failed because 1 finding is at or above fail-on CRITICAL (1 CRITICAL: aws-access-key-id in deploy.sh:3) and ' +
        '2 ignore entries have expired (.trivyignore:1: CVE-0000-0001 expired on 2020-01-01; .trivyignore:2: CVE-0000-0002 expired on 2020-02-01): renew or remove them.',
    );
  });

  it('annotations: an error per failing finding (with file and line for secrets) and per expired entry', () => {
    const { result } = gate('secrets.json', { ignores: 'x exp:2020-01-01' });
    expect(annotations(result, [])).toEqual([
      {
        level: 'error',
        title: 'CRITICAL aws-access-key-id',
        message: 'aws-access-key-id in deploy.sh:3: AWS Access Key ID',
        file: 'deploy.sh',
        startLine: 3,
      },
      {
        level: 'error',
        title: 'Expired ignore entry',
        message: '.trivyignore:1: x expired on 2020-01-01: renew the date or remove the entry',
        file: '.trivyignore',
        startLine: 1,
      },
    ]);
    const image = gate('alpine-39-high-critical.json').result;
    expect(annotations(image, [])[0]).not.toHaveProperty('file');
  });
});

describe('the gate with compose audit findings', () => {
  const dir = new URL('../../../test/fixtures/compose-audit/', import.meta.url);
  const config = parseComposeConfig(readFileSync(new URL('bad.merged.json', dir), 'utf8'));
  const audit = auditCompose(config);
  const none = { findings: [], expired: [], audit };

  it('audit error fails at or above fail-on, only the plaintext secrets at CRITICAL', () => {
    const critical = decideGate({ ...none, failOn: 'CRITICAL', auditMode: 'error' });
    expect(critical.failed).toBe(true);
    expect(critical.failingAudit.map((f) => `${f.id} ${f.service}`)).toEqual([
      'BERTH-C008 db',
      'BERTH-C008 worker',
    ]);
    expect(critical.sentence).toMatch(
      /^The scan failed because 2 compose audit findings are at or above fail-on CRITICAL with audit: error \(BERTH-C008 in service db/,
    );
    const high = decideGate({ ...none, failOn: 'HIGH', auditMode: 'error' });
    expect(high.failingAudit.length).toBe(audit.filter((f) => f.severity !== 'MEDIUM').length);
  });

  it('audit warn never fails; its findings still count in the audit column', () => {
    const warn = decideGate({ ...none, failOn: 'LOW', auditMode: 'warn' });
    expect(warn.failed).toBe(false);
    expect(warn.auditCounts.total).toBe(audit.length);
    expect(warn.counts.total).toBe(0);
    expect(warn.sentence).toBe(
      `The scan passed: no finding is at or above fail-on LOW (no finding counted); ${audit.length} compose audit findings reported as warnings (audit: warn).`,
    );
    expect(annotations(warn, audit).every((a) => a.level === 'warning')).toBe(true);
    // Without the compose files there is nothing to point at.
    expect(annotations(warn, audit)[0]).not.toHaveProperty('file');
  });

  it('the ignore file silences an audit rule; the severity list does not apply to the audit', () => {
    const entries = parseIgnoreFile('misconfigurations:\n  - id: BERTH-C008\n', '.trivyignore.yaml');
    const filtered = filterFindings(audit, {
      severities: ['CRITICAL'],
      ignoreUnfixed: true,
      ignores: entries,
    });
    expect(filtered.kept.some((f) => f.id === 'BERTH-C008')).toBe(false);
    expect(filtered.kept.some((f) => f.severity === 'MEDIUM')).toBe(true);
    expect(
      decideGate({ findings: [], expired: [], audit: filtered.kept, failOn: 'CRITICAL', auditMode: 'error' })
        .failed,
    ).toBe(false);
  });
});

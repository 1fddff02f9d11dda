import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditCompose } from './audit.js';
import { parseComposeConfig } from './compose-service.js';
import { scanCategory } from './category.js';
import { Outputs } from './constants.js';
import { evaluate } from './evaluate.js';
import { gateOutputs, parseGateSettings } from './gate.js';
import { parseIgnoreFile } from './ignore.js';
import { parseTrivyReport } from './report.js';
import { berthAuditTool, sarifLog, trivySarifRun } from './sarif.js';
import { findingsFromReport, fixtureReport, TRIVY_JSON_FIXTURES, validateSarif } from './testing.js';

const NOW = new Date('2025-03-15T00:00:00Z');
const repo = join(import.meta.dirname, '../../..');
const badAudit = auditCompose(
  parseComposeConfig(readFileSync(join(repo, 'test/fixtures/compose-audit/bad.merged.json'), 'utf8')),
);

describe('evaluate', () => {
  it('the report file, the SARIF file, the outputs and the gate agree, for every real report and setting', () => {
    const settingsList = [
      parseGateSettings({}),
      parseGateSettings({
        severity: 'CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN',
        'ignore-unfixed': 'false',
        'fail-on': 'LOW',
      }),
      parseGateSettings({ severity: 'MEDIUM,LOW', 'fail-on': 'none' }),
    ];
    for (const settings of settingsList) {
      for (const name of TRIVY_JSON_FIXTURES) {
        const report = fixtureReport(name);
        const result = evaluate({ reports: [report], ignores: [], settings, now: NOW });
        // What report-file holds, read back as the next tool would.
        const written = parseTrivyReport(JSON.stringify(result.reports[0]!.report), 'report-file');
        expect(findingsFromReport(written), name).toEqual(result.findings);
        const log = sarifLog([
          trivySarifRun(report, result.reports[0]!.kept, scanCategory({ kind: 'fs', path: name })),
        ]);
        expect(validateSarif(log, { requireCategory: true })).toEqual([]);
        expect(log.runs[0]!.results).toHaveLength(result.gate.counts.total);
        const outputs = gateOutputs(result.gate, { reportFile: 'r.json', sarifFile: 'r.sarif' });
        expect(Number(outputs[Outputs.Total])).toBe(result.findings.length);
        expect(outputs[Outputs.Failed]).toBe(String(result.gate.failed));
        expect(
          result.findings.every((f) => settings.severities.includes(f.severity)),
          name,
        ).toBe(true);
      }
    }
  });

  it('adds up several reports (an image and the repository)', () => {
    const result = evaluate({
      reports: [fixtureReport('alpine-39-high-critical.json'), fixtureReport('secrets.json')],
      ignores: [],
      settings: parseGateSettings({}),
      now: NOW,
    });
    expect(result.gate.counts).toMatchObject({ CRITICAL: 3, HIGH: 1, total: 4 });
    expect(result.reports.map((r) => r.kept.length)).toEqual([2, 2]);
    expect(result.gate.failing.map((f) => f.id)).toEqual([
      'CVE-2019-14697',
      'CVE-2019-14697',
      'aws-access-key-id',
    ]);
  });

  it('applies the ignore file to reports and audit alike, and fails on the expired entry', () => {
    const ignores = parseIgnoreFile(
      [
        'vulnerabilities:',
        '  - id: CVE-2019-14697',
        '    purls: [pkg:apk/alpine/musl]',
        'misconfigurations:',
        '  - id: BERTH-C008',
        'secrets:',
        '  - id: mysecret',
        '    expired_at: 2025-01-01',
      ].join('\n'),
      '.trivyignore.yaml',
    );
    const result = evaluate({
      reports: [fixtureReport('alpine-39-high-critical.json'), fixtureReport('secrets.json')],
      audit: badAudit,
      ignores,
      settings: parseGateSettings({ 'fail-on': 'none', audit: 'warn' }),
      now: NOW,
    });
    expect(result.findings.map((f) => `${f.id} ${f.pkg ?? f.file}`)).toEqual([
      'CVE-2019-14697 musl-utils',
      'aws-access-key-id deploy.sh',
      // The expired entry is not applied.
      'mysecret deploy.sh',
    ]);
    expect(result.audit!.some((f) => f.id === 'BERTH-C008')).toBe(false);
    expect(result.dropped.filter((d) => d.reason === 'ignored').map((d) => d.finding.id)).toEqual([
      'CVE-2019-14697',
      'BERTH-C008',
      'BERTH-C008',
    ]);
    expect(result.gate.failed).toBe(true);
    expect(result.gate.sentence).toBe(
      'The scan failed because 1 ignore entry has expired (.trivyignore.yaml:7: mysecret expired on 2025-01-01): renew or remove it.',
    );
    const log = sarifLog([
      trivySarifRun(
        fixtureReport('secrets.json'),
        result.reports[1]!.kept,
        scanCategory({ kind: 'fs', path: '.' }),
      ),
      {
        category: scanCategory({ kind: 'compose', name: 'bad' }),
        tool: berthAuditTool(),
        findings: result.audit!,
      },
    ]);
    expect(validateSarif(log, { requireCategory: true })).toEqual([]);
    expect(log.runs[1]!.results).toHaveLength(result.audit!.length);
  });

  it("names the files of what counts as repository paths, in the gate too; the report keeps Trivy's", () => {
    const result = evaluate({
      reports: [fixtureReport('secrets.json')],
      ignores: [],
      settings: parseGateSettings({}),
      now: NOW,
      repoPrefix: 'services/api',
    });
    expect(result.findings.map((f) => f.file)).toEqual(['services/api/deploy.sh', 'services/api/deploy.sh']);
    expect(result.reports[0]!.kept).toEqual(result.findings);
    expect(result.gate.sentence).toContain('aws-access-key-id in services/api/deploy.sh:3');
    expect(result.reports[0]!.report.Results!.map((r) => r.Target)).toEqual(['deploy.sh']);
  });

  it('audit off: no audit findings, whatever was passed', () => {
    const result = evaluate({
      reports: [],
      audit: badAudit,
      ignores: [],
      settings: parseGateSettings({ audit: 'off', 'fail-on': 'LOW' }),
      now: NOW,
    });
    expect(result.audit).toBeUndefined();
    expect(result.gate.failed).toBe(false);
    expect(result.gate.auditCounts.total).toBe(0);
  });

  it('audit error at fail-on HIGH fails on the bad stack with no image finding', () => {
    const result = evaluate({
      reports: [fixtureReport('alpine-310.json')],
      audit: badAudit,
      ignores: [],
      settings: parseGateSettings({ 'fail-on': 'HIGH' }),
      now: NOW,
    });
    expect(result.gate.failed).toBe(true);
    expect(result.gate.failing).toEqual([]);
    expect(result.gate.failingAudit.length).toBe(badAudit.filter((f) => f.severity !== 'MEDIUM').length);
  });
});

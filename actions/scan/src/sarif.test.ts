import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditCompose } from './audit.js';
import { parseComposeConfig } from './compose-service.js';
import { imageRepository, reportBaseName, scanCategory, type ScanTarget } from './category.js';
import { readComposeSources } from './compose-source.js';
import { filterReport } from './filter.js';
import { SEVERITIES } from './finding.js';
import { artifactUri } from './sarif-results.js';
import { sarifLevel, SECURITY_SEVERITY } from './sarif-rules.js';
import { berthAuditTool, sarifLog, trivySarifRun, type SarifLog } from './sarif.js';
import {
  findingsFromReport,
  fixtureReport,
  fixtureText,
  TRIVY_JSON_FIXTURES,
  validateSarif,
  type TrivyFixture,
} from './testing.js';

const everything = { severities: [...SEVERITIES], ignoreUnfixed: false, ignores: [] };

function sarifFor(name: TrivyFixture, options = everything): SarifLog {
  const report = fixtureReport(name);
  const { kept } = filterReport(report, options);
  const target: ScanTarget =
    report.ArtifactType === 'container_image'
      ? { kind: 'image', ref: report.ArtifactName! }
      : { kind: 'fs', path: report.ArtifactName! };
  // Through JSON, as the file upload-sarif reads.
  return JSON.parse(
    JSON.stringify(sarifLog([trivySarifRun(report, kept, scanCategory(target))])),
  ) as SarifLog;
}

describe('SARIF for every real report', () => {
  it.each(TRIVY_JSON_FIXTURES)('%s: structurally valid, one result per finding, one rule per id', (name) => {
    const log = sarifFor(name);
    expect(validateSarif(log, { requireCategory: true })).toEqual([]);
    const findings = findingsFromReport(fixtureReport(name));
    const [run] = log.runs;
    expect(log.version).toBe('2.1.0');
    expect(run!.results).toHaveLength(findings.length);
    expect(run!.tool.driver.rules.map((r) => r.id)).toEqual([...new Set(findings.map((f) => f.id))]);
    expect(run!.tool.driver).toMatchObject({ name: 'Trivy', version: 'dev' });
    for (const result of run!.results) {
      const rule = run!.tool.driver.rules[result.ruleIndex]!;
      expect(rule.id).toBe(result.ruleId);
      expect(rule.properties.tags).toContain('security');
      expect(result.level).toBe(rule.defaultConfiguration.level);
    }
  });

  it('matches what Trivy itself wrote for alpine-310 (rules, results, levels, locations)', () => {
    const ours = sarifFor('alpine-310.json').runs[0]!;
    const trivys = (JSON.parse(fixtureText('alpine-310.sarif')) as SarifLog).runs[0]!;
    expect(ours.tool.driver.rules.map((r) => [r.id, r.helpUri, r.shortDescription.text])).toEqual(
      trivys.tool.driver.rules.map((r) => [r.id, r.helpUri, r.shortDescription.text]),
    );
    const shape = (run: typeof ours) =>
      run.results.map((r) => [
        r.ruleId,
        r.ruleIndex,
        r.level,
        r.locations[0]!.physicalLocation.artifactLocation.uri,
        r.locations[0]!.message!.text,
        r.locations[0]!.physicalLocation.region.startLine,
      ]);
    expect(shape(ours)).toEqual(shape(trivys));
    expect(shape(ours)[0]).toEqual([
      'CVE-2019-1549',
      0,
      'warning',
      'testdata/fixtures/images/alpine-310.tar.gz',
      'testdata/fixtures/images/alpine-310.tar.gz: libcrypto1.1@1.1.1c-r0',
      1,
    ]);
    expect(ours.properties).toEqual(trivys.properties);
  });

  it("the validator accepts Trivy's own SARIF", () => {
    expect(validateSarif(JSON.parse(fixtureText('alpine-310.sarif')))).toEqual([]);
  });

  it('security-severity and level follow the severity (alpine-39: CRITICAL)', () => {
    const run = sarifFor('alpine-39-high-critical.json').runs[0]!;
    expect(run.tool.driver.rules).toHaveLength(1);
    expect(run.tool.driver.rules[0]).toMatchObject({
      id: 'CVE-2019-14697',
      name: 'OsPackageVulnerability',
      helpUri: 'https://avd.aquasec.com/nvd/cve-2019-14697',
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '9.5', tags: ['security', 'vulnerability', 'CRITICAL'] },
    });
    expect(run.results.map((r) => r.message.text.split('\n').slice(0, 2))).toEqual([
      ['Package: musl', 'Installed Version: 1.1.20-r4'],
      ['Package: musl-utils', 'Installed Version: 1.1.20-r4'],
    ]);
    expect(run.automationDetails.id).toBe('berth-scan/image/testdata/fixtures/images/alpine-39.tar.gz/');
  });

  it('secrets point at the file and line, and never carry the matched text', () => {
    const run = sarifFor('secrets.json').runs[0]!;
    const aws = run.results[0]!;
    expect(aws.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'deploy.sh' },
      region: { startLine: 3, endLine: 3, startColumn: 1, endColumn: 1 },
    });
    expect(aws.level).toBe('error');
    expect(JSON.stringify(run)).not.toContain('AWS_ACCESS_KEY_ID=');
    expect(run.tool.driver.rules[1]).toMatchObject({
      id: 'mysecret',
      properties: { 'security-severity': '8.0' },
      helpUri: 'https://trivy.dev/latest/docs/scanner/secret/',
    });
    expect(run.automationDetails.id).toBe('berth-scan/fs/testdata/fixtures/repo/secrets/');
  });

  it('a misconfiguration without a line points at line 1 of its file', () => {
    const result = sarifFor('dockerfile.json').runs[0]!.results[0]!;
    expect(result).toMatchObject({ ruleId: 'DS-0002', level: 'error' });
    expect(result.locations[0]!.physicalLocation.artifactLocation.uri).toBe('Dockerfile');
    expect(result.locations[0]!.physicalLocation.region.startLine).toBe(1);
  });

  it('with the default filter a clean image still gets a run with no results (closing old alerts)', () => {
    const log = sarifFor('alpine-310.json', {
      severities: ['CRITICAL', 'HIGH'],
      ignoreUnfixed: true,
      ignores: [],
    });
    expect(log.runs[0]!.results).toEqual([]);
    expect(log.runs[0]!.tool.driver.rules).toEqual([]);
    expect(validateSarif(log, { requireCategory: true })).toEqual([]);
  });

  it('fingerprints are stable and tell packages apart', () => {
    const a = sarifFor('ubuntu-1804.json').runs[0]!.results.map(
      (r) => r.partialFingerprints['berthFindingHash/v1'],
    );
    const b = sarifFor('ubuntu-1804.json').runs[0]!.results.map(
      (r) => r.partialFingerprints['berthFindingHash/v1'],
    );
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });
});

describe('SARIF with the compose audit', () => {
  const repo = join(import.meta.dirname, '../../..');
  const dir = 'test/fixtures/compose-audit';
  const sources = readComposeSources(
    [`${dir}/docker-compose.bad.yml`, `${dir}/docker-compose.bad.override.yml`],
    repo,
  );
  const config = parseComposeConfig(readFileSync(join(repo, dir, 'bad.merged.json'), 'utf8'));
  const audit = auditCompose(config, { sources, docsUrl: 'https://example.test/berth/README.md' });
  const image = fixtureReport('debian-buster.json');
  const imageFindings = filterReport(image, everything).kept;
  const log = sarifLog([
    trivySarifRun(
      image,
      imageFindings,
      scanCategory({ kind: 'image', ref: 'localhost:5000/acme/api@sha256:' + 'a'.repeat(64) }),
    ),
    {
      category: scanCategory({ kind: 'compose', name: 'bad' }),
      tool: berthAuditTool('0.1.0'),
      findings: audit,
    },
  ]);

  it('is valid, with one category per run', () => {
    expect(validateSarif(log, { requireCategory: true })).toEqual([]);
    expect(log.runs.map((r) => r.automationDetails.id)).toEqual([
      'berth-scan/image/acme/api/',
      'berth-scan/compose/bad/',
    ]);
  });

  it('audit results point at the compose file and line, with the rule described in general', () => {
    const run = log.runs[1]!;
    expect(run.tool.driver.name).toBe('Berth compose audit');
    expect(run.tool.driver.rules.map((r) => r.id).sort()).toEqual(
      [...new Set(audit.map((f) => f.id))].sort(),
    );
    const c008 = run.tool.driver.rules.find((r) => r.id === 'BERTH-C008')!;
    expect(c008).toMatchObject({
      shortDescription: { text: 'No secrets as literal values in environment' },
      helpUri: 'https://example.test/berth/README.md#berth-c008',
      properties: { 'security-severity': '9.5', tags: ['security', 'compose-audit', 'CRITICAL'] },
    });
    const worker = run.results.find((r) => r.ruleId === 'BERTH-C009' && r.properties?.service === 'worker')!;
    expect(worker.locations[0]!.physicalLocation).toMatchObject({
      artifactLocation: { uri: `${dir}/docker-compose.bad.override.yml` },
      region: { startLine: 8 },
    });
    expect(worker.message.text).toMatch(
      /^Service worker \(on no frontend network\) publishes 8081 on all interfaces\. Remove/,
    );
    const readOnly = run.tool.driver.rules.find((r) => r.id === 'BERTH-C007')!;
    expect(readOnly.defaultConfiguration.level).toBe('warning');
    expect(JSON.stringify(run)).not.toMatch(/placeholder/);
  });

  it('refuses two runs with one category', () => {
    const category = scanCategory({ kind: 'image', ref: 'acme/api:1' });
    expect(() =>
      sarifLog([
        { category, tool: berthAuditTool(), findings: [] },
        { category, tool: berthAuditTool(), findings: [] },
      ]),
    ).toThrow('two SARIF runs share the category berth-scan/image/acme/api/');
  });
});

describe('validateSarif catches what GitHub would reject', () => {
  const valid = () => JSON.parse(JSON.stringify(sarifFor('alpine-310.json'))) as SarifLog;

  it('reports each problem with its place', () => {
    const log = valid();
    const run = log.runs[0]!;
    run.results[0]!.ruleIndex = 1;
    run.results[1]!.ruleId = 'CVE-0000-0000';
    (run.results[2]! as { message: unknown }).message = {};
    run.results[3]!.locations[0]!.physicalLocation.artifactLocation.uri = '';
    run.results[3]!.locations[0]!.physicalLocation.region.startLine = 0;
    run.tool.driver.rules[0]!.properties['security-severity'] = 'high';
    run.tool.driver.rules[1]!.helpUri = 'not a uri';
    expect(validateSarif(log)).toEqual([
      'runs[0].tool.driver.rules[0].properties.security-severity "high" is not a number 0-10 in a string',
      'runs[0].tool.driver.rules[1].helpUri is not an absolute URI',
      'runs[0].results[0].ruleIndex 1 does not point at rule CVE-2019-1549',
      'runs[0].results[1].ruleId "CVE-0000-0000" is not among the run\'s rules',
      'runs[0].results[1].ruleIndex 1 does not point at rule CVE-0000-0000',
      'runs[0].results[2].message.text is missing',
      'runs[0].results[3].locations[0].physicalLocation.artifactLocation.uri is missing',
      'runs[0].results[3].locations[0].physicalLocation.region.startLine is not a line number',
    ]);
  });

  it('rule ids must be unique', () => {
    const log = valid();
    const rules = log.runs[0]!.tool.driver.rules;
    rules.push({ ...rules[0]! });
    expect(validateSarif(log)).toEqual(['runs[0].tool.driver.rules[2].id CVE-2019-1549 is not unique']);
  });

  it('version, runs, categories', () => {
    expect(validateSarif({ version: '2.0.0', runs: [] })).toEqual(['version is "2.0.0", not "2.1.0"']);
    expect(validateSarif({ version: '2.1.0' })).toEqual(['runs is not an array']);
    const log = valid();
    delete (log.runs[0] as { automationDetails?: unknown }).automationDetails;
    expect(validateSarif(log)).toEqual([]);
    expect(validateSarif(log, { requireCategory: true })).toEqual([
      'runs[0].automationDetails.id is missing',
    ]);
    const twice = valid();
    twice.runs.push(twice.runs[0]!);
    expect(validateSarif(twice)).toEqual([
      "runs[1].automationDetails.id berth-scan/image/testdata/fixtures/images/alpine-310.tar.gz/ repeats another run's",
    ]);
    const noLocation = valid();
    noLocation.runs[0]!.results[0]!.locations = [];
    expect(validateSarif(noLocation)).toEqual([
      'runs[0].results[0].locations is empty (code scanning needs one)',
    ]);
  });
});

describe('names and levels', () => {
  it('scanCategory: stable per image whatever registry, tag or digest; per path; per stack', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(scanCategory({ kind: 'image', ref: `localhost:5000/acme/api@${digest}` })).toBe(
      'berth-scan/image/acme/api/',
    );
    expect(scanCategory({ kind: 'image', ref: 'ghcr.io/acme/api:1.2.3' })).toBe('berth-scan/image/acme/api/');
    expect(scanCategory({ kind: 'image', ref: 'postgres:16' })).toBe('berth-scan/image/postgres/');
    expect(scanCategory({ kind: 'fs', path: '.' })).toBe('berth-scan/fs/root/');
    expect(scanCategory({ kind: 'fs', path: './services/api/' })).toBe('berth-scan/fs/services/api/');
    expect(scanCategory({ kind: 'compose', name: 'shop prod' })).toBe('berth-scan/compose/shop-prod/');
    expect(reportBaseName({ kind: 'image', ref: 'ghcr.io/acme/api:1' })).toBe('berth-scan-image-acme-api');
  });

  it('imageRepository: as Trivy names images in SARIF', () => {
    expect(imageRepository('ghcr.io/acme/api:1.2 (debian 12.5)')).toBe('acme/api');
    expect(imageRepository('alpine:3.10 (alpine 3.10.2)')).toBe('library/alpine');
    expect(imageRepository('not a ref')).toBe('not a ref');
  });

  it('artifactUri: language packages point at their file', () => {
    const [f] = findingsFromReport(fixtureReport('alpine-310.json'));
    expect(artifactUri({ ...f!, class: 'lang-pkgs', pkgPath: 'app/node_modules/x/package.json' })).toBe(
      'app/node_modules/x/package.json',
    );
    expect(artifactUri({ ...f!, class: 'lang-pkgs', target: 'Pipfile.lock' })).toBe('Pipfile.lock');
  });

  it('levels and scores', () => {
    expect(SEVERITIES.map(sarifLevel)).toEqual(['note', 'note', 'warning', 'error', 'error']);
    expect(SEVERITIES.map((s) => SECURITY_SEVERITY[s])).toEqual([undefined, '2.0', '5.5', '8.0', '9.5']);
  });
});

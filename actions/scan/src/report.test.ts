import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countBySeverity } from './filter.js';
import { parseTrivyReport, readTrivyReport, ReportError, type TrivyReport } from './report.js';
import {
  findingsFromReport,
  fixturePath,
  fixtureReport,
  fixtureText,
  TRIVY_FIXTURES,
  TRIVY_JSON_FIXTURES,
  type TrivyFixture,
} from './testing.js';

/** kind, id, severity, package (or file), installed (or line), fixed, status: read off the files with jq. */
type Row = [
  string,
  string,
  string,
  string | undefined,
  string | number | undefined,
  string | undefined,
  string | undefined,
];

const EXPECTED: Record<TrivyFixture, { target: string; rows: Row[] }> = {
  'alpine-310.json': {
    target: 'testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)',
    rows: [
      ['vuln', 'CVE-2019-1549', 'MEDIUM', 'libcrypto1.1', '1.1.1c-r0', '1.1.1d-r0', 'fixed'],
      ['vuln', 'CVE-2019-1551', 'MEDIUM', 'libcrypto1.1', '1.1.1c-r0', '1.1.1d-r2', 'fixed'],
      ['vuln', 'CVE-2019-1549', 'MEDIUM', 'libssl1.1', '1.1.1c-r0', '1.1.1d-r0', 'fixed'],
      ['vuln', 'CVE-2019-1551', 'MEDIUM', 'libssl1.1', '1.1.1c-r0', '1.1.1d-r2', 'fixed'],
    ],
  },
  'alpine-39-high-critical.json': {
    target: 'testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4)',
    rows: [
      ['vuln', 'CVE-2019-14697', 'CRITICAL', 'musl', '1.1.20-r4', '1.1.20-r5', 'fixed'],
      ['vuln', 'CVE-2019-14697', 'CRITICAL', 'musl-utils', '1.1.20-r4', '1.1.20-r5', 'fixed'],
    ],
  },
  'centos-7.json': {
    target: 'testdata/fixtures/images/centos-7.tar.gz (centos 7.6.1810)',
    rows: [
      ['vuln', 'CVE-2019-18276', 'LOW', 'bash', '4.2.46-31.el7', undefined, 'will_not_fix'],
      ['vuln', 'CVE-2019-1559', 'MEDIUM', 'openssl-libs', '1:1.0.2k-16.el7', '1:1.0.2k-19.el7', 'fixed'],
      ['vuln', 'CVE-2018-0734', 'LOW', 'openssl-libs', '1:1.0.2k-16.el7', '1:1.0.2k-19.el7', 'fixed'],
    ],
  },
  'debian-buster-ignore-unfixed.json': {
    target: 'testdata/fixtures/images/debian-buster.tar.gz (debian 10.1)',
    rows: [['vuln', 'CVE-2019-18224', 'CRITICAL', 'libidn2-0', '2.0.5-1', '2.0.5-1+deb10u1', 'fixed']],
  },
  'debian-buster.json': {
    target: 'testdata/fixtures/images/debian-buster.tar.gz (debian 10.1)',
    rows: [
      ['vuln', 'CVE-2019-18276', 'LOW', 'bash', '5.0-4', undefined, 'affected'],
      ['vuln', 'CVE-2019-18224', 'CRITICAL', 'libidn2-0', '2.0.5-1', '2.0.5-1+deb10u1', 'fixed'],
    ],
  },
  'distroless-base.json': {
    target: 'testdata/fixtures/images/distroless-base.tar.gz (debian 9.9)',
    rows: [
      ['vuln', 'CVE-2019-1551', 'MEDIUM', 'libssl1.1', '1.1.0k-1~deb9u1', undefined, 'affected'],
      ['vuln', 'CVE-2019-1563', 'LOW', 'libssl1.1', '1.1.0k-1~deb9u1', '1.1.0l-1~deb9u1', 'fixed'],
      ['vuln', 'CVE-2019-1551', 'MEDIUM', 'openssl', '1.1.0k-1~deb9u1', undefined, 'affected'],
      ['vuln', 'CVE-2019-1563', 'LOW', 'openssl', '1.1.0k-1~deb9u1', '1.1.0l-1~deb9u1', 'fixed'],
    ],
  },
  'dockerfile.json': {
    target: 'Dockerfile',
    rows: [['misconfig', 'DS-0002', 'HIGH', 'Dockerfile', undefined, undefined, undefined]],
  },
  'secrets.json': {
    target: 'deploy.sh',
    rows: [
      ['secret', 'aws-access-key-id', 'CRITICAL', 'deploy.sh', 3, undefined, undefined],
      ['secret', 'mysecret', 'HIGH', 'deploy.sh', 7, undefined, undefined],
    ],
  },
  'ubuntu-1804.json': {
    target: 'testdata/fixtures/images/ubuntu-1804.tar.gz (ubuntu 18.04)',
    rows: [
      ['vuln', 'CVE-2019-18276', 'LOW', 'bash', '4.4.18-2ubuntu1.2', undefined, 'affected'],
      ['vuln', 'CVE-2019-5094', 'MEDIUM', 'e2fsprogs', '1.44.1-1ubuntu1.1', '1.44.1-1ubuntu1.2', 'fixed'],
      ['vuln', 'CVE-2019-5094', 'MEDIUM', 'libcom-err2', '1.44.1-1ubuntu1.1', '1.44.1-1ubuntu1.2', 'fixed'],
      ['vuln', 'CVE-2019-5094', 'MEDIUM', 'libext2fs2', '1.44.1-1ubuntu1.1', '1.44.1-1ubuntu1.2', 'fixed'],
      ['vuln', 'CVE-2019-5094', 'MEDIUM', 'libss2', '1.44.1-1ubuntu1.1', '1.44.1-1ubuntu1.2', 'fixed'],
    ],
  },
};

describe('the Trivy fixtures', () => {
  it('are all covered by these tests (a new report there needs its facts here)', () => {
    const reports = readdirSync(TRIVY_FIXTURES).filter((f) => /\.(json|sarif)$/.test(f));
    expect(reports.sort()).toEqual([...TRIVY_JSON_FIXTURES, 'alpine-310.sarif'].sort());
  });
});

describe.each(TRIVY_JSON_FIXTURES)('parseTrivyReport + findingsFromReport: %s', (name) => {
  const report = fixtureReport(name);
  const findings = findingsFromReport(report);
  const expected = EXPECTED[name];

  it('reads every finding with its id, severity, package, versions and status', () => {
    const rows = findings.map((f): Row =>
      f.kind === 'vuln'
        ? [f.kind, f.id, f.severity, f.pkg, f.installed, f.fixed, f.status]
        : [f.kind, f.id, f.severity, f.file, f.line, undefined, undefined],
    );
    expect(rows).toEqual(expected.rows);
    expect(new Set(findings.map((f) => f.target))).toEqual(new Set([expected.target]));
  });

  it('counts by severity as the rows do', () => {
    const counts = countBySeverity(findings);
    for (const severity of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const) {
      expect(counts[severity], severity).toBe(expected.rows.filter((r) => r[2] === severity).length);
    }
    expect(counts.total).toBe(expected.rows.length);
  });

  it('reads the same from the file as from its text', () => {
    expect(readTrivyReport(fixturePath(name))).toEqual(report);
  });
});

describe('finding details from the fixtures', () => {
  it('vulnerabilities keep their advisory link, purl and class', () => {
    const [first] = findingsFromReport(fixtureReport('alpine-310.json'));
    expect(first).toMatchObject({
      title: 'openssl: information disclosure in fork()',
      url: 'https://avd.aquasec.com/nvd/cve-2019-1549',
      purl: 'pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2',
      class: 'os-pkgs',
      type: 'alpine',
    });
  });

  it('an advisory without a title gets the first sentence of its description', () => {
    const [musl] = findingsFromReport(fixtureReport('alpine-39-high-critical.json'));
    expect(musl!.title).toBe(
      'musl libc through 1.1.23 has an x87 floating-point stack adjustment imbalance, related to the math/i386/ directory.',
    );
  });

  it('a misconfiguration keeps its title, resolution and link; it has no line in this report', () => {
    const [ds] = findingsFromReport(fixtureReport('dockerfile.json'));
    expect(ds).toMatchObject({
      kind: 'misconfig',
      title: "Image user should not be 'root'",
      remediation: "Add 'USER <non root user name>' line to the Dockerfile",
      url: 'https://avd.aquasec.com/misconfig/ds-0002',
      class: 'config',
      type: 'dockerfile',
    });
    expect(ds!.line).toBeUndefined();
  });

  it('a secret keeps its rule title and lines, and only the masked match', () => {
    const [aws, custom] = findingsFromReport(fixtureReport('secrets.json'));
    expect(aws).toMatchObject({ title: 'AWS Access Key ID', line: 3, endLine: 3, class: 'secret' });
    expect(aws!.description).toBe('export AWS_ACCESS_KEY_ID=********************');
    expect(custom).toMatchObject({ title: 'My Secret', line: 7 });
  });

  it('passed misconfiguration checks (--include-non-failures) are not findings', () => {
    const report = JSON.parse(fixtureText('dockerfile.json')) as TrivyReport;
    const passed = { ...report.Results![0]!.Misconfigurations![0]!, ID: 'DS-0001', Status: 'PASS' };
    report.Results![0]!.Misconfigurations!.push(passed);
    expect(findingsFromReport(report).map((f) => f.id)).toEqual(['DS-0002']);
  });
});

describe('parseTrivyReport errors', () => {
  const bad = (text: string) => () => parseTrivyReport(text, 'scan.json');

  it('says when the file is SARIF (the real alpine-310.sarif) rather than Trivy JSON', () => {
    expect(() => parseTrivyReport(fixtureText('alpine-310.sarif'), 'alpine-310.sarif')).toThrow(
      'alpine-310.sarif: this is SARIF, not Trivy JSON; run trivy with --format json',
    );
  });

  it('names the file and the problem', () => {
    expect(bad('{')).toThrow(ReportError);
    expect(bad('{')).toThrow(/^scan\.json: not valid JSON/);
    expect(bad('[]')).toThrow('scan.json: not a Trivy JSON report (the top level is not an object)');
    expect(bad('{"SchemaVersion": 1}')).toThrow(/SchemaVersion 1; expected SchemaVersion 2/);
    expect(bad('{"Results": []}')).toThrow(/no SchemaVersion/);
    expect(bad('{"SchemaVersion": 2, "Results": {}}')).toThrow('scan.json: Results is not an array');
    expect(bad('{"SchemaVersion": 2, "Results": [{}]}')).toThrow('scan.json: Results[0].Target is missing');
    expect(
      bad('{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [{"PkgName": "a"}]}]}'),
    ).toThrow('scan.json: Results[0].Vulnerabilities[0].VulnerabilityID is missing or not a string');
    expect(bad('{"SchemaVersion": 2, "Results": [{"Target": "x", "Secrets": "no"}]}')).toThrow(
      'scan.json: Results[0].Secrets is not an array',
    );
  });

  it('accepts a clean scan: no Results, or null lists', () => {
    expect(findingsFromReport(parseTrivyReport('{"SchemaVersion": 2}'))).toEqual([]);
    const nulls = '{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": null}]}';
    expect(findingsFromReport(parseTrivyReport(nulls))).toEqual([]);
  });

  it('a missing file is a clear error', () => {
    expect(() => readTrivyReport('/nonexistent/report.json')).toThrow(
      /cannot read the Trivy report \/nonexistent\/report\.json/,
    );
  });
});

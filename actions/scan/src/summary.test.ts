import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditCompose } from './audit.js';
import { parseComposeConfig } from './compose-service.js';
import { readComposeSources } from './compose-source.js';
import { filterReport } from './filter.js';
import { decideGate, parseGateSettings, type GateSettings } from './gate.js';
import { parseIgnoreFile, partitionIgnores } from './ignore.js';
import { tableCell as cell } from '../../../lib/action/summary.js';
import { summaryMarkdown } from './summary.js';
import { fixtureReport, type TrivyFixture } from './testing.js';

const repo = join(import.meta.dirname, '../../..');
const dir = 'test/fixtures/compose-audit';

function summary(
  name: TrivyFixture,
  raw: Parameters<typeof parseGateSettings>[0] = {},
  extra: { ignores?: string; audit?: boolean; maxRows?: number } = {},
) {
  const settings: GateSettings = parseGateSettings(raw);
  const entries = extra.ignores ? parseIgnoreFile(extra.ignores, '.trivyignore') : [];
  const { active, expired } = partitionIgnores(entries, new Date('2025-03-15T00:00:00Z'));
  const filtered = filterReport(fixtureReport(name), { ...settings, ignores: active });
  let audit;
  if (extra.audit) {
    const sources = readComposeSources(
      [`${dir}/docker-compose.bad.yml`, `${dir}/docker-compose.bad.override.yml`],
      repo,
    );
    const config = parseComposeConfig(readFileSync(join(repo, dir, 'bad.merged.json'), 'utf8'));
    audit = auditCompose(config, { sources });
  }
  const gate = decideGate({
    findings: filtered.kept,
    audit: audit ?? [],
    expired,
    failOn: settings.failOn,
    auditMode: settings.audit,
    dropped: filtered.dropped,
  });
  const markdown = summaryMarkdown({
    title: 'ghcr.io/acme/api:1.0',
    gate,
    settings: { ...settings, ignoreFile: extra.ignores ? '.trivyignore' : undefined },
    audit,
    dropped: filtered.dropped,
    maxRows: extra.maxRows,
  });
  return { markdown, gate };
}

describe('summaryMarkdown', () => {
  it('a failed image scan: the sentence, the counts and the vulnerabilities that failed the gate', () => {
    const { markdown, gate } = summary('alpine-39-high-critical.json');
    expect(markdown).toBe(
      [
        '### berth/scan: `ghcr.io/acme/api:1.0`',
        '',
        `❌ ${gate.sentence}`,
        '',
        '| Severity | Findings |',
        '| --- | --- |',
        '| CRITICAL | 2 |',
        '| HIGH | 0 |',
        '| MEDIUM | 0 |',
        '| LOW | 0 |',
        '| UNKNOWN | 0 |',
        '| **Total** | **2** |',
        '',
        'severity CRITICAL,HIGH · fail-on CRITICAL · unfixed vulnerabilities ignored · no ignore file · audit error',
        '',
        '#### Findings at or above CRITICAL',
        '',
        '| Severity | Vulnerability | Package | Installed -> Fixed | Target |',
        '| --- | --- | --- | --- | --- |',
        '| CRITICAL | [CVE-2019-14697](https://avd.aquasec.com/nvd/cve-2019-14697) | `musl` | 1.1.20-r4 -> 1.1.20-r5 | testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4) |',
        '| CRITICAL | [CVE-2019-14697](https://avd.aquasec.com/nvd/cve-2019-14697) | `musl-utils` | 1.1.20-r4 -> 1.1.20-r5 | testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4) |',
        '',
      ].join('\n'),
    );
  });

  it('has exactly one sentence saying why, on its own line', () => {
    for (const name of ['alpine-310.json', 'secrets.json', 'centos-7.json'] as const) {
      const { markdown, gate } = summary(name);
      const verdicts = markdown.split('\n').filter((line) => /^(✅|❌) The scan /.test(line));
      expect(verdicts, name).toEqual([`${gate.failed ? '❌' : '✅'} ${gate.sentence}`]);
    }
  });

  it('a passed scan says what was not counted', () => {
    const { markdown } = summary('ubuntu-1804.json');
    expect(markdown).toContain(
      '✅ The scan passed: no finding is at or above fail-on CRITICAL (no finding counted; not counted: 5 outside the severity list).',
    );
    expect(markdown).toContain(
      'Not counted: 5 outside the severity list, 0 without a fix, 0 ignored by the ignore file.',
    );
    expect(markdown).not.toContain('####');
  });

  it('secrets and misconfigurations show rule id, file and line', () => {
    const secrets = summary('secrets.json', { 'fail-on': 'HIGH' }).markdown;
    expect(secrets).toContain('| Severity | Rule | Kind | Where | Title |');
    expect(secrets).toContain(
      '| CRITICAL | aws-access-key-id | secret | `deploy.sh:3` | AWS Access Key ID |',
    );
    expect(secrets).toContain('| HIGH | mysecret | secret | `deploy.sh:7` | My Secret |');
    const dockerfile = summary('dockerfile.json', { 'fail-on': 'HIGH' }).markdown;
    expect(dockerfile).toContain(
      "| HIGH | [DS-0002](https://avd.aquasec.com/misconfig/ds-0002) | misconfiguration | `Dockerfile` | Image user should not be 'root' |",
    );
  });

  it('lists expired ignore entries with file and line', () => {
    const { markdown } = summary(
      'alpine-310.json',
      {},
      { ignores: 'CVE-2019-1549\nCVE-2019-1551 exp:2025-01-01\n' },
    );
    expect(markdown).toContain(
      '#### Expired ignore entries\n\n- `.trivyignore:2: CVE-2019-1551 expired on 2025-01-01`',
    );
    expect(markdown).toContain('ignore file `.trivyignore`');
  });

  it('the compose audit: a column of counts and a table marking what fails the step', () => {
    const { markdown, gate } = summary(
      'debian-buster-ignore-unfixed.json',
      { 'fail-on': 'CRITICAL' },
      { audit: true },
    );
    expect(markdown).toContain('| Severity | Findings | Compose audit |');
    expect(markdown).toContain('| CRITICAL | 1 | 2 |');
    expect(markdown).toContain(`| **Total** | **1** | **${gate.auditCounts.total}** |`);
    expect(markdown).toContain(
      '#### Compose audit (❌ fails the step at or above CRITICAL, ⚠️ reported only)',
    );
    expect(markdown).toContain(
      `| ❌ | CRITICAL | BERTH-C008 | \`db\` | \`${dir}/docker-compose.bad.override.yml:5\` | Service db sets POSTGRES_PASSWORD to a literal value in environment (value not shown) |`,
    );
    expect(markdown).toContain(
      `| ⚠️ | MEDIUM | BERTH-C007 | \`cache\` | \`${dir}/docker-compose.bad.yml:25\` |`,
    );
    expect(markdown).not.toMatch(/placeholder/);
  });

  it('audit warn, off, and a stack that passes', () => {
    expect(summary('alpine-310.json', { audit: 'warn' }, { audit: true }).markdown).toContain(
      '#### Compose audit (audit: warn, reported only)',
    );
    const off = summary('alpine-310.json', { audit: 'off' }, { audit: true }).markdown;
    expect(off).not.toContain('Compose audit');
    const clean = summaryMarkdown({
      ...summaryInput(),
      audit: [],
    });
    expect(clean).toContain('#### Compose audit\n\nEvery rule passed.');
  });

  it('long lists stop at maxRows', () => {
    const { markdown } = summary(
      'ubuntu-1804.json',
      { severity: 'MEDIUM', 'fail-on': 'MEDIUM' },
      { maxRows: 2 },
    );
    expect(markdown.match(/\| MEDIUM \| \[CVE-2019-5094\]/g)).toHaveLength(2);
    expect(markdown).toContain('_and 2 more (see the JSON report and the SARIF file)_');
  });

  it('cell() keeps a row intact', () => {
    expect(cell('a | b\n c')).toBe('a \\| b c');
    expect(cell(undefined)).toBe('');
  });
});

function summaryInput() {
  const settings = parseGateSettings({});
  const gate = decideGate({
    findings: [],
    audit: [],
    expired: [],
    failOn: settings.failOn,
    auditMode: settings.audit,
  });
  return { title: 'x', gate, settings };
}

// berth/scan's monitoring checks through the runner harness: promtool and amtool installed from the
// lab's release server (Debian's binaries packaged as upstream's Prometheus and Alertmanager releases,
// scripts/lab/prometheus-release.sh) through the checksum-verified installer, the configs found in the
// compose stack (and `monitoring-configs`), and what the tools reject as findings with file and line in
// the SARIF file, the summary and the gate. Fixtures: test/fixtures/monitoring/.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { monitoringAssets } from '../actions/scan/src/monitoring-install.js';
import type { SarifLog } from '../actions/scan/src/sarif.js';
import { validateSarif } from '../actions/scan/src/testing.js';
import { runAction, type ActionResult, type RunOptions } from '../scripts/lab/harness.js';
import { readLab, readMonitoringLab } from '../scripts/lab/lab.js';
import { releaseGetsDuring } from '../scripts/lab/releases.js';

const lab = readLab();
const monitoring = readMonitoringLab();
const work = mkdtempSync(join(tmpdir(), 'berth-scan-monitoring-'));
/** One tool cache for the file, as on a runner: only the first run that needs a tool downloads it. */
const toolCache = join(work, 'tool-cache');
mkdirSync(toolCache);
const dir = 'test/fixtures/monitoring';
const promtool = monitoringAssets('promtool', monitoring.prometheusVersion);
const amtool = monitoringAssets('amtool', monitoring.alertmanagerVersion);

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run extends ActionResult {
  /** the release server's GETs under /prometheus/ during the run (file names) */
  monitoringGets: string[];
}

async function scan(inputs: RunOptions['inputs'], downloadUrl = monitoring.downloadUrl): Promise<Run> {
  const { result, gets } = await releaseGetsDuring(downloadUrl, () =>
    runAction('scan', {
      toolCache,
      inputs: {
        'scan-type': 'config',
        'trivy-download-url': lab.trivyDownloadUrl,
        'prometheus-version': monitoring.prometheusVersion,
        'alertmanager-version': monitoring.alertmanagerVersion,
        'monitoring-download-url': downloadUrl,
        ...inputs,
      },
    }),
  );
  return { ...result, monitoringGets: gets };
}

const sarifOf = (r: Run) => JSON.parse(readFileSync(r.outputs['sarif-file']!, 'utf8')) as SarifLog;
const monitoringRun = (log: SarifLog) =>
  log.runs.find((x) => x.automationDetails.id.startsWith('berth-scan/monitoring/'));

describe('berth/scan: monitoring configs', () => {
  it('a valid stack: installs promtool and amtool checksum-verified, checks what the stack mounts, no finding', async () => {
    const r = await scan({
      'scan-ref': `${dir}/valid`,
      'compose-files': `${dir}/valid/docker-compose.yml`,
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.monitoringGets.sort()).toEqual(
      [
        `prometheus/releases/download/v${monitoring.prometheusVersion}/${promtool.archive}`,
        `prometheus/releases/download/v${monitoring.prometheusVersion}/sha256sums.txt`,
        `alertmanager/releases/download/v${monitoring.alertmanagerVersion}/${amtool.archive}`,
        `alertmanager/releases/download/v${monitoring.alertmanagerVersion}/sha256sums.txt`,
      ].sort(),
    );
    expect(r.log).toContain(`${promtool.archive}: SHA-256 `);
    expect(r.log).toMatch(
      new RegExp(`${amtool.archive.replaceAll('.', '\\.')}: SHA-256 [0-9a-f]{64} matches sha256sums\\.txt`),
    );
    // The config and the Alertmanager config through the stack; the rule file through rule_files'
    // container path and the rule directory's mount.
    for (const line of [
      `${dir}/valid/prometheus/prometheus.yml: a valid Prometheus config (mounted into service prometheus)`,
      `${dir}/valid/prometheus/rules/alerts.yml: a valid Prometheus rule file (mounted into service prometheus)`,
      `${dir}/valid/alertmanager/alertmanager.yml: a valid Alertmanager config (mounted into service alertmanager)`,
    ]) {
      expect(r.log).toContain(line);
    }
    expect(r.summary).toContain(
      '#### Monitoring configs\n\nEvery check passed (3 files checked with promtool and amtool).',
    );
    expect(r.summary).toContain('#### Compose audit\n\nEvery rule passed.');
    expect(r.summary).toContain(
      `promtool ${monitoring.prometheusVersion} (downloaded and checksum-verified)`,
    );
    const sarif = sarifOf(r);
    expect(validateSarif(sarif, { requireCategory: true })).toEqual([]);
    expect(sarif.runs.map((x) => [x.automationDetails.id, x.results.length])).toEqual([
      [`berth-scan/config/${dir}/valid/`, 0],
      ['berth-scan/compose/monitoring-valid/', 0],
      ['berth-scan/monitoring/monitoring-valid/', 0],
    ]);
  });

  it('a broken rule file and a broken Alertmanager route: findings with file and line, and the gate fails', async () => {
    const inputs = {
      'scan-ref': `${dir}/broken`,
      'compose-files': `${dir}/broken/docker-compose.yml`,
      'monitoring-configs': `${dir}/broken/alertmanager.yml`,
    };
    const r = await scan(inputs);
    expect(r.exitCode, r.log).toBe(1);
    // Both tools came from the tool cache this time.
    expect(r.monitoringGets).toEqual([]);
    expect(r.errors.at(-1)).toBe(
      'The scan failed because 2 monitoring config findings are at or above fail-on CRITICAL with audit: error ' +
        `(BERTH-M003 in ${dir}/broken/alertmanager.yml:8; BERTH-M002 in ${dir}/broken/rules/alert_rules.yml:11).`,
    );
    const results = monitoringRun(sarifOf(r))!.results.map((x) => [
      x.ruleId,
      x.level,
      x.locations[0]!.physicalLocation.artifactLocation.uri,
      x.locations[0]!.physicalLocation.region.startLine,
    ]);
    expect(results).toEqual([
      ['BERTH-M004', 'warning', `${dir}/broken/prometheus.yml`, 5],
      ['BERTH-M003', 'error', `${dir}/broken/alertmanager.yml`, 8],
      ['BERTH-M002', 'error', `${dir}/broken/rules/alert_rules.yml`, 11],
    ]);
    const messages = monitoringRun(sarifOf(r))!.results.map((x) => x.message.text);
    expect(messages[1]).toMatch(
      /^Alertmanager config rejected by amtool: undefined receiver "chat" used in route\./,
    );
    expect(messages[2]).toMatch(
      /^Prometheus rule file rejected by promtool: group "berth", rule 2, "HighErrorRatio": annotation "summary": template: .*unclosed action\./,
    );
    expect(r.summary).toContain(
      '#### Monitoring configs (❌ fails the step at or above CRITICAL, ⚠️ reported only)',
    );
    expect(r.summary).toContain(`| ❌ | CRITICAL | BERTH-M003 | \`${dir}/broken/alertmanager.yml:8\` |`);
    expect(r.summary).toContain(
      `| ❌ | CRITICAL | BERTH-M002 | \`${dir}/broken/rules/alert_rules.yml:11\` |`,
    );
    expect(r.summary).toContain(`| ⚠️ | MEDIUM | BERTH-M004 | \`${dir}/broken/prometheus.yml:5\` |`);
    // Annotations on the lines, tool output as one line each.
    expect(r.errors).toContainEqual(expect.stringMatching(/undefined receiver "chat"/));

    // The same with audit: warn reports without failing.
    const warn = await scan({ ...inputs, audit: 'warn' });
    expect(warn.exitCode, warn.log).toBe(0);
    expect(warn.errors).toEqual([]);
    expect(warn.warnings).toHaveLength(3);
    expect(warn.outputs.failed).toBe('false');
  });

  it('no monitoring config: nothing is downloaded or installed', async () => {
    const r = await scan(
      { 'scan-ref': `${dir}/valid/prometheus/rules` },
      `${lab.releasesUrl}/berth-test-none`,
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.monitoringGets).toEqual([]);
    expect(r.summary).not.toContain('Monitoring configs');
    expect(r.summary).not.toContain('promtool');
  });

  it('a tampered promtool archive fails the step clearly, before it is unpacked', async () => {
    // A copy of the release whose archive holds another promtool, served with the genuine sha256sums.txt.
    const mirror = mkdtempSync(join(lab.releasesDir, 'berth-test-monitoring-'));
    try {
      const rel = `prometheus/releases/download/v${monitoring.prometheusVersion}`;
      const genuine = join(lab.releasesDir, new URL(monitoring.downloadUrl).pathname, rel);
      const served = join(mirror, rel);
      const payload = join(mirror, 'payload', promtool.binary.split('/')[0]!);
      mkdirSync(served, { recursive: true });
      mkdirSync(payload, { recursive: true });
      copyFileSync(join(genuine, 'sha256sums.txt'), join(served, 'sha256sums.txt'));
      execFileSync('sh', ['-c', 'printf "#!/bin/sh\\nexit 0\\n" > "$1/promtool"', 'sh', payload]);
      execFileSync('tar', ['-czf', join(served, promtool.archive), '-C', join(mirror, 'payload'), '.']);
      const tampered = execFileSync('sha256sum', [join(served, promtool.archive)])
        .toString()
        .slice(0, 64);
      const listed = readFileSync(join(genuine, 'sha256sums.txt'), 'utf8').slice(0, 64);
      const url = `${lab.releasesUrl}/${mirror.slice(lab.releasesDir.length + 1)}`;

      const r = await scan(
        { 'scan-ref': `${dir}/valid`, 'monitoring-configs': `${dir}/valid/prometheus/rules/alerts.yml` },
        url,
      );
      expect(r.exitCode, r.log).toBe(1);
      expect(r.errors).toEqual([
        `${promtool.archive} from ${url}/${rel}/${promtool.archive} has SHA-256 ${tampered}, but sha256sums.txt ` +
          `lists ${listed}; the download is corrupt or tampered with, so it was deleted and nothing was installed`,
      ]);
      expect(r.monitoringGets.sort()).toEqual([`${rel}/${promtool.archive}`, `${rel}/sha256sums.txt`].sort());
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
  });
});

// The example's monitoring configuration, checked by the tools that load it (Debian's promtool and
// amtool on this machine): Prometheus' config and rules, the alert rules' unit tests, Alertmanager's
// config, and the hardening of docker-compose.monitoring.yml as compose resolves it.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../scripts/lab/lab.js';
import { MONITORING_SERVICES } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const example = join(repoRoot, 'example');
const prometheusDir = join(example, 'prometheus');

/** Runs a tool; resolves with its exit code and output whatever the code. */
async function tool(cmd: string, args: string[], cwd = prometheusDir) {
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface Rule {
  alert: string;
  labels?: Record<string, string>;
}
interface UnitTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}
const rules = (
  parse(readFileSync(join(prometheusDir, 'alert_rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const unitTests = (
  parse(readFileSync(join(prometheusDir, 'alert_rules.test.yml'), 'utf8')) as { tests: UnitTest[] }
).tests;

describe('example/prometheus', () => {
  it('promtool accepts the config, and with it the rule files it names', async () => {
    const r = await tool('promtool', ['check', 'config', 'prometheus.yml']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 9 rules found');
  });

  it('promtool accepts the rules', async () => {
    const r = await tool('promtool', ['check', 'rules', 'alert_rules.yml']);
    expect(r.code, r.out).toBe(0);
  });

  it('covers what the issue asks for, each alert with a severity and a project', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'ApiHighErrorRatio',
        'ApiSlowResponses',
        'BackupNeverRecorded',
        'BackupStale',
        'DeployFailed',
        'DiskNearlyFull',
        'ServiceRestarting',
        'TargetDown',
        'TlsCertificateExpiringSoon',
      ].sort(),
    );
    // Berth's textfile metrics carry their own project label; every other alert takes the stack's.
    const ownProject = new Set(['BackupStale', 'DeployFailed']);
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      if (!ownProject.has(r.alert)) expect(r.labels?.project, r.alert).toBe('{{ $externalLabels.project }}');
    }
  });

  it('every alert has a unit test where it fires and one where it stays quiet', () => {
    const cases = unitTests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('the unit tests pass (promtool test rules)', async () => {
    const r = await tool('promtool', ['test', 'rules', 'alert_rules.test.yml']);
    expect(r.code, r.out).toBe(0);
  });

  it('the unit tests fail when a rule is wrong: BackupStale at 30 h instead of 26 h', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-rules-'));
    cpSync(join(prometheusDir, 'alert_rules.test.yml'), join(dir, 'alert_rules.test.yml'));
    const text = readFileSync(join(prometheusDir, 'alert_rules.yml'), 'utf8');
    const broken = text.replace('> 26 * 3600', '> 30 * 3600');
    expect(broken).not.toBe(text);
    writeFileSync(join(dir, 'alert_rules.yml'), broken);
    const r = await tool('promtool', ['test', 'rules', 'alert_rules.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAILED[\s\S]*alertname: BackupStale/);
  });

  it('a broken rule in rules.d fails the config check (rule files are loaded by glob)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-prom-'));
    cpSync(prometheusDir, dir, { recursive: true });
    mkdirSync(join(dir, 'rules.d'), { recursive: true });
    writeFileSync(
      join(dir, 'rules.d', 'extra.yml'),
      'groups:\n  - name: extra\n    rules:\n      - alert: Broken\n        expr: rate(up[5m]\n',
    );
    const r = await tool('promtool', ['check', 'config', 'prometheus.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('rules.d/extra.yml');
  });
});

describe('example/alertmanager', () => {
  it('amtool accepts the config', async () => {
    const r = await tool('amtool', ['check-config', 'alertmanager.yml'], join(example, 'alertmanager'));
    expect(r.code, r.out).toBe(0);
  });
});

interface Service {
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  healthcheck?: { test?: string[] };
  logging?: { driver?: string; options?: Record<string, string> };
  networks?: Record<string, unknown>;
  environment?: Record<string, string>;
  ports?: { host_ip?: string; published?: string }[];
  deploy?: { resources?: { limits?: { memory?: string } } };
}

async function composeModel(env: Record<string, string> = {}): Promise<Record<string, Service>> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mon-compose-'));
  cpSync(example, dir, { recursive: true });
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  for (const s of ['db_password', 'tls_cert', 'tls_key']) writeFileSync(join(dir, 'secrets', s), 'x\n');
  const r = await exec(
    'docker',
    [
      'compose',
      '-f',
      'docker-compose.yml',
      '-f',
      'docker-compose.monitoring.yml',
      '-p',
      'monproj',
      'config',
      '--format',
      'json',
    ],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
  );
  return (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
}

describe('docker-compose.monitoring.yml', () => {
  it('runs every monitoring service hardened, on the monitoring network, with local rotated logs', async () => {
    const services = await composeModel();
    for (const name of [...MONITORING_SERVICES, 'api', 'nginx', 'db']) {
      const s = services[name]!;
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(s.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(s.healthcheck?.test?.length, name).toBeGreaterThan(0);
      expect(s.deploy?.resources?.limits?.memory, name).toBeTruthy();
      expect(s.logging, name).toEqual({ driver: 'local', options: { 'max-size': '10m', 'max-file': '3' } });
      if (name !== 'db') expect(Object.keys(s.networks ?? {}), name).toContain('monitoring');
    }
    // The database stays off the monitoring network; its exporter reaches it on backend.
    expect(Object.keys(services.db!.networks ?? {})).toEqual(['backend']);
    expect(services['postgres-exporter']!.environment).toMatchObject({
      DATA_SOURCE_PASS_FILE: '/run/secrets/db_password',
    });
    expect(services.prometheus!.environment).toEqual({ BERTH_PROJECT: 'monproj' });
  });

  it('publishes only Prometheus and Alertmanager, on loopback unless told otherwise', async () => {
    const published = (services: Record<string, Service>) =>
      Object.fromEntries(
        Object.entries(services)
          .filter(([name, s]) => name !== 'nginx' && s.ports?.length)
          .map(([name, s]) => [name, s.ports!.map((p) => `${p.host_ip}:${p.published}`)]),
      );
    expect(published(await composeModel())).toEqual({
      prometheus: ['127.0.0.1:9090'],
      alertmanager: ['127.0.0.1:9093'],
    });
    const moved = await composeModel({
      MONITORING_BIND_ADDRESS: '10.0.0.5',
      PROMETHEUS_PORT: '19090',
      ALERTMANAGER_PORT: '19093',
    });
    expect(published(moved)).toEqual({ prometheus: ['10.0.0.5:19090'], alertmanager: ['10.0.0.5:19093'] });
  });
});

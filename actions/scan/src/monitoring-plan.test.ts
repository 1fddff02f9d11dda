// Which files the monitoring checks find: by content, through the stack's mounts, and the rule files a
// Prometheus config loads mapped back to the repository (or reported when they cannot be).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import type { ComposeConfig } from './compose-service.js';
import { checkCommand } from './monitoring.js';
import { planMonitoring } from './monitoring-plan.js';
import { globFiles, hostPath, stackMounts } from './monitoring-stack.js';
import { MonitoringYaml } from './monitoring-yaml.js';

describe('MonitoringYaml', () => {
  it('tells the kinds apart by their top-level keys', () => {
    const kind = (text: string) => new MonitoringYaml(text).kind();
    expect(kind('groups:\n  - name: x\n    rules: []\n')).toBe('rules');
    expect(kind('route:\n  receiver: x\nreceivers: [{name: x}]\n')).toBe('alertmanager');
    expect(kind('global: {}\nreceivers: []\n')).toBe('alertmanager');
    expect(kind('global:\n  scrape_interval: 15s\nscrape_configs: []\n')).toBe('prometheus');
    expect(kind('rule_files: [a.yml]\n')).toBe('prometheus');
    // Not monitoring configs: a compose file, another tool's `groups`, a list, nothing.
    expect(kind('services:\n  api:\n    image: x\n')).toBeUndefined();
    expect(kind('groups:\n  - admins\n')).toBeUndefined();
    expect(kind('global: {}\n')).toBeUndefined();
    expect(kind('- a\n')).toBeUndefined();
    expect(kind('')).toBeUndefined();
  });

  it('rule_files entries with their lines', () => {
    const yaml = new MonitoringYaml('global: {}\nrule_files:\n  - rules/*.yml\n  - "/etc/x.yml"\n  - 3\n');
    expect(yaml.ruleFiles()).toEqual([
      { pattern: 'rules/*.yml', line: 3 },
      { pattern: '/etc/x.yml', line: 4 },
    ]);
  });
});

describe('checkCommand', () => {
  it('checks a Prometheus config for its own syntax only: its files are container paths', () => {
    expect(checkCommand('prometheus', '/t/promtool', '/w/p.yml')).toEqual([
      '/t/promtool',
      ['check', 'config', '--syntax-only', '/w/p.yml'],
    ]);
    expect(checkCommand('rules', '/t/promtool', '/w/r.yml')[1]).toEqual(['check', 'rules', '/w/r.yml']);
    expect(checkCommand('alertmanager', '/t/amtool', '/w/a.yml')[1]).toEqual(['check-config', '/w/a.yml']);
  });
});

describe('the stack mounts', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'berth-monitoring-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const RULES = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n';

  /** A stack as `docker compose config` writes it: bind sources absolute, configs by file. */
  const stack = (): ComposeConfig => ({
    services: {
      prometheus: {
        volumes: [
          {
            type: 'bind',
            source: join(root, 'prom/prometheus.yml'),
            target: '/etc/prometheus/prometheus.yml',
          },
          { type: 'bind', source: join(root, 'prom/rules'), target: '/etc/prometheus/rules' },
          { type: 'bind', source: '/var/lib/node-exporter', target: '/etc/prometheus/textfile' },
          { type: 'volume', source: 'data', target: '/prometheus' },
        ],
      },
      alertmanager: { configs: [{ source: 'am' }] },
    },
    configs: { am: { file: join(root, 'am/alertmanager.yml') } },
  });

  it('maps container paths back through the longest mount, globs them, and leaves out other hosts', () => {
    write('prom/rules/a.yml', RULES);
    write('prom/rules/b.yaml', RULES);
    write('prom/rules/notes.txt', '');
    const mounts = stackMounts(stack());
    expect(mounts.map((m) => [m.service, m.target])).toEqual([
      ['prometheus', '/etc/prometheus/prometheus.yml'],
      ['prometheus', '/etc/prometheus/rules'],
      ['prometheus', '/etc/prometheus/textfile'],
      ['alertmanager', '/am'],
    ]);
    expect(hostPath(mounts, 'prometheus', '/etc/prometheus/rules/*.y*ml')).toBe(
      join(root, 'prom/rules/*.y*ml'),
    );
    expect(hostPath(mounts, 'prometheus', '/etc/other/x.yml')).toBeUndefined();
    expect(hostPath(mounts, 'alertmanager', '/etc/prometheus/rules/a.yml')).toBeUndefined();
    expect(globFiles(join(root, 'prom/rules/*.y*ml'))).toEqual([
      join(root, 'prom/rules/a.yml'),
      join(root, 'prom/rules/b.yaml'),
    ]);
    expect(globFiles(join(root, 'prom/rules/[ab].yml'))).toEqual([join(root, 'prom/rules/a.yml')]);
    expect(globFiles(join(root, 'prom/*/a.yml'))).toEqual([join(root, 'prom/rules/a.yml')]);
    expect(globFiles(join(root, 'prom/rules/missing.yml'))).toEqual([]);
  });

  it('finds the configs and rule files the stack mounts; reports rule_files it cannot check, at their line', () => {
    write(
      'prom/prometheus.yml',
      'global: {}\nrule_files:\n  - rules/*.yml\n  - /etc/prometheus/extra/*.yml\n  - rules/none-*.yml\n  - rules/none.yml\n',
    );
    write('prom/rules/a.yml', RULES);
    write('prom/rules/other.yml', 'services: {}\n');
    write('am/alertmanager.yml', 'route:\n  receiver: x\nreceivers: [{name: x}]\n');
    const plan = planMonitoring({ configs: [], config: stack(), root });
    expect(plan.files.map((f) => [f.path, f.kind, f.origin])).toEqual([
      ['prom/prometheus.yml', 'prometheus', 'mounted into service prometheus'],
      ['prom/rules/a.yml', 'rules', 'mounted into service prometheus'],
      ['am/alertmanager.yml', 'alertmanager', 'mounted into service alertmanager'],
      // Not a rule file by its content, but `rules/*.yml` loads it as one: promtool says what is wrong.
      ['prom/rules/other.yml', 'rules', 'rule_files of prom/prometheus.yml'],
    ]);
    expect(plan.findings.map((f) => [f.id, f.severity, f.file, f.line, f.title])).toEqual([
      [
        'BERTH-M004',
        'MEDIUM',
        'prom/prometheus.yml',
        4,
        'rule_files entry "/etc/prometheus/extra/*.yml" comes from no mount of service prometheus, so it was not checked',
      ],
      [
        'BERTH-M005',
        'HIGH',
        'prom/prometheus.yml',
        6,
        'rule_files entry "rules/none.yml" names no file (prom/rules/none.yml)',
      ],
    ]);
  });

  it('a config of the input: relative rule_files from its directory, container paths reported', () => {
    write('p/prometheus.yml', 'rule_files:\n  - r.yml\n  - /etc/prometheus/x.yml\n');
    write('p/r.yml', 'not: rules\n');
    const plan = planMonitoring({ configs: ['p/prometheus.yml'], root });
    // A file a config loads is a rule file whatever it holds: promtool says what is wrong with it.
    expect(plan.files.map((f) => [f.path, f.kind, f.origin])).toEqual([
      ['p/prometheus.yml', 'prometheus', 'monitoring-configs'],
      ['p/r.yml', 'rules', 'rule_files of p/prometheus.yml'],
    ]);
    expect(plan.findings.map((f) => [f.id, f.line])).toEqual([['BERTH-M004', 3]]);
    expect(plan.findings[0]!.title).toContain('is not mounted by the compose stack (compose-files)');
  });

  it('an input that is no monitoring config is an input error naming it; broken YAML is judged by its name', () => {
    write('x/compose.yml', 'services: {}\n');
    expect(inputErrorOf(() => planMonitoring({ configs: ['x/compose.yml'], root })).message).toBe(
      'Input "monitoring-configs": x/compose.yml is none of: a Prometheus config, a Prometheus rule file, an Alertmanager config',
    );
    write('x/alertmanager.yml', 'route: [\n');
    expect(planMonitoring({ configs: ['x/alertmanager.yml'], root }).files[0]!.kind).toBe('alertmanager');
  });

  it('nothing to check: no files, no findings (and so nothing installed)', () => {
    write('prom/prometheus.yml', 'services: {}\n');
    expect(planMonitoring({ configs: [], config: stack(), root })).toEqual({ files: [], findings: [] });
  });
});

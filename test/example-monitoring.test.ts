// The example with docker-compose.monitoring.yml, deployed to the lab host by berth/deploy: from the
// host, every Prometheus target is up, the rules are loaded (an extra one from rules.d too), alerts
// reach Alertmanager with the project label, and what must stay private does.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  exampleImages,
  exampleSecrets,
  exampleWorkdir,
  monitoringImages,
  monitoringPins,
  pins,
  registryAndProbeInputs,
  type ExampleImages,
  type MonitoringImages,
} from './example-release.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, repoRoot, sshInputs } from '../scripts/lab/lab.js';
import { freePort, httpsGet } from '../scripts/lab/net.js';
import { shellQuote } from '../lib/ssh/shell.js';

const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-mon-${id}`;
const remoteDir = `/home/deploy/berth-mon-${id}`;
const textfileDir = `/home/deploy/berth-mon-${id}-textfile`;
const dbPassword = `pw-${randomBytes(12).toString('hex')}`;

let workdir: string;
let images: ExampleImages;
let monitoring: MonitoringImages;
let ports: { https: number; http: number; prometheus: number; alertmanager: number };
let deployed: ActionResult;

/** GETs a URL from the lab host (Prometheus and Alertmanager listen on its loopback) as JSON. */
async function hostGet<T>(url: string): Promise<T> {
  const { stdout } = await labSsh(lab, `curl -fsS --max-time 10 ${shellQuote(url)}`);
  return JSON.parse(stdout) as T;
}

/** Polls `check` every 2 s until it returns a value, or fails with its last reason after `ms`. */
async function eventually<T>(ms: number, check: () => Promise<T | string>): Promise<T> {
  const end = Date.now() + ms;
  let last: T | string = 'never ran';
  while (Date.now() < end) {
    last = await check().catch((err: unknown) => String(err));
    if (typeof last !== 'string') return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`not within ${ms} ms: ${String(last)}`);
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}
const prometheus = (path: string) => `http://127.0.0.1:${ports.prometheus}${path}`;

/** berth/deploy of the example with monitoring, api image `api`, the metrics in textfileDir. */
function deployStack(api: string, extra: Record<string, string> = {}): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      environment: 'development',
      'remote-dir': remoteDir,
      'compose-files': 'docker-compose.yml\ndocker-compose.monitoring.yml',
      'host-paths': '/',
      env: [
        `HTTPS_PORT=${ports.https}`,
        `HTTP_PORT=${ports.http}`,
        `PROMETHEUS_PORT=${ports.prometheus}`,
        `ALERTMANAGER_PORT=${ports.alertmanager}`,
        `BERTH_TEXTFILE_DIR=${textfileDir}`,
      ].join('\n'),
      secrets: exampleSecrets(lab, dbPassword),
      images: `${pins(images, api)}\n${monitoringPins(monitoring)}`,
      ...registryAndProbeInputs(lab, ports.https),
      'wait-timeout': '180',
      'metrics-dir': textfileDir,
      ...extra,
    },
  });
}

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'monitoring');
  // A rule added by adding a file: always firing, so the path to Alertmanager can be seen.
  writeFileSync(
    join(workdir, 'prometheus/rules.d/berth-test.yml'),
    [
      'groups:',
      '  - name: berth-test',
      '    rules:',
      '      - alert: BerthTestAlwaysFiring',
      '        expr: vector(1)',
      '        labels:',
      '          severity: warning',
      "          project: '{{ $externalLabels.project }}'",
      '',
    ].join('\n'),
  );
  ports = { https: await freePort(), http: await freePort(), prometheus: 0, alertmanager: 0 };
  ports.prometheus = await freePort();
  ports.alertmanager = await freePort();
  [images, monitoring] = await Promise.all([
    exampleImages(lab, 'berth-mon'),
    monitoringImages(lab, 'berth-mon'),
  ]);
  // A textfile as berth/backup writes it: node-exporter must read it from the host directory.
  const now = Math.floor(Date.now() / 1000);
  await labSsh(
    lab,
    `mkdir -p ${textfileDir} && printf '%s\\n' ${shellQuote(
      `berth_backup_last_success_timestamp_seconds{project="${project}"} ${now}`,
    )} >${textfileDir}/berth-backup-${project}.prom`,
  );
  deployed = await deployStack(images.api1);
  // Nothing below means anything without the stack: fail every test at once, with the log.
  if (deployed.exitCode !== 0) throw new Error(`the deploy failed:\n${deployed.log}`);
});

afterAll(async () => {
  await labSsh(
    lab,
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${textfileDir}`,
  ).catch(() => undefined);
});

describe('the example with monitoring, deployed', () => {
  it('deploys every service healthy', async () => {
    expect(deployed.exitCode, deployed.log).toBe(0);
    expect(deployed.outputs.status).toBe('deployed');
    const { stdout } = await labSsh(
      lab,
      `docker compose -p ${project} ps --format '{{.Service}} {{.Health}}' | sort`,
    );
    expect(stdout.trim().split('\n')).toEqual(
      [
        'alertmanager',
        'api',
        'blackbox-exporter',
        'db',
        'nginx',
        'nginx-exporter',
        'node-exporter',
        'postgres-exporter',
        'prometheus',
      ].map((s) => `${s} healthy`),
    );
  });

  it('has every Prometheus target up, seen from the host', async () => {
    const targets = await eventually(90_000, async () => {
      const r = await hostGet<{ data: { activeTargets: Target[] } }>(prometheus('/api/v1/targets'));
      const all = r.data.activeTargets;
      const down = all.filter((t) => t.health !== 'up');
      if (all.length < 7 || down.length) {
        return `targets: ${all.map((t) => `${t.labels.job}=${t.health} ${t.lastError}`).join(', ')}`;
      }
      return all;
    });
    expect(targets.map((t) => t.labels.job).sort()).toEqual(
      ['alertmanager', 'api', 'blackbox', 'nginx', 'node', 'postgres', 'prometheus'].sort(),
    );
  });

  it('has the rules loaded, the extra file from rules.d too', async () => {
    const r = await hostGet<{ data: { groups: { file: string; rules: { name: string }[] }[] } }>(
      prometheus('/api/v1/rules'),
    );
    const names = r.data.groups.flatMap((g) => g.rules.map((x) => x.name));
    const repository = (
      parse(readFileSync(join(repoRoot, 'example/prometheus/alert_rules.yml'), 'utf8')) as {
        groups: { rules: { alert: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules.map((x) => x.alert));
    expect(repository.length).toBeGreaterThan(5);
    expect(names.sort()).toEqual([...repository, 'BerthTestAlwaysFiring'].sort());
    expect(r.data.groups.map((g) => g.file)).toContain('/etc/prometheus/rules.d/berth-test.yml');
  });

  it("scrapes the api's build info, the host's textfile, and the TLS certificate's expiry", async () => {
    type Vector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const query = (q: string) => hostGet<Vector>(prometheus(`/api/v1/query?query=${encodeURIComponent(q)}`));
    const found = await eventually(60_000, async () => {
      const [build, backup, expiry] = await Promise.all([
        query('api_build_info'),
        query(`berth_backup_last_success_timestamp_seconds{project="${project}"}`),
        query('probe_ssl_earliest_cert_expiry'),
      ]);
      if (!build.data.result.length || !backup.data.result.length || !expiry.data.result.length) {
        return 'a metric is missing';
      }
      return { build, expiry };
    });
    expect(found.build.data.result.map((r) => r.metric.version)).toEqual(['v1']);
    // The lab certificate is valid for longer than a day.
    expect(Number(found.expiry.data.result[0]!.value[1])).toBeGreaterThan(Date.now() / 1000 + 86400);
  });

  it('sends alerts to Alertmanager labelled with the compose project', async () => {
    type Alert = { labels: Record<string, string>; status: { state: string } };
    const alerts = await eventually(60_000, async () => {
      const r = await hostGet<Alert[]>(
        `http://127.0.0.1:${ports.alertmanager}/api/v2/alerts?filter=${encodeURIComponent('alertname="BerthTestAlwaysFiring"')}`,
      );
      return r.length ? r : 'no alert in Alertmanager yet';
    });
    expect(alerts[0]!.labels).toMatchObject({ project, severity: 'warning' });
    expect(alerts[0]!.status.state).toBe('active');
  });

  it('keeps the metrics private: not through nginx, stub_status not from the backend network', async () => {
    expect((await httpsGet(lab.caFile, ports.https, '/metrics')).status).toBe(404);
    // nginx's address on backend, then a client there (the nginx image has curl) trying stub_status.
    const { stdout } = await labSsh(
      lab,
      [
        `nginx=$(docker compose -p ${project} ps -q nginx)`,
        `ip=$(docker inspect -f '{{(index .NetworkSettings.Networks "${project}_backend").IPAddress}}' "$nginx")`,
        `docker run --rm --network ${project}_backend --entrypoint curl ${images.nginx} -s -m 3 -o /dev/null -w '%{http_code}' "http://$ip:8082/stub_status" || true`,
        `echo; docker run --rm --network ${project}_monitoring --entrypoint curl ${images.nginx} -s -m 3 -o /dev/null -w '%{http_code}' http://nginx-status:8082/stub_status`,
      ].join('\n'),
    );
    expect(stdout.trim().split('\n')).toEqual(['000', '200']);
  });

  it('gives postgres-exporter the password as a file, never in its environment', async () => {
    const { stdout } = await labSsh(
      lab,
      `docker inspect -f '{{json .Config.Env}} {{json .Args}}' $(docker compose -p ${project} ps -q postgres-exporter)`,
    );
    expect(stdout).toContain('DATA_SOURCE_PASS_FILE=/run/secrets/db_password');
    expect(stdout).not.toContain(dbPassword);
  });
});

// The deploy gate against the stack's own Prometheus and Alertmanager: a rule carried by the release
// (a file in prometheus/rules.d) that fires for it stops it; the same code path as any alert.
describe("deploys gated by the example's own alerts", () => {
  const gate = () => ({ 'alertmanager-url': `http://127.0.0.1:${ports.alertmanager}`, 'bake-seconds': '40' });
  const textfile = async () => (await labSsh(lab, `cat ${textfileDir}/berth-deploy-${project}.prom`)).stdout;

  it('passes a clean release after watching the bake (the warning-level test alert does not count)', async () => {
    const r = await deployStack(images.api2, gate());
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.summary).toMatch(/Alert gate/);
    expect(await exampleVersionServed()).toBe('v2');
    expect(await textfile()).toMatch(/berth_deploy_last_timestamp_seconds\{[^}]*result="success"\} \d+/);
  });

  it('rolls back a release that trips a rule it carries, naming the alert; v2 keeps serving', async () => {
    // A known-bad version, denied by a rule: the release that brings v1 back carries it.
    writeFileSync(
      join(workdir, 'prometheus/rules.d/denied-versions.yml'),
      [
        'groups:',
        '  - name: denied-versions',
        '    rules:',
        '      - alert: ApiVersionDenied',
        '        expr: api_build_info{version="v1"} > 0',
        '        labels:',
        '          severity: critical',
        "          project: '{{ $externalLabels.project }}'",
        '        annotations:',
        '          summary: api {{ $labels.version }} is on the deny list',
        '',
      ].join('\n'),
    );
    try {
      const r = await deployStack(images.api1, gate());
      expect(r.exitCode).toBe(1);
      expect(r.outputs.status, r.log).toBe('rolled-back');
      expect(r.errors[0]).toMatch(/failed at bake: .*ApiVersionDenied/);
      expect(r.summary).toMatch(/ApiVersionDenied/);
      expect(r.summary).toMatch(/api v1 is on the deny list/);
      expect(await exampleVersionServed()).toBe('v2');
      const metrics = await textfile();
      expect(metrics).toMatch(/result="rolled-back"\} \d+/);
      expect(metrics).toMatch(/result="success"\} \d+/);
    } finally {
      rmSync(join(workdir, 'prometheus/rules.d/denied-versions.yml'), { force: true });
    }
  });
});

async function exampleVersionServed(): Promise<string> {
  const res = await httpsGet(lab.caFile, ports.https, '/healthz');
  return (JSON.parse(res.body) as { version: string }).version;
}

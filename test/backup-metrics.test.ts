// berth/backup's `metrics-dir` and `heartbeat-url` against the lab (#20): after a backup, a verify and
// a failed backup, the node exporter textfile `berth-backup-<project>.prom` in the deploy user's home
// holds the agreed series (each run changing only its own), `promtool check metrics` accepts it and
// no `.prom.tmp` is left; a loopback HTTP server started here gets the URL on success and `<url>/fail`
// on failure, and the URL never shows in the log. A bad metrics-dir fails naming it, before the lock
// script creates anything. The project is a labelled volume read by the lab's base image; the SSH
// host is this machine, so its files are read directly.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../lib/ssh/textfile-metrics.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labelledVolume, promtoolCheck } from './lab-files.js';
import { backupSigning, labSsh, readLab, repoRoot, sshInputs } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-bm-${id}`;
const volume = `${project}_data`;
const remoteDir = `/home/deploy/${project}`;
const dest = `/home/deploy/${project}-backups`;
const metricsDir = `/home/deploy/berth-textfile-${id}`;
const file = `${metricsDir}/berth-backup-${project}.prom`;
const secretPath = `/ping/${randomUUID()}`;
const ssh = (command: string) => labSsh(lab, command);

/** The heartbeat service: every request's path, in order. */
const hits: string[] = [];
let server: Server;
let heartbeatUrl: string;

function backup(extra: Record<string, string | undefined> = {}): Promise<ActionResult> {
  return runAction('backup', {
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      'helper-image': lab.baseImage,
      destinations: `host:${dest}`,
      compression: 'gzip',
      'signing-key': backupSigning(lab).key,
      'allow-unencrypted': 'true',
      'metrics-dir': metricsDir,
      'heartbeat-url': heartbeatUrl,
      ...extra,
    },
  });
}

const SERIES = [
  'berth_backup_last_success_timestamp_seconds',
  'berth_backup_last_failure_timestamp_seconds',
  'berth_backup_size_bytes',
  'berth_backup_duration_seconds',
  'berth_backup_last_verified_timestamp_seconds',
];
/** The file's series: name -> value, every sample labelled with exactly this project. */
function series(): Record<string, number> {
  const samples = parseExposition(readFileSync(file, 'utf8'), new Set(SERIES));
  for (const s of samples) expect(s.labels).toEqual({ project });
  return Object.fromEntries(samples.map((s) => [s.name, s.value]));
}

/** The file now has `added`, a time no older than any it had, and `before`'s values unchanged. */
function expectAdded(before: Record<string, number>, added: string): void {
  const now = series();
  expect(now).toEqual({ ...before, [added]: expect.any(Number) as number });
  expect(now[added]).toBeGreaterThanOrEqual(Math.max(...Object.values(before).filter((v) => v > 1e9)));
}

/** The file is whole, 0644, alone in the directory (no .prom.tmp), and promtool accepts it. */
async function expectGoodTextfile(): Promise<void> {
  expect(readdirSync(metricsDir)).toEqual([`berth-backup-${project}.prom`]);
  expect(statSync(file).mode & 0o777).toBe(0o644);
  expect(await promtoolCheck(file), readFileSync(file, 'utf8')).toEqual({ code: 0, out: '' });
}

/** The heartbeat URL appears nowhere in the log, and was registered as a secret. */
function expectUrlHidden(r: ActionResult): void {
  expect(r.masks).toContain(heartbeatUrl);
  expect(r.log).not.toContain(secretPath.slice('/ping/'.length));
  expect([...r.errors, ...r.warnings].join('\n')).not.toContain(secretPath.slice('/ping/'.length));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200).end('OK');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  heartbeatUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${secretPath}`;
  await labelledVolume(
    lab.baseImage,
    project,
    volume,
    'data',
    'head -c 100000 /dev/urandom >/v/blob && echo hello >/v/note',
  );
  await ssh(`mkdir -p ${metricsDir}`);
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await exec('docker', ['volume', 'rm', '-f', volume]).catch(() => undefined);
  await ssh(`rm -rf ${remoteDir} ${dest} ${metricsDir}`).catch(() => undefined);
});

describe('backup metrics-dir and heartbeat-url', () => {
  it('a bad metrics-dir fails naming it before anything is created; the heartbeat gets /fail', async () => {
    hits.length = 0;
    const r = await backup({ 'metrics-dir': `${metricsDir}-missing` });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.stringMatching(/^Input "metrics-dir": \S+-missing does not exist on the host/),
    ]);
    expect(existsSync(remoteDir)).toBe(false);
    expect(existsSync(dest)).toBe(false);
    expect(hits).toEqual([`${secretPath}/fail`]);
    expectUrlHidden(r);
    const v = await backup({ mode: 'verify', 'metrics-dir': '/etc' });
    expect(v.errors).toEqual([
      expect.stringMatching(/^Input "metrics-dir": \/etc is not writable by deploy/),
    ]);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(metricsDir)).toEqual([]);
  });

  let first: Record<string, number>;

  it('after a backup: the success time, the size and the duration; the heartbeat gets the URL', async () => {
    hits.length = 0;
    const r = await backup();
    expect(r.exitCode, r.log).toBe(0);
    await expectGoodTextfile();
    first = series();
    expect(Object.keys(first).sort()).toEqual([
      'berth_backup_duration_seconds',
      'berth_backup_last_success_timestamp_seconds',
      'berth_backup_size_bytes',
    ]);
    expect(first.berth_backup_size_bytes).toBe(Number(r.outputs.bytes));
    expect(Math.abs(first.berth_backup_last_success_timestamp_seconds! - Date.now() / 1000)).toBeLessThan(
      600,
    );
    expect(first.berth_backup_duration_seconds).toBeGreaterThan(0);
    expect(hits).toEqual([secretPath]);
    expectUrlHidden(r);
  });

  it("fires the example's BackupStale rule 26 h after this file's success time (promtool test rules)", async () => {
    // The series exactly as written (name, labels, value), on promtool's clock: its time 0 is now,
    // so a value in other units than seconds, or other labels, would not fire at 27 h.
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('berth_backup_last_success_timestamp_seconds{'))!;
    const [, labels, value] = /^(berth_backup_last_success_timestamp_seconds\{.*\}) (\S+)$/.exec(line)!;
    const relative = Number(value) - Math.floor(Date.now() / 1000);
    // Its summary says the age as humanizeDuration does (27 h after time 0, less the value).
    const age = 27 * 3600 - relative;
    const human = `${Math.floor(age / 86400)}d ${Math.floor(age / 3600) % 24}h ${Math.floor(age / 60) % 60}m ${age % 60}s`;
    const alert = (at: string, firing: boolean) =>
      `      - eval_time: ${at}\n        alertname: BackupStale\n        exp_alerts:${
        firing
          ? `\n          - exp_labels: { severity: warning, project: ${project} }` +
            `\n            exp_annotations: { summary: 'the last successful backup of ${project} is ${human} old' }`
          : ' []'
      }`;
    const dir = mkdtempSync(join(tmpdir(), 'berth-stale-'));
    writeFileSync(
      join(dir, 'stale.test.yml'),
      [
        `rule_files: [${join(repoRoot, 'example/prometheus/alert_rules.yml')}]`,
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1h',
        '    input_series:',
        `      - series: '${labels}'`,
        `        values: '${relative}x30'`,
        '    alert_rule_test:',
        alert('25h', false),
        alert('27h', true),
        '',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)('promtool', ['test', 'rules', join(dir, 'stale.test.yml')]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it('after a verify: the verified time is added, the backup values kept', async () => {
    hits.length = 0;
    const r = await backup({ mode: 'verify' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.verified).toBe('true');
    await expectGoodTextfile();
    expectAdded(first, 'berth_backup_last_verified_timestamp_seconds');
    expect(hits).toEqual([secretPath]);
  });

  it('after a failed backup: the failure time is added, the rest kept; the heartbeat gets /fail', async () => {
    const before = series();
    hits.length = 0;
    const r = await backup({ volumes: 'nope' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "volumes": .*no volume nope/);
    await expectGoodTextfile();
    expectAdded(before, 'berth_backup_last_failure_timestamp_seconds');
    expect(hits).toEqual([`${secretPath}/fail`]);
    expectUrlHidden(r);
  });
});

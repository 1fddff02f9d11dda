// berth/deploy's `metrics-dir` against the lab (#20): after a deploy and after a rolled-back one, the
// node exporter textfile `berth-deploy-<project>.prom` in the deploy user's home holds the agreed
// series, `promtool check metrics` accepts it, no `.prom.tmp` is left, and a hostile commit string
// stays inside its label. A missing or unwritable metrics-dir fails the preflight naming the input,
// with nothing on the host changed. The SSH host is this machine: its files are read directly.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../lib/ssh/textfile-metrics.js';
import { runAction } from '../scripts/lab/harness.js';
import { promtoolCheck } from './lab-files.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { sshdConnections as connections } from '../scripts/lab/net.js';

const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-dm-${id}`;
const remoteDir = `/home/deploy/berth-dm-${id}`;
const metricsDir = `/home/deploy/berth-textfile-${id}`;
const file = join(metricsDir, `berth-deploy-${project}.prom`);
/** A commit string that would end its label, add a sample and a TYPE line if it were not escaped. */
const hostileSha = '0123abc"} berth_fake 1\n# TYPE berth_release_info counter\nx\\';
const ssh = (command: string) => labSsh(lab, command);

// One small service from the lab's base image; HEALTH (from `env`) makes a release healthy or not.
const COMPOSE = `services:
  app:
    image: ${lab.baseImage}
    init: true
    command: ['sleep', 'infinity']
    environment:
      HEALTH: \${HEALTH}
    healthcheck:
      test: ['CMD', '\${HEALTH}']
      interval: 1s
      timeout: 2s
      retries: 2
`;

let workdir: string;

/** The inputs every run here shares; `metrics-dir` is the deploy user's own directory. */
const inputs = (health: 'true' | 'false') => ({
  ...sshInputs(lab),
  project,
  environment: 'production',
  'remote-dir': remoteDir,
  env: `HEALTH=${health}`,
  registry: lab.registry,
  'registry-username': lab.registryUser,
  'registry-password': lab.registryPassword,
  'wait-timeout': '30',
  'metrics-dir': metricsDir,
});

const deploy = (health: 'true' | 'false', extra: Record<string, string> = {}, sha?: string) =>
  runAction('deploy', { workspace: workdir, sha, inputs: { ...inputs(health), ...extra } });

const NAMES = new Set([
  'berth_release_info',
  'berth_deploy_last_timestamp_seconds',
  'berth_deploy_duration_seconds',
  'berth_fake',
]);
const samples = () => parseExposition(readFileSync(file, 'utf8'), NAMES);
const last = (result: string) =>
  samples().find((s) => s.name === 'berth_deploy_last_timestamp_seconds' && s.labels.result === result)
    ?.value;

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'berth-dm-'));
  writeFileSync(join(workdir, 'compose.yaml'), COMPOSE);
  await ssh(`mkdir -p ${metricsDir}`);
});

afterAll(async () => {
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir} ${metricsDir}`,
  ).catch(() => undefined);
});

describe('deploy metrics-dir', () => {
  it('a missing or unwritable metrics-dir fails the preflight naming it, nothing on the host changed', async () => {
    const missing = await deploy('true', { 'metrics-dir': `${metricsDir}-missing` });
    expect(missing.exitCode).toBe(1);
    expect(missing.errors).toEqual([
      expect.stringMatching(/^Input "metrics-dir": \S+-missing does not exist on the host/),
    ]);
    const readOnly = await deploy('true', { 'metrics-dir': '/etc' });
    expect(readOnly.errors).toEqual([
      expect.stringMatching(/^Input "metrics-dir": \/etc is not writable by deploy/),
    ]);
    expect(existsSync(remoteDir)).toBe(false);
    expect(existsSync(`${metricsDir}-missing`)).toBe(false);
    expect(readdirSync(metricsDir)).toEqual([]);
  });

  let release1: string;
  let success: number;

  it('after a deploy: release info with the escaped commit, the success time, the duration; promtool accepts it', async () => {
    const before = connections(lab.sshLog);
    const r = await deploy('true', {}, hostileSha);
    expect(r.exitCode, r.log).toBe(0);
    expect(connections(lab.sshLog) - before).toBe(1);
    release1 = r.outputs.release!;
    expect(readdirSync(metricsDir)).toEqual([`berth-deploy-${project}.prom`]);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const check = await promtoolCheck(file);
    expect(check, readFileSync(file, 'utf8')).toEqual({ code: 0, out: '' });

    const labels = { project, environment: 'production' };
    expect(samples().map((s) => s.name)).toEqual([
      'berth_release_info',
      'berth_deploy_last_timestamp_seconds',
      'berth_deploy_duration_seconds',
    ]);
    expect(samples()[0]).toEqual({
      name: 'berth_release_info',
      labels: { ...labels, release: release1, commit: hostileSha },
      value: 1,
    });
    success = last('success')!;
    expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(600);
    expect(samples()[2]!.labels).toEqual(labels);
    expect(samples()[2]!.value).toBeGreaterThan(0);
  });

  it('after a rolled-back deploy: the rolled-back time, the success time kept, the serving release named', async () => {
    const r = await deploy('false', { 'wait-timeout': '20' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(readdirSync(metricsDir)).toEqual([`berth-deploy-${project}.prom`]);
    expect(await promtoolCheck(file)).toEqual({ code: 0, out: '' });
    expect(last('success')).toBe(success);
    expect(last('rolled-back')).toBeGreaterThanOrEqual(success);
    expect(last('failure')).toBeUndefined();
    const info = samples().filter((s) => s.name === 'berth_release_info');
    expect(info.map((s) => s.labels.release)).toEqual([release1]);
    expect(info[0]!.labels.commit).toBe(hostileSha);
  });
});

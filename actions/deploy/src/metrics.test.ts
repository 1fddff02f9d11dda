import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostReport, renderHostScript } from '../../../lib/ssh/host-script.js';
import { textfileValues } from '../../../lib/ssh/textfile.js';
import { parseExposition } from '../../../lib/ssh/textfile-metrics.js';
import {
  DEPLOY_DURATION,
  deployResult,
  deployTextfile,
  LAST_DEPLOY,
  METRICS_READ,
  readCurrent,
  RELEASE_INFO,
  renderDeployMetrics,
  type DeployMetrics,
} from './metrics.js';

const RELEASE = '20260101T120000Z-0123abc-1a2b';
const base: DeployMetrics = {
  project: 'shop',
  environment: 'production',
  result: 'success',
  now: 1_800_000_000,
  seconds: 42.5,
  current: { release: RELEASE, commit: '0123abc'.padEnd(40, '0') },
};
const names = new Set([RELEASE_INFO, LAST_DEPLOY, DEPLOY_DURATION]);
const read = (text: string) => parseExposition(text, names);
const last = (text: string, result: string) =>
  read(text).find((s) => s.name === LAST_DEPLOY && s.labels.result === result)?.value;

describe('renderDeployMetrics', () => {
  it('writes the release info, this result’s time and the duration', () => {
    const text = renderDeployMetrics('', base);
    expect(read(text)).toEqual([
      {
        name: RELEASE_INFO,
        labels: { project: 'shop', environment: 'production', ...base.current },
        value: 1,
      },
      {
        name: LAST_DEPLOY,
        labels: { project: 'shop', environment: 'production', result: 'success' },
        value: 1_800_000_000,
      },
      { name: DEPLOY_DURATION, labels: { project: 'shop', environment: 'production' }, value: 42.5 },
    ]);
    expect(text).toContain(`# TYPE ${LAST_DEPLOY} gauge`);
  });

  it('keeps the other results’ times from the previous file, so a failure can be newer than the success', () => {
    const first = renderDeployMetrics('', base);
    const failed = renderDeployMetrics(first, { ...base, result: 'failure', now: base.now + 60 });
    expect(last(failed, 'success')).toBe(base.now);
    expect(last(failed, 'failure')).toBe(base.now + 60);
    const rolledBack = renderDeployMetrics(failed, { ...base, result: 'rolled-back', now: base.now + 120 });
    expect([
      last(rolledBack, 'success'),
      last(rolledBack, 'failure'),
      last(rolledBack, 'rolled-back'),
    ]).toEqual([base.now, base.now + 60, base.now + 120]);
    const again = renderDeployMetrics(rolledBack, { ...base, now: base.now + 180 });
    expect(last(again, 'success')).toBe(base.now + 180);
    expect(last(again, 'failure')).toBe(base.now + 60);
  });

  it('keeps nothing of another project or environment, nor anything but its own series', () => {
    const previous = [
      `${LAST_DEPLOY}{project="shop",environment="staging",result="failure"} 5`,
      `${LAST_DEPLOY}{project="other",environment="production",result="failure"} 6`,
      `${LAST_DEPLOY}{project="shop",environment="production",result="failure"} NaN`,
      `${LAST_DEPLOY}{project="shop",environment="production",result="bogus"} 7`,
      'evil_metric{} 1',
      '\u0000\u0001 garbage',
    ].join('\n');
    const text = renderDeployMetrics(previous, base);
    expect(read(text).filter((s) => s.name === LAST_DEPLOY)).toHaveLength(1);
    expect(text).not.toMatch(/evil|staging|other|bogus/);
  });

  it('leaves the release info out while no release is current', () => {
    const text = renderDeployMetrics('', { ...base, result: 'failure', current: undefined });
    expect(read(text).map((s) => s.name)).toEqual([LAST_DEPLOY, DEPLOY_DURATION]);
  });

  it('keeps a hostile commit inside its label', () => {
    const commit = 'abc"} berth_fake 1\n# TYPE berth_fake counter\\';
    const text = renderDeployMetrics('', { ...base, current: { release: RELEASE, commit } });
    expect(read(text)[0]!.labels.commit).toBe(commit);
    expect(text.split('\n').filter((l) => l.startsWith('berth_'))).toHaveLength(3);
  });
});

describe('deployResult', () => {
  it('is rolled-back when the host brought the previous release back, else the step’s outcome', () => {
    expect(deployResult('rolled-back', true)).toBe('rolled-back');
    expect(deployResult('deployed', false)).toBe('success');
    expect(deployResult('deployed', true)).toBe('failure');
    expect(deployResult('failed', true)).toBe('failure');
    expect(deployResult(undefined, true)).toBe('failure');
  });
});

describe('deployTextfile', () => {
  it('is berth-deploy-<project>.prom in metrics-dir, when set', () => {
    expect(deployTextfile({ project: 'shop', 'metrics-dir': '/m' })).toEqual({
      input: 'metrics-dir',
      dir: '/m',
      file: 'berth-deploy-shop.prom',
    });
    expect(deployTextfile({ project: 'shop' })).toBeUndefined();
  });
});

describe('METRICS_READ and readCurrent', () => {
  const run = (remoteDir: string, metricsDir: string) =>
    HostReport.parse(
      execFileSync(
        'bash',
        [
          '-c',
          renderHostScript(METRICS_READ, {
            ...textfileValues(deployTextfile({ project: 'shop', 'metrics-dir': metricsDir })),
            REMOTE_DIR: remoteDir,
          }),
        ],
        { encoding: 'utf8' },
      ),
    );

  it('reads the current release, its commit and the previous textfile', () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-metrics-'));
    mkdirSync(join(d, 'releases', RELEASE), { recursive: true });
    writeFileSync(join(d, 'releases', RELEASE, 'release.json'), JSON.stringify({ commit: 'c0ffee' }));
    symlinkSync(`releases/${RELEASE}`, join(d, 'current'));
    writeFileSync(join(d, 'berth-deploy-shop.prom'), 'x 1\n');
    const report = run(d, d);
    expect(readCurrent(report)).toEqual({ release: RELEASE, commit: 'c0ffee' });
    expect(Buffer.from(report.last('textfile')!, 'base64').toString()).toBe('x 1\n');
  });

  it('reports no current release without the link, and no commit from a broken release.json', () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-metrics-'));
    expect(readCurrent(run(d, d))).toBeUndefined();
    mkdirSync(join(d, 'releases', RELEASE), { recursive: true });
    writeFileSync(join(d, 'releases', RELEASE, 'release.json'), '{"commit": 5');
    symlinkSync(`releases/${RELEASE}`, join(d, 'current'));
    expect(readCurrent(run(d, d))).toEqual({ release: RELEASE, commit: '' });
  });

  it('refuses a current link that does not name a release id', () => {
    const lines = (current: string) => HostReport.parse(`::berth::current=${current}\n`);
    expect(readCurrent(lines('../../etc'))).toBeUndefined();
    expect(readCurrent(lines(`${RELEASE}"`))).toBeUndefined();
  });
});

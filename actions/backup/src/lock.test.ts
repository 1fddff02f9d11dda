import { describe, expect, it } from 'vitest';
import { HostReport } from '../../../lib/ssh/host-script.js';
import { stalePartials } from './partial.js';
import { holderLine, lockError } from './lock.js';

const inputs = {
  mode: 'backup' as const,
  project: 'shop',
  user: 'deploy',
  'remote-dir': '/opt/shop',
  'lock-timeout': 300,
};
const failed = (stdout: string, stderr = '') => ({ report: HostReport.parse(stdout), stderr });

describe('lockError', () => {
  it('names lock-timeout and the holder on a timeout', () => {
    expect(lockError(failed('::berth::lock-holder={"release":"r1"} '), inputs).message).toBe(
      'Input "lock-timeout": /opt/shop stayed locked for 300 s by another backup, restore or deploy: {"release":"r1"}',
    );
  });
  it('names flock and its package when the host has none', () => {
    expect(lockError(failed('::berth::missing=flock'), inputs).message).toMatch(
      /^flock is not installed on the host .*: sudo apt-get install util-linux$/,
    );
  });
  it('names remote-dir and the fix when it cannot be created or written', () => {
    expect(lockError(failed('::berth::blocked=not-creatable'), inputs).message).toBe(
      `Input "remote-dir": /opt/shop does not exist and deploy cannot create it: sudo install -d -o deploy /opt/shop (or set remote-dir to the project's deploy directory)`,
    );
    expect(lockError(failed('::berth::blocked=not-writable'), inputs).message).toBe(
      'Input "remote-dir": /opt/shop is not writable by deploy: sudo chown deploy /opt/shop',
    );
  });
  it('names metrics-dir when the textfile directory is unusable (checked before the lock)', () => {
    const withMetrics = { ...inputs, 'metrics-dir': '/var/lib/node-exporter' };
    expect(lockError(failed('::berth::metrics-dir-blocked=missing'), withMetrics).message).toMatch(
      /^Input "metrics-dir": \/var\/lib\/node-exporter does not exist on the host/,
    );
    expect(lockError(failed('::berth::metrics-dir-blocked=not-writable'), withMetrics).message).toMatch(
      /^Input "metrics-dir": \/var\/lib\/node-exporter is not writable by deploy/,
    );
  });
  it('otherwise says what the host said', () => {
    expect(lockError(failed('', 'a\nbash: boom'), inputs).message).toBe(
      'taking the lock /opt/shop/.lock failed: bash: boom',
    );
  });
});

describe('holderLine', () => {
  it('is one JSON line in deploy’s style: what, who, which run, since when', () => {
    const line = holderLine(inputs, new Date('2026-12-06T05:00:00Z'), {
      GITHUB_ACTOR: 'octo',
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_RUN_ID: '7',
    });
    expect(JSON.parse(line)).toEqual({
      backup: 'shop',
      actor: 'octo',
      run: 'https://github.com/o/r/actions/runs/7',
      since: '2026-12-06T05:00:00.000Z',
    });
  });
});

describe('stalePartials', () => {
  it('only ids older than 24 h are stale; the current backup never is', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    expect(
      stalePartials(
        ['20261205T115959Z-0001', '20261205T120001Z-0002', '20261206T115000Z-0003', '20201205T120001Z-0004'],
        '20201205T120001Z-0004',
        now,
      ),
    ).toEqual({
      stale: ['20261205T115959Z-0001'],
      fresh: ['20261205T120001Z-0002', '20261206T115000Z-0003'],
    });
  });
});

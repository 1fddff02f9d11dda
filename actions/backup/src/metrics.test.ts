import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../lib/ssh/textfile-metrics.js';
import { BACKUP_SERIES, backupSucceeded, backupTextfile, renderBackupMetrics } from './metrics.js';

const names = new Set<string>(Object.values(BACKUP_SERIES).map((s) => s.name));
const values = (text: string) =>
  Object.fromEntries(parseExposition(text, names).map((s) => [s.name, s.value]));

describe('renderBackupMetrics', () => {
  it('writes the values of this run and keeps the others from the previous file', () => {
    const first = renderBackupMetrics('', 'shop', { lastSuccess: 100, size: 2048, duration: 12.5 });
    expect(values(first)).toEqual({
      berth_backup_last_success_timestamp_seconds: 100,
      berth_backup_size_bytes: 2048,
      berth_backup_duration_seconds: 12.5,
    });
    expect(first).toContain('berth_backup_size_bytes{project="shop"} 2048');
    expect(first).toContain('# TYPE berth_backup_size_bytes gauge');
    const failed = renderBackupMetrics(first, 'shop', { lastFailure: 200 });
    const verified = renderBackupMetrics(failed, 'shop', { lastVerified: 300 });
    expect(values(verified)).toEqual({
      berth_backup_last_success_timestamp_seconds: 100,
      berth_backup_last_failure_timestamp_seconds: 200,
      berth_backup_size_bytes: 2048,
      berth_backup_duration_seconds: 12.5,
      berth_backup_last_verified_timestamp_seconds: 300,
    });
  });

  it('keeps nothing of another project, another metric or a malformed line', () => {
    const previous = [
      'berth_backup_size_bytes{project="other"} 5',
      'berth_backup_last_failure_timestamp_seconds{project="shop"} Inf',
      'berth_backup_last_failure_timestamp_seconds{project="shop} 7',
      'node_evil{project="shop"} 1',
    ].join('\n');
    const text = renderBackupMetrics(previous, 'shop', { lastSuccess: 1 });
    expect(values(text)).toEqual({ berth_backup_last_success_timestamp_seconds: 1 });
    expect(text).not.toMatch(/other|evil/);
  });
});

describe('backupSucceeded', () => {
  it('sets the success time, size and duration, and the verified time only when verified', () => {
    const u = backupSucceeded({ bytes: 10, verified: false }, Date.now() - 1500);
    expect(Object.keys(u).sort()).toEqual(['duration', 'lastSuccess', 'size']);
    expect(u.duration).toBeGreaterThanOrEqual(1.5);
    const v = backupSucceeded({ bytes: 10, verified: true }, Date.now());
    expect(v.lastVerified).toBe(v.lastSuccess);
  });
});

describe('backupTextfile', () => {
  it('is berth-backup-<project>.prom for backup and verify, nothing for restore', () => {
    const inputs = { project: 'shop', 'metrics-dir': '/m' };
    expect(backupTextfile({ ...inputs, mode: 'backup' })?.file).toBe('berth-backup-shop.prom');
    expect(backupTextfile({ ...inputs, mode: 'verify' })?.dir).toBe('/m');
    expect(backupTextfile({ ...inputs, mode: 'restore' })).toBeUndefined();
    expect(backupTextfile({ project: 'shop', mode: 'backup' })).toBeUndefined();
  });
});

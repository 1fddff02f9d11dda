import { describe, expect, it } from 'vitest';
import { keptBackups, parseRetention } from './retention.js';

describe('parseRetention', () => {
  it('reads rules in any order, none keeps everything', () => {
    expect(parseRetention('retention', 'daily=7,weekly=4,monthly=12')).toEqual({
      daily: 7,
      weekly: 4,
      monthly: 12,
    });
    expect(parseRetention('retention', 'monthly=2 daily=1')).toEqual({ daily: 1, weekly: 0, monthly: 2 });
    expect(parseRetention('retention', 'none')).toBeNull();
    expect(parseRetention('retention', '')).toBeNull();
  });
  it.each(['daily=x', 'hourly=3', 'daily=1,daily=2', 'daily=-1', 'daily=7;rm -rf /'])(
    'refuses %s naming the input',
    (value) => expect(() => parseRetention('retention', value)).toThrow(/^Input "retention": /),
  );
});

describe('keptBackups', () => {
  // 400 daily backups at 02:00 UTC, 2025-10-18 .. 2026-11-21 (a Saturday).
  const end = Date.UTC(2026, 10, 21, 2);
  const backups = Array.from({ length: 400 }, (_, i) => {
    const created = new Date(end - i * 86_400_000);
    return { id: created.toISOString().slice(0, 10), created };
  });

  it('daily=7,weekly=4,monthly=12 keeps exactly the expected days', () => {
    const kept = [...keptBackups(backups, { daily: 7, weekly: 4, monthly: 12 })].sort();
    const daily = [
      '2026-11-15',
      '2026-11-16',
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
    ];
    // ISO weeks end on Sunday: the newest backup of each of the 4 newest weeks.
    const weekly = ['2026-11-21', '2026-11-15', '2026-11-08', '2026-11-01'];
    // The newest backup of each of the 12 newest months: Nov 2026 (the 21st), then month ends.
    const monthly = [
      '2026-11-21',
      '2026-10-31',
      '2026-09-30',
      '2026-08-31',
      '2026-07-31',
      '2026-06-30',
      '2026-05-31',
      '2026-04-30',
      '2026-03-31',
      '2026-02-28',
      '2026-01-31',
      '2025-12-31',
    ];
    expect(kept).toEqual([...new Set([...daily, ...weekly, ...monthly])].sort());
    expect(kept).toHaveLength(7 + 2 + 11);
  });

  it('keeps only the newest of several backups in one day, and everything with a large policy', () => {
    const day = [0, 1, 2].map((h) => ({ id: `b${h}`, created: new Date(Date.UTC(2026, 0, 1, h)) }));
    expect([...keptBackups(day, { daily: 1, weekly: 0, monthly: 0 })]).toEqual(['b2']);
    expect(keptBackups(backups, { daily: 1000, weekly: 0, monthly: 0 }).size).toBe(400);
    expect(keptBackups(backups, { daily: 0, weekly: 0, monthly: 0 }).size).toBe(0);
  });
});

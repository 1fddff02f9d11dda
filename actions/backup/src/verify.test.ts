import { describe, expect, it } from 'vitest';
import { compareContent, compareRows } from './verify.js';

describe('verify comparisons', () => {
  const want = { files: 3, sha256: 'b'.repeat(64), hash: 'b2sum' as const };

  it('compares a scratch volume with the digest of the volume at backup time', () => {
    expect(compareContent({ ...want }, want)).toEqual({
      ok: true,
      detail: '3 files restored into a scratch volume, contents identical',
    });
    expect(compareContent({ ...want, files: 2 }, want).ok).toBe(false);
    expect(compareContent(undefined, want).detail).toMatch(/^restored \? files, digest \?;/);
    expect(compareContent(want, undefined).detail).toBe('the manifest has no content digest to compare with');
  });

  it('compares row counts table by table, naming what differs', () => {
    expect(compareRows({ 'public.a': 1 }, { 'public.a': 1 }, 'PostgreSQL')).toEqual({
      ok: true,
      detail: 'restored into a scratch PostgreSQL, 1 tables, row counts identical',
    });
    expect(compareRows({ 'public.a': 1 }, { 'public.a': 2, 'public.b': 0 }, 'PostgreSQL').detail).toBe(
      'row counts differ for public.a (1 restored, 2 backed up), public.b (missing restored, 0 backed up)',
    );
    expect(compareRows({}, undefined, 'MySQL').ok).toBe(false);
  });
});

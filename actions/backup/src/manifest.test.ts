import { describe, expect, it } from 'vitest';
import { parseContent, parseListing, parseManifest, parseRowCounts } from './manifest.js';

describe('store parsers', () => {
  it('reads a listing, ignoring anything else', () => {
    expect(
      parseListing(
        '::berth::complete=b\nnoise\n::berth::partial=p\n::berth::complete=a\n::berth::complete=x y\n::berth::symlink=l\n',
      ),
    ).toEqual({ complete: ['a', 'b'], partial: ['p'], symlinks: ['l'] });
  });

  it('accepts only Berth manifests with plain file names and sha256s', () => {
    const ok = {
      format: 'berth-backup/1',
      id: 'x',
      files: [{ name: 'volume-a.tar.zst', sha256: 'a'.repeat(64) }],
    };
    expect(parseManifest(JSON.stringify(ok), 'm').id).toBe('x');
    expect(() => parseManifest('{', 'm')).toThrow(/not valid JSON/);
    expect(() => parseManifest('{"format":"other"}', 'm')).toThrow(/not a Berth backup manifest/);
    const bad = { ...ok, files: [{ name: '../etc/passwd', sha256: 'a'.repeat(64) }] };
    expect(() => parseManifest(JSON.stringify(bad), 'm')).toThrow(/invalid file entry/);
  });

  it('refuses a forged manifest whose names or texts could be read as workflow commands', () => {
    const entry = {
      name: 'volume-a.tar.zst',
      source: 'volume:a',
      sha256: 'a'.repeat(64),
      rows: { 'public.t': 1 },
    };
    const ok = { format: 'berth-backup/1', id: 'x', project: 'p', created: '2026', files: [entry] };
    expect(parseManifest(JSON.stringify(ok), 'm').project).toBe('p');
    const forged = '\n::error::forged';
    for (const [field, m] of [
      ['id', { ...ok, id: `x${forged}` }],
      ['project', { ...ok, project: `p${forged}` }],
      ['created', { ...ok, created: '##[error]forged' }],
      ['files.0.source', { ...ok, files: [{ ...entry, source: `volume:a${forged}` }] }],
      [
        'files.0.rows.public.t\\n::error::forged',
        { ...ok, files: [{ ...entry, rows: { [`public.t${forged}`]: 1 } }] },
      ],
    ] as const) {
      const message = (() => {
        try {
          parseManifest(JSON.stringify(m), 'host:/b/x/manifest.json');
        } catch (error) {
          return (error as Error).message;
        }
        return 'accepted';
      })();
      expect(message).toBe(
        `host:/b/x/manifest.json is forged: "${field}" holds a line break, a control character or a workflow command`,
      );
    }
  });

  it('reads row counts and content digests', () => {
    expect(parseRowCounts('public.notes|5000\n"odd|name".t|3\n\n')).toEqual({
      'public.notes': 5000,
      '"odd|name".t': 3,
    });
    expect(parseRowCounts('__proto__|1')).toHaveProperty('__proto__', 1);
    expect(parseContent(`x\n::berth::content=4 ${'b'.repeat(64)} b2sum\n`)).toEqual({
      files: 4,
      sha256: 'b'.repeat(64),
      hash: 'b2sum',
    });
    expect(parseContent(`::berth::content=0 ${'c'.repeat(64)} sha256sum`)?.hash).toBe('sha256sum');
    expect(parseContent(`::berth::content=2 ${'c'.repeat(64)} b2sum 1024`)?.kib).toBe(1024);
    expect(parseContent(`::berth::content=4 ${'b'.repeat(64)} md5sum`)).toBeUndefined();
    expect(parseContent('::berth::content=')).toBeUndefined();
  });
});

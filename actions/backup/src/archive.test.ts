import { describe, expect, it } from 'vitest';
import { compressionOf, dumpFile, sourceOf, volumeFile } from './archive.js';

describe('backup files', () => {
  it('names files by source, compression and encryption', () => {
    expect(volumeFile('uploads', 'zstd', true)).toBe('volume-uploads.tar.zst.age');
    expect(volumeFile('uploads', 'none', false)).toBe('volume-uploads.tar');
    expect(dumpFile({ engine: 'postgres', service: 'db', database: 'app' }, 'gzip', true)).toBe(
      'postgres-db-app.dump.age',
    );
    expect(dumpFile({ engine: 'mariadb', service: 'db', database: 'shop' }, 'gzip', false)).toBe(
      'mariadb-db-shop.sql.gz',
    );
  });

  it('reads sources back, and refuses what Berth never writes', () => {
    expect(sourceOf({ source: 'volume:db-data' })).toEqual({ kind: 'volume', volume: 'db-data' });
    expect(sourceOf({ source: 'mysql:db/shop' })).toEqual({
      kind: 'dump',
      db: { engine: 'mysql', service: 'db', database: 'shop' },
    });
    for (const bad of [
      'volume:../x',
      'oracle:db/app',
      'postgres:db/a b',
      'postgres:db/app/x',
      'volume:',
      'x',
    ])
      expect(() => sourceOf({ source: bad })).toThrow(/the manifest lists a source Berth does not write/);
  });

  it('defaults the compression of older manifests', () => {
    expect(compressionOf({ source: 'volume:x' })).toBe('zstd');
    expect(compressionOf({ source: 'postgres:db/app' })).toBe('none');
    expect(compressionOf({ source: 'volume:x', compression: 'gzip' })).toBe('gzip');
  });
});

import { describe, expect, it } from 'vitest';
import { backupFiles, parseLongListing } from './sftp-remove.js';

describe('parseLongListing', () => {
  it('reads the type of each entry of an sftp ls -l', () => {
    const out = [
      'drwxr-xr-x    ? backup   root         4096 Dec  6 05:09 /srv/b/20260101T000000Z-aaaa',
      'lrwxrwxrwx    ? backup   root           34 Dec  6 05:09 /srv/b/20260101T000000Z-bbbb',
      '-rw-r--r--    ? backup   root            2 Dec  6 05:09 /srv/b/x/manifest.json',
      'sftp> ls -l /srv/b',
    ].join('\n');
    expect(parseLongListing(out)).toEqual(
      new Map([
        ['20260101T000000Z-aaaa', 'd'],
        ['20260101T000000Z-bbbb', 'l'],
        ['manifest.json', '-'],
      ]),
    );
  });
});

describe('backupFiles', () => {
  /** The files every backup directory may hold besides its archives, each with its `.part`. */
  const SMALL_FILES = ['manifest.json', 'manifest.json.sig', 'verify-failed'].flatMap((n) => [
    n,
    `${n}.part`,
  ]);

  it('names what the manifest lists, the manifest, its signature, the verify-failed mark and their .part files', () => {
    const manifest = JSON.stringify({
      files: [{ name: 'volume-a.tar.zst' }, { name: '*' }, { name: '../x' }],
    });
    expect(backupFiles(manifest, [])).toEqual(['volume-a.tar.zst', 'volume-a.tar.zst.part', ...SMALL_FILES]);
  });
  it('without a manifest: only the files Berth writes', () => {
    expect(backupFiles(undefined, ['postgres-db-app.dump.part', 'NOTES', 'volume-a.tar'])).toEqual([
      'postgres-db-app.dump.part',
      'postgres-db-app.dump.part.part',
      'volume-a.tar',
      'volume-a.tar.part',
      ...SMALL_FILES,
    ]);
  });
});

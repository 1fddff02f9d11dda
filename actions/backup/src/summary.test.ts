import { describe, expect, it } from 'vitest';
import type { ManifestFile } from './manifest.js';
import { backupSummary, restoreSummary, verifySummary, verifyTable } from './summary.js';

const file: ManifestFile = {
  name: 'volume-data.tar.zst.age',
  source: 'volume:data',
  compression: 'zstd',
  bytes: 2048,
  sha256: 'a'.repeat(64),
  encrypted: true,
};
const manifest = {
  format: 'berth-backup/1' as const,
  id: '20261122T050102Z-3fa1',
  project: 'shop',
  created: '2026-11-22T05:01:02.000Z',
  encrypted: true,
  files: [file],
};

describe('step summaries', () => {
  it('lists the checks, a failure that stopped verify last, in cells that cannot break the table', () => {
    const table = verifyTable({
      verified: false,
      checks: [
        { what: 'volume-data.tar.zst.age', ok: true, detail: '3 files restored' },
        { what: 'postgres-db-app.dump', ok: false, detail: 'row counts differ for a|b\n(1 restored)' },
      ],
      failure: new Error('the host went away'),
    });
    expect(table.split('\n')).toEqual([
      '| checked | result | how |',
      '| --- | --- | --- |',
      '| `volume-data.tar.zst.age` | ok | 3 files restored |',
      '| `postgres-db-app.dump` | **failed** | row counts differ for a\\|b (1 restored) |',
      '| verify | **failed** | the host went away |',
    ]);
  });

  it('says where a backup went, whether it is encrypted and verified, and what was pruned', () => {
    const text = backupSummary({
      id: manifest.id,
      project: 'shop',
      wheres: ['host:/b/x', 'ssh://u@h:22/b/x'],
      seconds: 1.25,
      compression: 'zstd',
      recipients: 2,
      files: [file],
      verify: { verified: true, checks: [] },
      pruned: [],
    });
    expect(text).toContain('To `host:/b/x` and `ssh://u@h:22/b/x` in 1.3 s');
    expect(text).toContain('encrypted with age to 2 recipient(s).');
    expect(text).toContain('Verified by a restore into scratch volumes: yes.');
    expect(text).toContain(`| \`volume-data.tar.zst.age\` | volume:data | 2.0 KB | \`${'a'.repeat(16)}…\` |`);
    expect(text).toContain('Pruned: none');
    const unverified = backupSummary({
      id: 'x',
      project: 'p',
      wheres: [],
      seconds: 0,
      compression: 'none',
      recipients: 0,
      files: [],
      verify: { verified: false, checks: [] },
    });
    expect(unverified).toContain('**not encrypted**');
    expect(unverified).toContain('Retention was not applied');
  });

  it('says what verify and restore read, from where', () => {
    expect(verifySummary('shop', 'host:/b/x', manifest, { verified: false, checks: [] })).toContain(
      'From `host:/b/x`, restored into scratch volumes and databases on the host: **it did not verify**.',
    );
    expect(restoreSummary('shop', 'host:/b/x', manifest)).toContain(
      'From `host:/b/x`: volume:data; every archive',
    );
  });
});

describe('where files were encrypted', () => {
  it('adds a column naming the host, the runner, or none per file', () => {
    const plain = { ...file, name: 'volume-logs.tar.zst', source: 'volume:logs', encrypted: false };
    const text = backupSummary({
      id: manifest.id,
      project: 'shop',
      wheres: ['host:/b/x'],
      seconds: 1,
      compression: 'zstd',
      recipients: 1,
      files: [file, { ...file, name: 'postgres-db-app.dump.age', source: 'postgres:db/app' }, plain],
      encryptedOn: new Map([
        [file.name, 'host'],
        ['postgres-db-app.dump.age', 'runner'],
        [plain.name, 'none'],
      ]),
      pruned: [],
    });
    expect(text).toContain('| file | source | size | sha256 | encrypted on |');
    expect(text).toMatch(/\| `volume-data\.tar\.zst\.age` \| volume:data \| .* \| the host \|/);
    expect(text).toMatch(/\| `postgres-db-app\.dump\.age` \| postgres:db\/app \| .* \| the runner \|/);
    expect(text).toMatch(/\| `volume-logs\.tar\.zst` \| volume:logs \| .* \| - \|/);
  });
});

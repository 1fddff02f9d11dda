import { describe, expect, it } from 'vitest';
import {
  backupIdDate,
  checkDecryptionKey,
  newBackupId,
  parseBackupId,
  parseDatabases,
  parseDestination,
  parseDestinations,
  parseRecipients,
  parseRetentionDays,
} from './inputs.js';

describe('parseDestination', () => {
  it('reads host: and ssh:// destinations', () => {
    expect(parseDestination('destination', 'host:/var/backups/shop/')).toEqual({
      kind: 'host',
      dir: '/var/backups/shop',
    });
    expect(parseDestination('destination', 'ssh://backup@10.0.0.5:2223/srv/b')).toEqual({
      kind: 'ssh',
      user: 'backup',
      host: '10.0.0.5',
      port: 2223,
      dir: '/srv/b',
    });
    expect(parseDestination('destination', 'ssh://backup@example.com/srv/b')).toMatchObject({ port: 22 });
  });
  it.each([
    'host:relative',
    'host:/a/../b',
    'host:/',
    'ssh://backup@h',
    "ssh://backup@h/srv/it's",
    'ssh://-oProxyCommand=x@h/d',
    'artifacts',
    's3://bucket',
  ])('refuses %s naming the input', (value) => {
    expect(() => parseDestination('destination', value)).toThrow(/^Input "destination": /);
  });
});

describe('parseDestinations', () => {
  it('reads one destination a line, artifact included, with host:/var/backups/<project> by default', () => {
    expect(parseDestinations('destinations', ['host:/b', 'artifact', 'ssh://u@h/d'], 'shop')).toEqual([
      { kind: 'host', dir: '/b' },
      { kind: 'artifact' },
      { kind: 'ssh', user: 'u', host: 'h', port: 22, dir: '/d' },
    ]);
    expect(parseDestinations('destinations', [], 'shop')).toEqual([
      { kind: 'host', dir: '/var/backups/shop' },
    ]);
  });
  it('refuses the same destination twice', () => {
    expect(() => parseDestinations('destinations', ['artifact', 'artifact'], 'shop')).toThrow(
      /^Input "destinations": artifact is listed twice/,
    );
    expect(() => parseDestinations('destinations', ['ssh://u@h:22/d', 'ssh://u@h/d/'], 'shop')).toThrow(
      /listed twice/,
    );
  });
  it('reads artifact-retention-days from 1 to 90', () => {
    expect(parseRetentionDays('artifact-retention-days', '')).toBeUndefined();
    expect(parseRetentionDays('artifact-retention-days', ' 90 ')).toBe(90);
    for (const bad of ['0', '91', '1.5', 'x', '-1'])
      expect(() => parseRetentionDays('artifact-retention-days', bad)).toThrow(
        /^Input "artifact-retention-days": /,
      );
  });
});

describe('parseDatabases', () => {
  it('reads service:engine:db lines (postgres, mysql, mariadb) and refuses anything else', () => {
    expect(parseDatabases('databases', ['db:postgres:app', 'my:mysql:shop', 'maria:mariadb:shop_2'])).toEqual(
      [
        { service: 'db', engine: 'postgres', database: 'app' },
        { service: 'my', engine: 'mysql', database: 'shop' },
        { service: 'maria', engine: 'mariadb', database: 'shop_2' },
      ],
    );
    for (const bad of [
      'db:postgres',
      'db:oracle:app',
      'db;x:postgres:app',
      'db:postgres:a b',
      'db:postgres:$(x)',
    ])
      expect(() => parseDatabases('databases', [bad])).toThrow(/^Input "databases": line 1/);
  });
});

describe('backup ids and recipients', () => {
  it('reads backup-id: an id, or latest / empty for the newest', () => {
    expect(parseBackupId('backup-id', ' 20261122T050102Z-3fa1 ')).toBe('20261122T050102Z-3fa1');
    expect(parseBackupId('backup-id', 'latest')).toBeUndefined();
    expect(parseBackupId('backup-id', '')).toBeUndefined();
    for (const bad of ['../20261122T050102Z-3fa1', 'newest', '20261122T050102Z-3FA1', '20261122T050102Z'])
      expect(() => parseBackupId('backup-id', bad)).toThrow(/^Input "backup-id": .* is not a backup id/);
  });

  it('makes sortable ids and reads their time back', () => {
    const id = newBackupId(new Date(Date.UTC(2026, 10, 22, 5, 1, 2, 345)), '3fa1');
    expect(id).toBe('20261122T050102Z-3fa1');
    expect(backupIdDate(id).toISOString()).toBe('2026-11-22T05:01:02.000Z');
  });
  it('accepts age recipients only', () => {
    expect(parseRecipients('encryption-recipients', ['age1qqqq'])).toEqual(['age1qqqq']);
    expect(() => parseRecipients('encryption-recipients', ['ssh-ed25519 AAAA'])).toThrow(
      /^Input "encryption-recipients": /,
    );
  });
});

describe('checkDecryptionKey', () => {
  const key = 'AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS7T2ZTA';
  it('takes an identity, or a key file as age-keygen writes it', () => {
    expect(() => checkDecryptionKey(key)).not.toThrow();
    const file = `# created: 2026-11-22T09:00:00Z\n# public key: age1qyqszqgpqyqszqgpqyqszqgp\n${key}\n`;
    expect(() => checkDecryptionKey(file)).not.toThrow();
  });
  it.each([
    ['a public key', 'age1qyqszqgpqyqszqgp'],
    ['only comments', '# created: x\n'],
    ['garbage', `${key}\nnot-a-key`],
  ])('refuses %s naming the input, without showing it', (_, value) => {
    expect(() => checkDecryptionKey(value)).toThrow(
      /^Input "decryption-key": is not an age identity .*content not shown\)$/,
    );
  });
});

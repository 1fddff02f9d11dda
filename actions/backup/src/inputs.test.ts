import { describe, expect, it } from 'vitest';
import { backupIdDate, newBackupId, parseDatabases, parseDestination, parseRecipients } from './inputs.js';

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
    'artifact',
    's3://bucket',
  ])('refuses %s naming the input', (value) => {
    expect(() => parseDestination('destination', value)).toThrow(/^Input "destination": /);
  });
});

describe('parseDatabases', () => {
  it('reads service:postgres:db lines and refuses anything else', () => {
    expect(parseDatabases('databases', ['db:postgres:app'])).toEqual([
      { service: 'db', engine: 'postgres', database: 'app' },
    ]);
    for (const bad of [
      'db:postgres',
      'db:mysql:app',
      'db;x:postgres:app',
      'db:postgres:a b',
      'db:postgres:$(x)',
    ])
      expect(() => parseDatabases('databases', [bad])).toThrow(/^Input "databases": line 1/);
  });
});

describe('backup ids and recipients', () => {
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

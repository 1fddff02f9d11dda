import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authenticity,
  judge,
  manifestProblem,
  pickGenuine,
  VERIFY_FAILED,
  type Authenticity,
} from './genuine.js';
import { backupIdDate, parseBackupId } from './inputs.js';
import type { Manifest } from './manifest.js';
import { signingPublicKey, signMessage, SIGNATURE_FILE } from './signature.js';
import type { BackupStore } from './store.js';

const { privateKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519').privateKey;
const now = new Date('2026-12-06T05:00:00Z');
const auth: Authenticity = {
  project: 'shop',
  publicKey: signingPublicKey(privateKey),
  allowUnsigned: false,
  now,
};
const manifest = (id: string, project = 'shop'): string =>
  JSON.stringify({ format: 'berth-backup/1', id, project, created: '', encrypted: false, files: [] });
const signed = (text: string, key = privateKey) =>
  new Map([
    ['manifest.json', text],
    [SIGNATURE_FILE, signMessage(key, text)],
  ]);

/** A destination holding backups: id -> its small files. */
function store(label: string, backups: Record<string, Map<string, string>>): BackupStore {
  return {
    label,
    where: (i: string, name?: string) => `${label}/${i}${name ? `/${name}` : ''}`,
    list: () => Promise.resolve({ complete: Object.keys(backups).sort(), partial: [] }),
    readFiles: (ids: readonly string[]) => Promise.resolve(new Map(ids.map((i) => [i, backups[i]!]))),
  } as unknown as BackupStore;
}

describe('impossible backup ids', () => {
  it.each([
    '20261399T000000Z-abcd',
    '20260431T000000Z-abcd',
    '20260101T250000Z-abcd',
    '20260101T006000Z-abcd',
  ])('%s is refused', (id) => {
    expect(() => backupIdDate(id)).toThrow(/impossible date/);
    expect(() => parseBackupId('backup-id', id)).toThrow(/^Input "backup-id": .*impossible date/);
  });
  it('a leap day is a date', () => expect(backupIdDate('20280229T120000Z-abcd').getUTCDate()).toBe(29));
});

describe('manifestProblem', () => {
  const m = (id: string, project = 'shop') => JSON.parse(manifest(id, project)) as Manifest;
  const dir = '20261206T040000Z-abcd';
  it.each([
    ['../../../../home/deploy/.ssh', dir, /is not a backup id/],
    ['20261206T040000Z-ffff', dir, /not the id of its directory, 20261206T040000Z-abcd/],
    ['20261399T000000Z-abcd', '20261399T000000Z-abcd', /impossible date/],
    ['20261206T051000Z-abcd', '20261206T051000Z-abcd', /dated in the future/],
  ])('refuses id %s in directory %s', (id, d, reason) => {
    expect(manifestProblem(m(id), d, 'shop', now)).toMatch(reason);
  });
  it('refuses another project, allows some clock skew', () => {
    expect(manifestProblem(m(dir, 'other'), dir, 'shop', now)).toMatch(/another project, "other"/);
    const skewed = '20261206T050200Z-abcd';
    expect(manifestProblem(m(skewed), skewed, 'shop', now)).toBeUndefined();
  });
});

describe('judge', () => {
  const id = '20261206T040000Z-abcd';
  const text = manifest(id);
  it('accepts a signed manifest of this project', () => {
    expect(judge(signed(text), id, 'w', auth)).toMatchObject({ signed: true, manifest: { id } });
  });
  it('refuses unsigned, wrongly signed, changed and marked backups', () => {
    expect(judge(new Map([['manifest.json', text]]), id, 'w', auth)).toEqual({
      reason: `it is unsigned (no ${SIGNATURE_FILE})`,
    });
    expect(judge(signed(text, other), id, 'w', auth)).toMatchObject({ reason: /another key/ });
    const changed = signed(text);
    changed.set('manifest.json', manifest(id, 'shop '));
    expect(judge(changed, id, 'w', auth)).toMatchObject({ reason: /does not match the manifest/ });
    const marked = signed(text);
    marked.set(VERIFY_FAILED, '');
    expect(judge(marked, id, 'w', auth)).toMatchObject({ reason: /failed verification/ });
  });
  it('with allow-unsigned takes an unsigned backup but still checks a signed one', () => {
    const lax = { ...auth, allowUnsigned: true };
    expect(judge(new Map([['manifest.json', text]]), id, 'w', lax)).toMatchObject({ signed: false });
    expect(judge(signed(text, other), id, 'w', lax)).toMatchObject({ reason: /another key/ });
  });
  it('quotes a forged manifest without letting it speak', () => {
    const forged = manifest(id).replace('"shop"', '"::error::pwned\\n"');
    expect(judge(signed(forged), id, 'w', auth)).toMatchObject({ reason: /forged/ });
  });
});

describe('pickGenuine', () => {
  const good = '20261206T040000Z-abcd';
  const newer = '20261206T045000Z-ffff';
  it('latest: the newest genuine backup at the first destination that has one, skipping forged ones', async () => {
    const offsite = store('ssh://b', {
      [good]: signed(manifest(good)),
      [newer]: new Map([['manifest.json', manifest(newer)]]),
    });
    const picked = await pickGenuine([store('host:/empty', {}), offsite], auth, undefined);
    expect(picked.manifest.id).toBe(good);
    expect(picked.store.label).toBe('ssh://b');
    expect(picked.skipped).toHaveLength(1);
    expect(picked.skipped[0]).toMatchObject({
      where: `ssh://b/${newer}`,
      reason: 'it is unsigned (no manifest.json.sig)',
    });
  });
  it('the primary wins even when another destination has a newer genuine one', async () => {
    const primary = store('host:/a', { [good]: signed(manifest(good)) });
    const second = store('ssh://b', { [newer]: signed(manifest(newer)) });
    expect((await pickGenuine([primary, second], auth, undefined)).store.label).toBe('host:/a');
  });
  it('an explicit id comes from the first destination where it is genuine, or fails with every reason', async () => {
    const forged = store('host:/a', { [good]: signed(manifest(good, 'other')) });
    const real = store('ssh://b', { [good]: signed(manifest(good)) });
    expect((await pickGenuine([forged, real], auth, good)).store.label).toBe('ssh://b');
    await expect(pickGenuine([forged, store('ssh://c', {})], auth, good)).rejects.toThrow(
      /^Input "backup-id": 20261206T040000Z-abcd is not a genuine backup of shop: host:\/a: it is a backup of another project, "other"; ssh:\/\/c: no complete backup 20261206T040000Z-abcd$/,
    );
  });
  it('authenticity comes from the inputs', () => {
    const a = authenticity({ project: 'p', 'allow-unsigned': true });
    expect(a).toMatchObject({ project: 'p', allowUnsigned: true, publicKey: undefined });
  });
});

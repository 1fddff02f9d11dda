import { describe, expect, it } from 'vitest';
import type { Inputs } from './inputs.js';
import type { BackupStore } from './store.js';
import { pickBackup } from './stores.js';

/** A store holding one backup `id` whose manifest says `text`. */
function storeWith(id: string, text: string): BackupStore {
  return {
    label: 'host:/b',
    where: (i: string, name?: string) => `host:/b/${i}${name ? `/${name}` : ''}`,
    list: () => Promise.resolve({ complete: [id], partial: [] }),
    readText: () => Promise.resolve(text),
  } as unknown as BackupStore;
}

describe('pickBackup', () => {
  const id = '20260101T000000Z-abcd';
  const manifest = (mid: string) =>
    JSON.stringify({ format: 'berth-backup/1', id: mid, project: 'p', files: [] });

  it('reads the manifest of the newest complete backup', async () => {
    const picked = await pickBackup([storeWith(id, manifest(id))], {} as Inputs);
    expect(picked.manifest.id).toBe(id);
  });

  it('refuses a manifest that describes another backup (its id names the files read)', async () => {
    await expect(pickBackup([storeWith(id, manifest('../../other'))], {} as Inputs)).rejects.toThrow(
      'host:/b/20260101T000000Z-abcd/manifest.json describes another backup, "../../other"',
    );
  });
});

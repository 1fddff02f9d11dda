import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as remote from './remote.js';
import { parseListing } from './store.js';

const run = (script: string, args: string[], input?: string): string =>
  execFileSync('bash', ['-c', script, 'berth-script', ...args], { input, encoding: 'utf8' });

describe('remote scripts', () => {
  const scripts = Object.entries(remote).filter(
    ([name, value]) => typeof value === 'string' && name !== 'ROW_COUNTS_SQL',
  ) as [string, string][];

  it.each(scripts)('%s is valid bash', (_name, script) => {
    execFileSync('bash', ['-n', '-c', script]);
  });

  it('writes through .part, lists only backup ids, deletes only backup ids', () => {
    const dir = mkdtempSync(join(tmpdir(), "berth remote '$(x)' "));
    const id = '20261122T050102Z-3fa1';
    run(remote.WRITE_FILE, [`${dir}/${id}`, 'manifest.json'], '{\n  "format": "berth-backup/1"\n}\n');
    mkdirSync(join(dir, '20261121T050102Z-0000'));
    mkdirSync(join(dir, 'not-a-backup'));
    writeFileSync(join(dir, 'NOTES.txt'), 'keep');
    expect(parseListing(run(remote.LIST_BACKUPS, [dir]))).toEqual({
      complete: [id],
      partial: ['20261121T050102Z-0000'],
    });
    expect(existsSync(join(dir, id, 'manifest.json.part'))).toBe(false);
    run(remote.REMOVE_BACKUPS, [dir, '20261121T050102Z-0000']);
    expect(() => run(remote.REMOVE_BACKUPS, [dir, '../etc'])).toThrow();
    expect(parseListing(run(remote.LIST_BACKUPS, [dir])).partial).toEqual([]);
    expect(existsSync(join(dir, 'NOTES.txt')) && existsSync(join(dir, 'not-a-backup'))).toBe(true);
  });
});

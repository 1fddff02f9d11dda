import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostReport, renderHostScript, type HostValues } from '../../../../lib/ssh/host-script.js';
import * as files from './files.js';
import * as lock from './lock.js';

const run = (script: string, values: HostValues, input = ''): HostReport =>
  HostReport.parse(
    execFileSync('bash', ['-c', renderHostScript(script, values)], { input, encoding: 'utf8' }),
  );

/** Holds `file` with flock (`-s` shared or `-x`) until the returned function is called. */
async function holding(file: string, mode: '-s' | '-x'): Promise<() => Promise<void>> {
  // One process holds the fd, so killing it lets go.
  const child = spawn('bash', ['-c', 'exec 8>>"$1"; flock "$2" 8; exec sleep 60', 'hold', file, mode], {
    stdio: 'ignore',
  });
  // flock has the lock once another non-blocking attempt fails.
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('flock', ['-n', '-x', file, 'true']);
    } catch {
      return () =>
        new Promise((resolve) => {
          child.once('exit', () => resolve());
          child.kill();
        });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill();
  throw new Error('flock did not take the lock');
}

describe('lock scripts', () => {
  it.each(Object.entries(lock).filter(([, v]) => typeof v === 'string' && v.includes('\n')))(
    '%s is valid bash',
    (_name, script) => {
      execFileSync('bash', ['-n', '-c', script as string]);
    },
  );

  it('HOLD_PROJECT_LOCK creates remote-dir, writes the holder line and empties it when let go', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-lock-')), 'a', 'b');
    const report = run(lock.HOLD_PROJECT_LOCK, {
      REMOTE_DIR: dir,
      LOCK_TIMEOUT: 1,
      HOLDER: '{"backup":"x"}',
    });
    expect(report.last('created')).toBe(dir);
    expect(report.has('locked')).toBe(true);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe('');
  });

  it('HOLD_PROJECT_LOCK checks METRICS_DIR first and, when it is unusable, changes nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    const dir = join(root, 'remote');
    const values = { REMOTE_DIR: dir, LOCK_TIMEOUT: 1, HOLDER: 'x', METRICS_FILE: 'berth-backup-x.prom' };
    let report: HostReport | undefined;
    try {
      execFileSync(
        'bash',
        ['-c', renderHostScript(lock.HOLD_PROJECT_LOCK, { ...values, METRICS_DIR: join(root, 'no') })],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
    } catch (error) {
      report = HostReport.parse((error as { stdout: string }).stdout);
    }
    expect(report?.last('metrics-dir-blocked')).toBe('missing');
    expect(existsSync(dir)).toBe(false);
    const ok = run(lock.HOLD_PROJECT_LOCK, { ...values, METRICS_DIR: root });
    expect(ok.last('metrics-dir')).toBe('ok');
    expect(ok.has('locked')).toBe(true);
  });

  it('HOLD_PROJECT_LOCK waits for the holder, names it, and gives up after LOCK_TIMEOUT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    writeFileSync(join(dir, '.lock'), '{"release":"r1"}\n');
    const release = await holding(join(dir, '.lock'), '-x');
    try {
      const script = renderHostScript(lock.HOLD_PROJECT_LOCK, {
        REMOTE_DIR: dir,
        LOCK_TIMEOUT: 0,
        HOLDER: 'me',
      });
      let out = '';
      try {
        execFileSync('bash', ['-c', script], { input: '', encoding: 'utf8' });
      } catch (error) {
        out = (error as { stdout: string; status: number }).stdout;
        expect((error as { status: number }).status).toBe(75);
      }
      const report = HostReport.parse(out);
      expect(report.last('waiting')).toBe('{"release":"r1"} ');
      expect(report.last('lock-holder')).toBe('{"release":"r1"} ');
      expect(report.has('locked')).toBe(false);
    } finally {
      await release();
    }
  });

  it('REMOVE_UNHELD removes nothing while a writer holds the directory, then only unfinished, real directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-dest-'));
    const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
    writeFileSync(join(outside, 'precious'), 'x');
    const [old, done, linked] = ['20200101T000000Z-0001', '20200101T000000Z-0002', '20200101T000000Z-0003'];
    mkdirSync(join(dir, old));
    mkdirSync(join(dir, done));
    writeFileSync(join(dir, done, 'manifest.json'), '{}');
    symlinkSync(outside, join(dir, linked));
    const ids = [old, done, linked];
    writeFileSync(join(dir, lock.DESTINATION_LOCK), '');
    const release = await holding(join(dir, lock.DESTINATION_LOCK), '-s');
    try {
      expect(run(lock.REMOVE_UNHELD, { DIR: dir, IDS: ids }).has('busy')).toBe(true);
      expect(existsSync(join(dir, old))).toBe(true);
    } finally {
      await release();
    }
    const report = run(lock.REMOVE_UNHELD, { DIR: dir, IDS: ids });
    expect(report.all('removed')).toEqual([old]);
    expect(report.all('symlink')).toEqual([linked]);
    expect(existsSync(join(dir, done, 'manifest.json'))).toBe(true);
    expect(existsSync(join(outside, 'precious'))).toBe(true);
    expect(() => run(lock.REMOVE_UNHELD, { DIR: dir, IDS: ['../x'] })).toThrow();
  });

  it('HOLD_WRITERS holds every directory shared until stdin closes', () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-dest-'));
    const dirs = [join(root, 'a'), join(root, 'b')];
    expect(run(lock.HOLD_WRITERS, { DIRS: dirs, LOCK_TIMEOUT: 1 }).has('locked')).toBe(true);
    for (const d of dirs) expect(existsSync(join(d, lock.DESTINATION_LOCK))).toBe(true);
  });

  it('REMOVE_BACKUPS leaves a symlinked id alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-dest-'));
    const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
    writeFileSync(join(outside, 'precious'), 'x');
    symlinkSync(outside, join(dir, '20200101T000000Z-0003'));
    const report = run(files.REMOVE_BACKUPS, { DIR: dir, IDS: ['20200101T000000Z-0003'] });
    expect(report.all('symlink')).toEqual(['20200101T000000Z-0003']);
    expect(existsSync(join(dir, '20200101T000000Z-0003', 'precious'))).toBe(true);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_PRELUDE, renderAssignments, type HostValues } from '../../../../lib/ssh/host-script.js';
import { AFTER_SWITCH, BRING_BACK, GUARD } from './modes.js';

/** The snippets under the real prelude, with the deploy script's other functions stubbed. */
function run(values: HostValues, body: string, cwd?: string) {
  const stubs = `stage=test; status=failed
audit() { echo "AUDIT $status"; }
unlock() { echo UNLOCKED; }
fail() { in_fail=1; echo "FAIL $1"; exit 1; }
`;
  const script = `${HOST_PRELUDE}${renderAssignments(values)}\n${stubs}${BRING_BACK}${body}`;
  return spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd });
}

describe('the ERR traps', () => {
  it('before the switch, an unexpected failure goes through fail(), named by its first line', () => {
    const r = run(
      {},
      `${GUARD}x=$(false) || true\nif false; then :; fi\nls /nonexistent-berth 'two\nlines'\necho unreachable\n`,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL line \d+: `ls \/nonexistent-berth 'two` exited with 2$/m);
    expect(r.stdout).not.toContain('unreachable');
    expect(r.stderr).toMatch(/berth: line \d+: `ls \/nonexistent-berth 'two …` exited with 2/);
  });

  it('after the switch, an unexpected failure is a warning: status deployed, audit line, unlock, exit 0', () => {
    const r = run({ RELEASE: 'r1' }, `${AFTER_SWITCH}stage=retention\nfalse\necho unreachable\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^::berth::warning=release r1 is live, but the script failed after the switch \(in retention\) at line \d+: `false` exited with 1$/m,
    );
    expect(r.stdout).toContain('::berth::status=deployed\nAUDIT deployed\nUNLOCKED\n');
    expect(r.stdout).not.toContain('unreachable');
  });
});

describe('bring_back', () => {
  function host(): string {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bring-back-'));
    for (const r of [
      '20260101T000000Z-aaaaaaa-0001',
      '20260102T000000Z-bbbbbbb-0002',
      '20260103T000000Z-ccccccc-0003',
    ]) {
      mkdirSync(join(dir, 'releases', r, '.berth'), { recursive: true });
      writeFileSync(
        join(dir, 'releases', r, '.berth/compose-files'),
        'docker-compose.yml\n.berth/pins.yml\n',
      );
    }
    writeFileSync(join(dir, 'releases/20260102T000000Z-bbbbbbb-0002/.berth/orchestrator'), 'swarm\n');
    mkdirSync(join(dir, 'releases/.incoming-up/.berth/probes'), { recursive: true });
    writeFileSync(join(dir, 'releases/.incoming-up/.berth/probes/0.curl'), 'url = "x"\n');
    writeFileSync(join(dir, 'releases/.incoming-up/.berth/registry-password'), 'pw');
    symlinkSync('releases/20260103T000000Z-ccccccc-0003', join(dir, 'current'));
    return dir;
  }
  const body = `incoming=releases/.incoming-up; previous=20260103T000000Z-ccccccc-0003
bring_back
echo "RELEASE=$RELEASE MODE=$MODE EXTRA=$audit_extra"
`;

  it("brings previous back: the newest kept release older than the current one, with this run's files", () => {
    const dir = host();
    const r = run({ TARGET: 'previous', REMOTE_DIR: dir, MODE: 'compose' }, body, dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('::berth::release=20260102T000000Z-bbbbbbb-0002\n');
    expect(r.stdout).toContain(
      'RELEASE=20260102T000000Z-bbbbbbb-0002 MODE=swarm EXTRA=,"release":"20260102T000000Z-bbbbbbb-0002","orchestrator":"swarm"',
    );
    const berth = join(dir, 'releases/20260102T000000Z-bbbbbbb-0002/.berth');
    expect(readFileSync(join(berth, 'probes/0.curl'), 'utf8')).toBe('url = "x"\n');
    expect(readFileSync(join(berth, 'registry-password'), 'utf8')).toBe('pw');
    expect(existsSync(join(dir, 'releases/.incoming-up'))).toBe(false);
  });

  it('brings an explicit id back, compose when it recorded no orchestrator', () => {
    const dir = host();
    const r = run({ TARGET: '20260101T000000Z-aaaaaaa-0001', REMOTE_DIR: dir, MODE: 'swarm' }, body, dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('RELEASE=20260101T000000Z-aaaaaaa-0001 MODE=compose');
  });

  it.each([
    ['20200101T000000Z-0000000-0000', 'is not a kept release on this host'],
    ['20260103T000000Z-ccccccc-0003', 'is already the current release'],
  ])('refuses %s before changing anything: exit 3, the upload gone, unlocked', (target, why) => {
    const dir = host();
    const r = run({ TARGET: target, REMOTE_DIR: dir, MODE: 'compose' }, body, dir);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain(`::berth::target-error=${target} ${why}`);
    expect(r.stdout).toContain('UNLOCKED');
    expect(r.stdout).not.toContain('AUDIT');
    expect(existsSync(join(dir, 'releases/.incoming-up'))).toBe(false);
  });
});

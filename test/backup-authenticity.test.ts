// berth/backup against forged backups on the lab's off-site destination (the sftp-only backup
// account; this machine is that host, so the test writes there directly, as an attacker holding that
// account would): one genuine signed backup, and next to it newer forgeries (valid age to the public
// recipient, unsigned; signed with another key; another project's; a `..` id; an impossible date; a
// future date). Verify and restore refuse each, naming the destination and the reason; `latest`
// picks the genuine one; nothing forged reaches the log as a workflow command. Also: a backup that
// failed verification is marked and passed over, unsigned backups only with allow-unsigned, and
// unencrypted off-host destinations refused.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, labDir, readLab, sshInputs } from '../scripts/lab/lab.js';
import { sshdConnections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const signing = backupSigning(lab);
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-auth-${id}`;
const volume = `${project}_data`;
const sshDir = `${lab.raw.LAB_BACKUP_DIR}/berth-auth-${id}`;
const sshDestination = `ssh://${lab.raw.LAB_BACKUP_USER}@${lab.sshHost}:${lab.jumpPort}${sshDir}`;
const hostDir = `/home/deploy/berth-auth-${id}`;
const sh = async (command: string): Promise<string> => (await exec('bash', ['-c', command])).stdout;
const work = mkdtempSync(join(tmpdir(), 'berth-auth-'));
const volumeContent = () =>
  sh(
    `docker run --rm -v ${volume}:/v:ro ${lab.baseImage} sh -c 'cd /v && find . -type f | sort | xargs cat'`,
  );

let identity: string;
let recipient: string;

function backup(extra: Record<string, string | undefined> = {}): Promise<ActionResult> {
  return runAction('backup', {
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': `/home/deploy/${project}`,
      volumes: 'data',
      'helper-image': lab.baseImage,
      destinations: sshDestination,
      compression: 'gzip',
      'encryption-recipients': recipient,
      'decryption-key': identity,
      'signing-key': signing.key,
      ...extra,
    },
  });
}

/** A backup id for `date` (as the action makes them). */
const idAt = (date: Date, random: string) =>
  `${date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${random}`;

/** Signs `dir/manifest.json` with ssh-keygen and `keyFile`, as `ssh-keygen -Y sign -n berth-backup`. */
function sign(dir: string, keyFile: string): void {
  execFileSync('ssh-keygen', [
    '-q',
    '-Y',
    'sign',
    '-f',
    keyFile,
    '-n',
    'berth-backup',
    join(dir, 'manifest.json'),
  ]);
}

/**
 * Writes a forged backup `dirId` at the off-site destination: a real age archive (to the public
 * recipient) of the attacker's files, and a manifest `edit` made of the genuine one.
 */
async function forge(
  dirId: string,
  edit: (m: Record<string, unknown>) => void,
  keyFile: string | undefined,
  genuine: Record<string, unknown>,
): Promise<void> {
  const dir = join(sshDir, dirId);
  mkdirSync(dir, { recursive: true });
  const payload = join(work, `payload-${dirId}`);
  mkdirSync(payload, { recursive: true });
  writeFileSync(join(payload, 'pwned.txt'), 'attacker data\n');
  const tar = execFileSync('tar', ['-cf', '-', '-C', payload, '.']);
  const e = new Encrypter();
  e.addRecipient(recipient);
  const archive = Buffer.from(await e.encrypt(tar));
  writeFileSync(join(dir, 'volume-data.tar.age'), archive);
  const m = structuredClone(genuine);
  m.id = dirId;
  m.files = [
    {
      name: 'volume-data.tar.age',
      source: 'volume:data',
      compression: 'none',
      bytes: archive.length,
      sha256: createHash('sha256').update(archive).digest('hex'),
      encrypted: true,
    },
  ];
  edit(m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  if (keyFile) sign(dir, keyFile);
  await sh(`chown -R ${lab.raw.LAB_BACKUP_USER}: ${dir}`);
}

const labKey = join(labDir, 'backup-signing', 'k');
const otherKey = join(work, 'other');
/**
 * The forgeries: directory id (the first four are set, newer than the genuine backup, once it exists),
 * and the reason expected.
 */
const forged = {
  unsigned: {
    dirId: 'f001',
    reason: /it is unsigned \(no manifest\.json\.sig\)/,
  },
  wrongKey: {
    dirId: 'f002',
    reason: /the signature is made by another key than signing-public-key/,
  },
  otherProject: {
    dirId: 'f003',
    reason: /it is a backup of another project, "shop"/,
  },
  dotdot: {
    dirId: 'f004',
    reason: /its id "\.\.\/\.\.\/\.\.\/\.\.\/home\/deploy\/\.ssh" is not a backup id/,
  },
  impossible: { dirId: '20261399T000000Z-f005', reason: /names an impossible date/ },
  future: { dirId: '20990101T000000Z-f006', reason: /is dated in the future/ },
};

let genuineId: string;
let contentBefore: string;

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
  await sh(
    `docker volume create --label com.docker.compose.project=${project} --label com.docker.compose.volume=data ${volume} >/dev/null && ` +
      `docker run --rm -v ${volume}:/v ${lab.baseImage} sh -c 'echo genuine >/v/a.txt && mkdir -p /v/sub && echo data >/v/sub/b.txt'`,
  );
  contentBefore = await volumeContent();
  const r = await backup();
  expect(r.exitCode, r.log).toBe(0);
  genuineId = r.outputs['backup-id']!;
  // Newer than the genuine one, a few seconds at most in the future (within the clock skew allowed).
  const taken = Date.parse(
    genuineId.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z.*/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const newer = [forged.unsigned, forged.wrongKey, forged.otherProject, forged.dotdot];
  newer.forEach((f, i) => (f.dirId = idAt(new Date(taken + (i + 1) * 1000), f.dirId)));
  const genuine = JSON.parse(readFileSync(join(sshDir, genuineId, 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await forge(forged.unsigned.dirId, () => {}, undefined, genuine);
  // Its project holds a workflow command: nothing of it may reach the log as one.
  await forge(
    forged.wrongKey.dirId,
    (m) => (m.project = `${project}\n::error::forged-by-attacker`),
    otherKey,
    genuine,
  );
  await forge(forged.otherProject.dirId, (m) => (m.project = 'shop'), labKey, genuine);
  await forge(forged.dotdot.dirId, (m) => (m.id = '../../../../home/deploy/.ssh'), labKey, genuine);
  await forge(forged.impossible.dirId, () => {}, labKey, genuine);
  await forge(forged.future.dirId, () => {}, labKey, genuine);
}, 300_000);

afterAll(async () => {
  await sh(
    `docker volume rm -f ${volume} >/dev/null 2>&1; rm -rf ${sshDir} ${hostDir} ${work} /home/deploy/${project}`,
  ).catch(() => undefined);
});

/** No line of the step's output is a workflow command made of forged content. */
function obeysNothingForged(r: ActionResult): void {
  expect(r.log).not.toMatch(/^::error::forged-by-attacker/m);
  expect(r.errors.join('\n')).not.toMatch(/^forged-by-attacker/m);
}

describe('forged backups at the off-site destination', () => {
  it('latest is the genuine backup; every newer forgery is passed over, named with its reason', async () => {
    const r = await backup({ mode: 'verify' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs['backup-id']).toBe(genuineId);
    expect(r.outputs.verified).toBe('true');
    const warnings = r.warnings.join('\n');
    for (const { dirId, reason } of Object.values(forged)) {
      const line = r.warnings.find((w) => w.startsWith(`${sshDestination}/${dirId} is not used: `));
      expect(line ?? warnings).toMatch(reason);
      expect(r.summary).toContain(`${sshDestination}/${dirId}`);
    }
    expect(r.summary).toContain('Backups passed over');
    expect(r.summary).toContain('signature was verified');
    obeysNothingForged(r);
  });

  it.each(Object.entries(forged).filter(([k]) => k !== 'impossible'))(
    'verify and restore refuse the %s one by backup-id, naming the destination and the reason',
    async (_, { dirId, reason }) => {
      for (const mode of ['verify', 'restore']) {
        const r = await backup({ mode, 'backup-id': dirId });
        expect(r.exitCode).toBe(1);
        expect(r.errors[0]).toMatch(
          new RegExp(
            `^Input "backup-id": ${dirId} is not a genuine backup of ${project}: ${sshDestination.replace(/[/.]/g, '\\$&')}: `,
          ),
        );
        expect(r.errors[0]).toMatch(reason);
        obeysNothingForged(r);
      }
      expect(await volumeContent()).toBe(contentBefore);
    },
  );

  it('an impossible date is refused as backup-id before any connection', async () => {
    const before = sshdConnections(lab.sshLog);
    const r = await backup({ mode: 'restore', 'backup-id': forged.impossible.dirId });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "backup-id": "20261399T000000Z-f005" names an impossible date/);
    expect(sshdConnections(lab.sshLog)).toBe(before);
  });

  it('restore of latest restores the genuine backup', async () => {
    await sh(`docker run --rm -v ${volume}:/v ${lab.baseImage} sh -c 'echo changed >/v/a.txt'`);
    const r = await backup({ mode: 'restore' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs['backup-id']).toBe(genuineId);
    expect(await volumeContent()).toBe(contentBefore);
    expect(await sh(`ls ${sshDir}/${forged.unsigned.dirId}`)).not.toContain('verify-failed');
    obeysNothingForged(r);
    // The signing key is masked, every line, and never printed.
    const keyLines = signing.key.split('\n').filter((l) => /[A-Za-z0-9]{20}/.test(l));
    for (const line of keyLines) {
      expect(r.masks).toContain(line);
      expect(r.log).not.toContain(line);
    }
  });

  it('a backup that failed verification is marked and never latest again', async () => {
    const r = await backup();
    expect(r.exitCode, r.log).toBe(0);
    const newer = r.outputs['backup-id']!;
    // One byte of its archive flipped: it no longer matches its (genuine) manifest.
    const file = join(sshDir, newer, 'volume-data.tar.gz.age');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    writeFileSync(file, bytes);
    const v = await backup({ mode: 'verify' });
    expect(v.exitCode).toBe(1);
    expect(v.outputs['backup-id']).toBe(newer);
    expect(v.warnings.join('\n')).toContain(
      `${sshDestination}/${newer} failed verification: marked (verify-failed)`,
    );
    expect(await sh(`ls ${sshDir}/${newer}`)).toContain('verify-failed');
    const again = await backup({ mode: 'verify' });
    expect(again.exitCode, again.log).toBe(0);
    expect(again.outputs['backup-id']).toBe(genuineId);
    expect(again.warnings.join('\n')).toContain(
      `${sshDestination}/${newer} is not used: it failed verification (marked verify-failed)`,
    );
    await sh(`rm -rf ${sshDir}/${newer}`);
  });
});

describe('unsigned and unencrypted backups', () => {
  it('an unsigned backup (allow-unsigned) says so loudly, and restores only with allow-unsigned', async () => {
    const r = await backup({
      destinations: `host:${hostDir}`,
      'signing-key': undefined,
      'allow-unsigned': 'true',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/No signing-key: this backup is NOT signed/);
    expect(r.summary).toContain('**Not signed**');
    const unsigned = r.outputs['backup-id']!;
    const refused = await backup({ mode: 'verify', destinations: `host:${hostDir}`, 'backup-id': unsigned });
    expect(refused.exitCode).toBe(1);
    expect(refused.errors[0]).toMatch(/host:.*: it is unsigned \(no manifest\.json\.sig\)/);
    const accepted = await backup({
      mode: 'verify',
      destinations: `host:${hostDir}`,
      'backup-id': unsigned,
      'allow-unsigned': 'true',
    });
    expect(accepted.exitCode, accepted.log).toBe(0);
    expect(accepted.summary).toContain('accepted only because `allow-unsigned: true`');
    // A signed backup is still checked with allow-unsigned: the wrongly signed forgery stays refused.
    const wrong = await backup({
      mode: 'verify',
      'backup-id': forged.wrongKey.dirId,
      'allow-unsigned': 'true',
    });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.errors[0]).toMatch(forged.wrongKey.reason);
  });

  it.each([
    ['ssh://', sshDestination],
    ['artifact', 'artifact'],
  ])('a backup to %s without encryption-recipients is refused before any connection', async (what, to) => {
    const before = sshdConnections(lab.sshLog);
    const r = await backup({ destinations: to, 'encryption-recipients': undefined });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      new RegExp(
        `^Input "encryption-recipients": is required for ${what.replace(/\//g, '\\/')} destinations`,
      ),
    );
    expect(sshdConnections(lab.sshLog)).toBe(before);
  });
});

// berth/backup's locks against the lab: the project lock on `<remote-dir>/.lock` that deploy takes
// (two backups of a project in turn, a restore waiting for a deploy), the destination lock that keeps
// retention away from backups being written (another project sharing the directory, interrupted
// backups removed only when old and unheld), removal that never goes through a symlinked id, and
// volume labels from the host checked like inputs. The projects are labelled volumes read by the
// lab's base image; the host is this machine, so its files and processes are looked at directly.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labelledVolume } from './lab-files.js';
import { backupSigning, readLab, sshInputs } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const [projectA, projectB] = [`berth-lk-${id}-a`, `berth-lk-${id}-b`];
const remoteDir = (project: string) => `/home/deploy/${project}`;
const dest = `/home/deploy/berth-lk-${id}-backups`;
const sftpDir = `${lab.raw.LAB_BACKUP_DIR}/berth-lk-${id}`;
const sftpDest = `ssh://${lab.raw.LAB_BACKUP_USER}@${lab.sshHost}:${lab.jumpPort}${sftpDir}`;
/** Where the symlinked backups really are: outside the destinations, readable by their users. */
const precious = {
  host: `/home/deploy/berth-lk-${id}-precious`,
  sftp: `${lab.raw.LAB_BACKUP_DIR}/berth-lk-${id}-precious`,
};
const DEST_LOCK = '.berth-backup.lock';

const sh = async (command: string): Promise<string> =>
  (await exec('bash', ['-c', command], { maxBuffer: 16 << 20 })).stdout;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const volumeDigest = (volume: string) =>
  sh(
    `docker run --rm -v ${volume}:/v:ro --entrypoint sh ${lab.baseImage} -c 'cd /v && find . | sort && find . -type f -exec sha256sum {} + | sort'`,
  );

function backup(project: string, extra: Record<string, string | undefined> = {}): Promise<ActionResult> {
  return runAction('backup', {
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir(project),
      'helper-image': lab.baseImage,
      destinations: `host:${dest}`,
      'signing-key': backupSigning(lab).key,
      // These backups are about locks and removal: plain files are easier to look at.
      'allow-unencrypted': 'true',
      ...extra,
    },
  });
}

/** A process on this machine holding `file` with flock like deploy (`-x`) or a writer (`-s`), with `line` in it. */
class Holder {
  private readonly child: ChildProcess;
  private readonly locked: Promise<void>;

  constructor(file: string, mode: '-x' | '-s', line?: string) {
    const script = `exec 9>>"$1"; flock ${mode} 9; ${line ? 'printf "%s\\n" "$2" >"$1"; ' : ''}echo locked; read -r _; ${line ? ': >"$1"; ' : ''}flock -u 9`;
    this.child = spawn('bash', ['-c', script, 'holder', file, line ?? ''], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.locked = new Promise((resolve) => this.child.stdout!.once('data', () => resolve()));
  }

  async held(): Promise<this> {
    await this.locked;
    return this;
  }

  release(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end('\n');
    });
  }
}

/** Waits until a host process is waiting for a lock with `flock -w <seconds> 9` (a distinct lock-timeout per test). */
async function waitingFor(seconds: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await sh(`pgrep -u deploy -f '^flock -w ${seconds} 9$' || true`)).trim() !== '') return;
    await sleep(50);
  }
  throw new Error(`nothing waited with flock -w ${seconds}`);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

const ids = async (dir: string): Promise<string[]> =>
  (await sh(`ls -A ${dir} 2>/dev/null || true`))
    .split('\n')
    .filter((x) => /^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(x));
const complete = (dir: string, backupId: string) =>
  sh(`test -f ${dir}/${backupId}/manifest.json && echo yes || echo no`);

beforeAll(async () => {
  await labelledVolume(
    lab.baseImage,
    projectA,
    `${projectA}_files`,
    'files',
    'echo a >/v/a.txt && head -c 100000 /dev/urandom >/v/blob',
  );
  await labelledVolume(lab.baseImage, projectB, `${projectB}_files`, 'files', 'echo b >/v/b.txt');
});

afterAll(async () => {
  await sh(
    `docker volume ls -q --filter label=com.docker.compose.project | grep -E '^berth-lk-${id}' | xargs -r docker volume rm -f >/dev/null`,
  ).catch(() => undefined);
  await sh(
    `rm -rf ${remoteDir(projectA)} ${remoteDir(projectB)} ${dest} ${sftpDir} ${precious.sftp} /home/deploy/berth-lk-${id}-*`,
  ).catch(() => undefined);
});

describe('the project lock (shared with berth/deploy)', () => {
  it('two backups of one project at once: the second waits for the first, naming it, and both complete', async () => {
    // The destination's lock held the way the removal of interrupted backups holds it keeps the
    // first backup inside the project lock until the second is seen waiting.
    await sh(
      `install -d -o deploy -g deploy ${dest} && install -o deploy -g deploy -m 600 /dev/null ${dest}/${DEST_LOCK}`,
    );
    const removal = await new Holder(`${dest}/${DEST_LOCK}`, '-x').held();
    const first = backup(projectA);
    await until('the first backup holds the project lock', async () =>
      (await sh(`cat ${remoteDir(projectA)}/.lock 2>/dev/null || true`)).includes(`"backup":"${projectA}"`),
    );
    const second = backup(projectA, { 'lock-timeout': '301' });
    await waitingFor(301);
    await removal.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.exitCode, a.log).toBe(0);
    expect(b.exitCode, b.log).toBe(0);
    expect(b.log).toMatch(
      new RegExp(
        `Waiting up to 301 s for the lock ${remoteDir(projectA)}/\\.lock, held by \\{"backup":"${projectA}","actor":"lab-tester","run":"https://github\\.com/berth-lab/example/actions/runs/1","since":"[^"]+"\\}`,
      ),
    );
    expect(a.log).not.toMatch(/Waiting up to/);
    for (const r of [a, b]) expect(await complete(dest, r.outputs['backup-id']!)).toBe('yes\n');
    // Let go: the lock file's holder line is empty again, as deploy leaves it.
    expect(readFileSync(`${remoteDir(projectA)}/.lock`, 'utf8')).toBe('');
  });

  it('a restore waits while a deploy holds <remote-dir>/.lock, then restores', async () => {
    // Held exactly as berth/deploy's LOCK does (fd 9, its holder line in the file), by a process on
    // the host, rather than by a deploy of an app paused in a hook (the example app's build is costly).
    const before = await volumeDigest(`${projectA}_files`);
    await sh(`docker run --rm -v ${projectA}_files:/v --entrypoint sh ${lab.baseImage} -c 'rm /v/a.txt'`);
    const line = `{"release":"20261206-050000-lab","actor":"lab-tester","run":"https://github.com/berth-lab/example/actions/runs/9","since":"2026-12-06T05:00:00.000Z"}`;
    const deploy = await new Holder(`${remoteDir(projectA)}/.lock`, '-x', line).held();
    const timedOut = await backup(projectA, { mode: 'restore', 'lock-timeout': '1' });
    expect(timedOut.exitCode).toBe(1);
    expect(timedOut.errors).toEqual([
      `Input "lock-timeout": ${remoteDir(projectA)} stayed locked for 1 s by another backup, restore or deploy: ${line}`,
    ]);
    const restore = backup(projectA, { mode: 'restore', 'lock-timeout': '302' });
    await waitingFor(302);
    expect(await volumeDigest(`${projectA}_files`)).not.toBe(before);
    await deploy.release();
    const r = await restore;
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`Waiting up to 302 s for the lock ${remoteDir(projectA)}/.lock, held by ${line}`);
    expect(await volumeDigest(`${projectA}_files`)).toBe(before);
  });

  it('a host without flock: one error naming flock, nothing created', async () => {
    const dir = `/home/${lab.noFlockUser}/berth-lk-${id}`;
    const r = await backup(projectA, { user: lab.noFlockUser, 'remote-dir': dir });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      'flock is not installed on the host (backup, restore and deploy of a project take a lock in remote-dir): sudo apt-get install util-linux',
    ]);
    expect(await sh(`ls -d ${dir} 2>/dev/null || true`)).toBe('');
  });

  it('a remote-dir the user cannot create names remote-dir and the fix', async () => {
    const r = await backup(projectA, { 'remote-dir': undefined });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      `Input "remote-dir": /opt/${projectA} does not exist and deploy cannot create it: sudo install -d -o deploy /opt/${projectA} (or set remote-dir to the project's deploy directory)`,
    ]);
  });
});

describe('the destination lock and retention', () => {
  it('another project sharing the directory runs its retention while a backup is being written: nothing of it is deleted', async () => {
    await labelledVolume(lab.baseImage, projectA, `${projectA}_big`, 'big', 'truncate -s 3G /v/zeros');
    const completeA = await ids(dest);
    expect(completeA.length).toBeGreaterThanOrEqual(2);
    const writing = backup(projectA, { volumes: 'big', compression: 'gzip' });
    let partialA = '';
    // Paused mid-archive: the backup's directory is there, without a manifest, and stays so.
    await until('A is writing its big volume', async () => {
      const fresh = (await ids(dest)).filter((x) => !completeA.includes(x));
      if (fresh.length !== 1) return false;
      const size = await sh(`stat -c %s ${dest}/${fresh[0]}/volume-big.tar.gz.part 2>/dev/null || echo 0`);
      if (Number(size) === 0) return false;
      await sh(
        `docker ps -q --filter volume=${projectA}_big | xargs -r docker pause >/dev/null 2>&1 || true`,
      );
      partialA = fresh[0]!;
      return (await sh(`docker ps -q --filter status=paused --filter volume=${projectA}_big`)).trim() !== '';
    });
    let b: ActionResult;
    try {
      b = await backup(projectB, { retention: 'daily=1' });
      expect(b.exitCode, b.log).toBe(0);
      expect(b.log).toContain(
        `keeping backups without a manifest younger than 24 h (maybe being written): ${partialA}`,
      );
      expect(await sh(`ls ${dest}/${partialA}`)).toContain('volume-big.tar.gz.part');
    } finally {
      await sh(
        `docker ps -q --filter status=paused --filter volume=${projectA}_big | xargs -r docker unpause >/dev/null`,
      );
      await writing;
    }
    const a = await writing;
    expect(a.exitCode, a.log).toBe(0);
    expect(a.outputs['backup-id']).toBe(partialA);
    expect(await complete(dest, partialA)).toBe('yes\n');
    // B's retention judged B's backups only (the authenticity part of #19 filters the listing by project).
    for (const x of completeA) expect(await complete(dest, x), b.log).toBe('yes\n');
    await sh(`docker volume rm -f ${projectA}_big >/dev/null`);
  });

  it('an interrupted backup older than 24 h is removed, unless a backup is being written; a fresh one is kept', async () => {
    const old = '20200101T000000Z-0dd0';
    const stamp = new Date(Date.now() - 3600_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const fresh = `${stamp}-f0e5`;
    await sh(
      `for d in ${dest} ${sftpDir}; do for x in ${old} ${fresh}; do mkdir -p $d/$x && echo part >$d/$x/volume-files.tar.zst.part; done; done && ` +
        `chown -R deploy:deploy ${dest} && chown -R ${lab.raw.LAB_BACKUP_USER} ${sftpDir}`,
    );
    const writer = await new Holder(`${dest}/${DEST_LOCK}`, '-s').held();
    const whileWriting = await backup(projectB);
    await writer.release();
    expect(whileWriting.exitCode, whileWriting.log).toBe(0);
    expect(whileWriting.log).toContain(
      `host:${dest}: a backup is being written there; interrupted backups are left for a later run`,
    );
    expect(await ids(dest)).toContain(old);

    const r = await backup(projectB, { destinations: `host:${dest}\n${sftpDest}` });
    expect(r.exitCode, r.log).toBe(0);
    for (const dir of [dest, sftpDir]) {
      expect(await ids(dir), r.log).not.toContain(old);
      expect(await ids(dir)).toContain(fresh);
    }
    expect(r.log).toContain(`host:${dest}: removed interrupted backups: ${old}`);
    expect(r.log).toContain(
      `keeping backups without a manifest younger than 24 h (maybe being written): ${fresh}`,
    );
  });

  it('retention leaves a symlinked backup id alone, at ssh:// and at host:', async () => {
    const first = await backup(projectB, { destinations: `host:${dest}\n${sftpDest}` });
    expect(first.exitCode, first.log).toBe(0);
    const x = first.outputs['backup-id']!;
    // Moved out of the destinations and linked back: removing "through" the link would empty them.
    await sh(
      `mkdir -p ${precious.host} ${precious.sftp} && mv ${dest}/${x} ${precious.host}/ && mv ${sftpDir}/${x} ${precious.sftp}/ && ` +
        `ln -s ${precious.host}/${x} ${dest}/${x} && ln -s ${precious.sftp}/${x} ${sftpDir}/${x} && ` +
        `chown -R deploy:deploy ${precious.host} && chown -h deploy ${dest}/${x} && chown -h ${lab.raw.LAB_BACKUP_USER} ${sftpDir}/${x}`,
    );
    const listing = await sh(`cd ${precious.host} && find . | sort && cd ${precious.sftp} && find . | sort`);
    expect(listing).toContain(`./${x}/manifest.json`);
    const r = await backup(projectB, { destinations: `host:${dest}\n${sftpDest}`, retention: 'daily=1' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.warnings, r.log).toEqual(
      expect.arrayContaining([
        `host:${dest}/${x} is a symbolic link: left alone (Berth never removes through one)`,
        `${sftpDest}/${x} is a symbolic link: left alone (Berth never removes through one)`,
      ]),
    );
    expect(await sh(`cd ${precious.host} && find . | sort && cd ${precious.sftp} && find . | sort`)).toBe(
      listing,
    );
    expect(await sh(`test -L ${dest}/${x} && test -L ${sftpDir}/${x} && echo links`)).toBe('links\n');
  });
});

describe('names reported by the host', () => {
  it.each([
    ['a line break', 'x\n/ data'],
    ['a slash', 'a/b'],
    ['..', '..'],
    ['a space', 'a b'],
  ])('a volume label with %s is refused, naming it, before any backup is written', async (_, label) => {
    const project = `berth-lk-${id}-c${Buffer.from(label).toString('hex')}`;
    await labelledVolume(lab.baseImage, project, `${project}_evil`, label, 'echo x >/v/x');
    const r = await backup(project, { destinations: `host:${dest}-c` });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      `project ${project}: the host reports volume "${project}_evil" with the label com.docker.compose.volume=${JSON.stringify(label)}, which is not a volume name (letters, digits, _ . -); refusing to back it up or restore it`,
    ]);
    expect(await sh(`ls -A ${dest}-c 2>/dev/null || true`)).toBe('');
  });
});

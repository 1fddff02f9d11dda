// berth/backup's restore swap against the lab: a project with two labelled volumes (files, dirs,
// symlinks, odd names, modes, owners) and a running container using them, backed up, changed, then
// restored with the host script SIGKILLed at three points of the swap (mid move-aside of the first
// volume, between the volumes, after both moved in but before the commit). Each time the live
// volumes must hold their old content byte for byte, the temp volumes must be kept, the container
// must run again. Then a restore that succeeds: the backup's content byte for byte, nothing left.
//
// The kill points are made deterministic without any hook in the product: the restore's
// `helper-image` is a test image whose `sh` and `mv` hold (sleep) at one step of the swap, which
// the swap's step containers name (`sh -c <step> berth-swap <step> ...`). Once held, the test
// SIGKILLs the host script and removes the held container (as if it had died with it).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-swap-${id}`;
const volA = `${project}_a`;
const volB = `${project}_b`;
const app = `${project}-app`;
const hostBackups = `/home/deploy/berth-swap-${id}-backups`;
/** The project's lock directory (deploy's remote-dir): restore holds its .lock. */
const remoteDir = `/home/deploy/berth-swap-${id}`;
const gateImage = `berth-swap-gate-${id}`;
/** A small filesystem (tmpfs) for a volume that must be copied into, not renamed. */
const small = `/tmp/berth-swap-${id}-small`;
const docker = async (...args: string[]): Promise<string> =>
  (await exec('docker', args, { maxBuffer: 64 << 20 })).stdout;

/** Content with the things a swap can lose: odd names, dotfiles, symlinks, modes, owners, the root's own. */
const FILL = `set -eu
cd /v
find . -mindepth 1 -delete
chown 70:71 .
chmod 750 .
echo "$1 hello" >hello.txt
mkdir -p "dir with space/sub" .hidden
head -c 300000 /dev/urandom >"dir with space/sub/blob.bin"
echo "$1" >'$(touch pwn) "q"'"'"'s'
printf '%s\\n' "$1" >"$(printf 'new\\nline')"
echo "$1 secret" >.hidden/key
chmod 600 .hidden/key
chown 1000:1000 .hidden/key
ln -s hello.txt link
ln -s /nonexistent dangling
mkdir sticky setgid
chmod 1777 sticky
chmod 2750 setgid
chown 33:33 setgid
echo "$1" >./-dash
for i in 1 2 3 4 5 6; do echo "$1 $i" >"f$i"; done`;

/** Every entry of a volume (type, mode, owner; size and link target but for directories) and every file's sha256. */
const LIST = `cd /v && { find . -type d -printf '%p|%y|%m|%U:%G\\n'; find . ! -type d -printf '%p|%y|%m|%U:%G|%s|%l\\n'; } | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`;

const fill = (volume: string, tag: string) =>
  docker('run', '--rm', '-v', `${volume}:/v`, '--entrypoint', 'sh', lab.baseImage, '-c', FILL, 'fill', tag);
const listing = async (): Promise<string> => {
  const one = (v: string) =>
    docker('run', '--rm', '-v', `${v}:/v:ro`, '--entrypoint', 'sh', lab.baseImage, '-c', LIST);
  return `${await one(volA)}\n---\n${await one(volB)}`;
};
const tempVolumes = async (): Promise<string[]> =>
  (await docker('volume', 'ls', '-q', '--filter', `label=berth.restore-for=${volA}`))
    .split('\n')
    .concat((await docker('volume', 'ls', '-q', '--filter', `label=berth.restore-for=${volB}`)).split('\n'))
    .filter(Boolean);
/** The app answers: it runs and reads its volumes. */
const answers = async (): Promise<string> =>
  (await docker('exec', app, 'cat', '/data/a/hello.txt', '/data/b/hello.txt')).trim();

/** hello.txt at each volume's root (read while the app is stopped). */
const hellos = async (): Promise<string> => {
  const one = (v: string) =>
    docker(
      'run',
      '--rm',
      '-v',
      `${v}:/v:ro`,
      '--entrypoint',
      'sh',
      lab.baseImage,
      '-c',
      'cat /v/hello.txt || true',
    );
  return `${(await one(volA)).trim()}\n${(await one(volB)).trim()}`;
};

let identity: string;
let recipient: string;
let backupId: string;
let backedUp: string;

function restore(helperImage: string): Promise<ActionResult> {
  return runAction('backup', {
    timeoutMs: 300_000,
    inputs: {
      ...sshInputs(lab),
      project,
      mode: 'restore',
      'remote-dir': remoteDir,
      'signing-key': backupSigning(lab).key,
      destinations: `host:${hostBackups}`,
      'decryption-key': identity,
      'backup-id': backupId,
      'helper-image': helperImage,
    },
  });
}

/** Builds the gate image `<gateImage>:<tag>` that holds the swap where `gate` says (see the wrappers). */
async function buildGate(tag: string, gate: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gate-'));
  // sh: holds `sh -c <step> berth-swap <name> <hidden> <target>` for the step (and target) named.
  writeFileSync(
    join(dir, 'sh'),
    `#!/bin/sh
read -r kind a b </etc/berth-gate
if [ "$kind" = step ] && [ "$3" = berth-swap ] && [ "$4" = "$a" ] && { [ -z "$b" ] || [ "$6" = "$b" ]; }; then
  exec sleep 86400
fi
exec /bin/sh "$@"
`,
    { mode: 0o755 },
  );
  // mv: holds the n-th move into the hidden entry (the move-aside) of a step container.
  writeFileSync(
    join(dir, 'mv'),
    `#!/bin/sh
read -r kind a b </etc/berth-gate
case "$kind $3" in
  "mv "*.berth-restore-old-*)
    n=$(( $(cat /tmp/berth-gate-n 2>/dev/null || echo 0) + 1 ))
    echo "$n" >/tmp/berth-gate-n
    if [ "$n" -eq "$a" ]; then exec sleep 86400; fi ;;
esac
exec /bin/mv "$@"
`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, 'berth-gate'), `${gate}\n`);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${lab.baseImage}\nCOPY sh mv /usr/local/bin/\nCOPY berth-gate /etc/berth-gate\n`,
  );
  await docker('build', '-q', '-t', `${gateImage}:${tag}`, dir);
  rmSync(dir, { recursive: true, force: true });
  return `${gateImage}:${tag}`;
}

/** Waits until a container of `image` holds (its process is the gate's sleep); returns its id. */
async function heldContainer(image: string, run: Promise<ActionResult>): Promise<string> {
  let done = false;
  void run.finally(() => (done = true));
  for (let i = 0; i < 1200 && !done; i++) {
    for (const c of (await docker('ps', '-q', '--filter', `ancestor=${image}`)).split('\n').filter(Boolean)) {
      const top = await docker('top', c).catch(() => '');
      if (top.includes('sleep 86400')) return c;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no container of ${image} held the swap: ${done ? (await run).log : 'timed out'}`);
}

/** SIGKILLs the processes on this machine (the lab host too) whose argv and environment match. */
function sigkill(match: (argv: string[], env: () => string[]) => boolean): number {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!match(argv, () => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'))) continue;
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // gone, or not a process of ours to read
    }
  }
  return killed;
}

/** The restore's host script (bash -c <SWAP> on the lab host), and its subshells. */
const killHostScript = () =>
  sigkill(
    (argv) =>
      /(^|\/)bash$/.test(argv[0]!) &&
      argv[1] === '-c' &&
      argv.some((a) => a.includes(`PROJECT='${project}'`) && a.includes('swap-step')),
  );

/** The action's node process (as a cancelled job would be). */
const killRunner = () =>
  sigkill(
    (argv, env) =>
      argv.some((a) => a.endsWith('actions/backup/dist/index.js')) &&
      env().includes(`INPUT_PROJECT=${project}`),
  );

/** Ends the ssh master a killed runner left (its control socket is in the runner's temp dir). */
async function closeMasters(runnerDir: string): Promise<void> {
  const configs = readdirSync(join(runnerDir, 'temp'))
    .filter((d) => d.startsWith('berth-ssh-'))
    .map((d) => join(runnerDir, 'temp', d, 'ssh_config'));
  await Promise.all(
    configs.map((f) => exec('ssh', ['-F', f, '-O', 'exit', '--', 'berth-target']).catch(() => undefined)),
  );
}

/** A volume of the project as compose labels it; `options`: driver options (`--opt` values). */
const createVolume = (volume: string, options: string[] = []) =>
  docker(
    'volume',
    'create',
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    `com.docker.compose.volume=${volume.slice(project.length + 1)}`,
    ...options.flatMap((o) => ['--opt', o]),
    volume,
  );

/** The app: a container of the project using both volumes. */
const startApp = () =>
  docker(
    'run',
    '-d',
    '--name',
    app,
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    'com.docker.compose.service=app',
    '-v',
    `${volA}:/data/a`,
    '-v',
    `${volB}:/data/b`,
    '--entrypoint',
    'sleep',
    lab.baseImage,
    'infinity',
  );

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  for (const v of [volA, volB]) {
    await createVolume(v);
    await fill(v, `backed-up-${v.slice(project.length + 1)}`);
  }
  await startApp();
  backedUp = await listing();
  const r = await runAction('backup', {
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      'signing-key': backupSigning(lab).key,
      destinations: `host:${hostBackups}`,
      'encryption-recipients': recipient,
      'helper-image': lab.baseImage,
    },
  });
  if (r.exitCode !== 0) throw new Error(`backup failed: ${r.errors.join('; ')}\n${r.log}`);
  backupId = r.outputs['backup-id']!;
  const manifest = JSON.parse(r.outputs.manifest!) as {
    files: { source: string; content?: { kib?: number } }[];
  };
  // New manifests record the space each volume takes, for restore's free-space check.
  expect(manifest.files.map((f) => [f.source, (f.content?.kib ?? 0) > 0])).toEqual([
    ['volume:a', true],
    ['volume:b', true],
  ]);
  // The live state after the backup: what a failed restore must leave.
  await fill(volA, 'live-a');
  await fill(volB, 'live-b');
}, 300_000);

afterAll(async () => {
  await docker('rm', '-f', app).catch(() => undefined);
  for (const v of [volA, volB, ...(await tempVolumes().catch(() => []))])
    await docker('volume', 'rm', '-f', v).catch(() => undefined);
  for (const tag of ['aside', 'between', 'commit'])
    await docker('rmi', '-f', `${gateImage}:${tag}`).catch(() => undefined);
  await labSsh(lab, `rm -rf ${hostBackups} ${remoteDir} ~/.berth/restore/${project}`).catch(() => undefined);
  await exec('bash', ['-c', `umount ${small} 2>/dev/null; rmdir ${small}`]).catch(() => undefined);
});

describe('restore swap', () => {
  it.each([
    ['mid first volume’s move-aside', 'aside', 'mv 3'],
    ['between the volumes', 'between', `step aside ${volB}`],
    ['after both moved in, before the commit', 'commit', 'step sync'],
  ])(
    'a restore killed %s: old content byte for byte, temp volumes kept, the app runs',
    async (_, tag, gate) => {
      const image = await buildGate(tag, gate);
      const live = await listing();
      expect(live).not.toBe(backedUp);
      expect(await answers()).toBe('live-a hello\nlive-b hello');
      const run = restore(image);
      const held = await heldContainer(image, run);
      if (tag === 'aside') {
        // Mid move: two entries of the first volume are in the hidden entry, the rest still in place.
        const aside = await docker(
          'run',
          '--rm',
          '-v',
          `${volA}:/v:ro`,
          '--entrypoint',
          'sh',
          lab.baseImage,
          '-c',
          'find /v/.berth-restore-old-* -mindepth 1 -maxdepth 1 -printf x | wc -c; find /v -mindepth 1 -maxdepth 1 -printf x | wc -c',
        );
        // 16 entries at the top: 2 moved, 14 left, and the hidden entry.
        expect(aside.split('\n').slice(0, 2)).toEqual(['2', '15']);
      }
      // Where the swap is held: what each volume's root holds now.
      const heldAt = await hellos();
      if (tag === 'between') expect(heldAt).toBe('backed-up-a hello\nlive-b hello');
      if (tag === 'commit') expect(heldAt).toBe('backed-up-a hello\nbacked-up-b hello');
      expect(killHostScript()).toBeGreaterThan(0);
      await docker('rm', '-f', held);
      const r = await run;
      expect(r.exitCode, r.log).toBe(1);
      expect(r.log).toMatch(/swap-step a aside/);
      const temps = await tempVolumes();
      expect(temps).toHaveLength(2);
      expect(r.errors.join('\n')).toMatch(/the volume swap failed; every volume holds its old content again/);
      for (const t of temps) {
        expect(r.errors.join('\n')).toContain(t);
        expect(r.summary).toContain(t);
      }
      expect(await listing()).toBe(live);
      expect(await docker('inspect', '-f', '{{.State.Running}}', app)).toBe('true\n');
      expect(await answers()).toBe('live-a hello\nlive-b hello');
      expect((await labSsh(lab, `ls -A ~/.berth/restore/${project} 2>/dev/null || true`)).stdout).toBe('');
      for (const t of temps) await docker('volume', 'rm', '-f', t);
    },
  );

  it('a restore whose runner died too is rolled back by the next restore of the project, first', async () => {
    const image = await buildGate('between', `step aside ${volB}`);
    const run = restore(image);
    const held = await heldContainer(image, run);
    expect(killRunner()).toBeGreaterThan(0);
    expect(killHostScript()).toBeGreaterThan(0);
    await docker('rm', '-f', held);
    await closeMasters((await run).runnerDir);
    // Nobody rolled it back: the journal is there, the app is stopped, volume a holds the backup.
    expect((await labSsh(lab, `ls -A ~/.berth/restore/${project}`)).stdout).toMatch(/^[0-9a-f]{12}\n$/);
    expect(await docker('inspect', '-f', '{{.State.Running}}', app)).toBe('false\n');
    expect(await hellos()).toBe('backed-up-a hello\nlive-b hello');
    const r = await restore(lab.baseImage);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.warnings.join('\n')).toMatch(
      /restore [0-9a-f]{12} did not finish; every volume it touched was put back/,
    );
    expect(r.log.indexOf('did not finish')).toBeLessThan(r.log.indexOf('swap-step a plan'));
    expect(await listing()).toBe(backedUp);
    expect(await answers()).toBe('backed-up-a hello\nbacked-up-b hello');
    // The dead run's temp volumes were kept; the next one's were consumed.
    const temps = await tempVolumes();
    expect(temps).toHaveLength(2);
    for (const t of temps) await docker('volume', 'rm', '-f', t);
    // Back to the live state for the last test.
    await docker('stop', app);
    await fill(volA, 'live-a');
    await fill(volB, 'live-b');
    await docker('start', app);
  });

  it('a restore that succeeds swaps both volumes in: the backup byte for byte, nothing left over', async () => {
    const r = await restore(lab.baseImage);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Volume a restored \(rename /);
    expect(r.log).toMatch(/swap-step - commit/);
    expect(await listing()).toBe(backedUp);
    expect(await tempVolumes()).toEqual([]);
    expect(await docker('inspect', '-f', '{{.State.Running}}', app)).toBe('true\n');
    expect(await answers()).toBe('backed-up-a hello\nbacked-up-b hello');
    expect((await labSsh(lab, `ls -A ~/.berth/restore/${project} 2>/dev/null || true`)).stdout).toBe('');
  });

  it('a volume that must be copied in and does not fit is refused before anything changes; with room, it is copied', async () => {
    // Volume b becomes a bind volume (driver options: copied, not renamed) on a 256 KiB tmpfs.
    await exec('bash', [
      '-c',
      `mkdir -p ${small} && mount -t tmpfs -o size=256k tmpfs ${small} && mkdir ${small}/data`,
    ]);
    await docker('rm', '-f', app);
    await docker('volume', 'rm', volB);
    await createVolume(volB, ['type=none', 'o=bind', `device=${small}/data`]);
    await docker(
      'run',
      '--rm',
      '-v',
      `${volB}:/v`,
      '--entrypoint',
      'sh',
      lab.baseImage,
      '-c',
      'echo small-b hello >/v/hello.txt',
    );
    await startApp();
    const before = await listing();
    const refused = await restore(lab.baseImage);
    expect(refused.exitCode).toBe(1);
    expect(refused.errors[0]).toMatch(
      new RegExp(
        `the volume swap refused to start; nothing was changed: [^]*volume b: the restored content takes \\d+ KiB and must be copied, but ${volB} has \\d+ KiB free`,
      ),
    );
    expect(await listing()).toBe(before);
    expect(await answers()).toBe('backed-up-a hello\nsmall-b hello');
    expect(await tempVolumes()).toEqual([]);
    await exec('bash', ['-c', `mount -o remount,size=8m ${small}`]);
    const r = await restore(lab.baseImage);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Volume b restored \(copy /);
    expect(await listing()).toBe(backedUp);
    expect(await tempVolumes()).toEqual([]);
    expect(await answers()).toBe('backed-up-a hello\nbacked-up-b hello');
  });
});

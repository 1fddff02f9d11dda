// Backup rows: berth/backup's throughput for a 1 GiB volume (incompressible data, encrypted) over
// the floor, side by side in one run: to `host:` (encrypted on the host with its age CLI), the same
// with the host's age hidden (encrypted on the runner: the design before #19), its restore, and to
// the lab's sftp-only `ssh://` account and back. Throughput ratio = floor time / action time.
//
// host: floor, the issue's `ssh host 'tar -C <vol> -c . | zstd' > file` (restore: `ssh host
// 'zstd -d | tar -C <vol> -x' < file`). The deploy user cannot read a volume's directory, so tar
// runs in a container that reads or writes its archive through a FIFO: the same bytes through plain
// pipes, as the bare tar would. (A `docker run` streaming through its attach would be a floor made
// slow by dockerd, which copies every byte: 1.9x slower to pack, 1.8x to unpack here.) The floors use
// the action's own ssh cipher order, so the ratio compares work, not ciphers.
//
// ssh:// floor: the same archive made on the host, saved on this machine, then `sftp put` to the
// backup account (restore: `sftp get`, then the unpack above). An sftp-only account cannot run a
// shell, so the bytes must pass through the runner, and sftp uploads regular files only: the action
// stages each file on the runner too, so that is the floor of any action writing there.
//
// The relay bound: the same bytes from the host to this machine and back to the host, with no
// processing (`ssh host '…' | ssh host '…'`). A restore (decrypted on the runner, where the private
// key is) crosses SSH twice, so relay / floor is the most it can reach on this machine, where runner
// and host share two cores; so did a host: backup encrypted on the runner.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { shellQuote } from '../../lib/ssh/shell.ts';
import { AES_FIRST_CIPHERS, cpuHasAes } from '../../lib/ssh/config.ts';
import { runAction } from '../lab/harness.ts';
import { backupSigning, readLab, sshInputs } from '../lab/lab.ts';
import { hostWithoutAge } from '../lab/no-age.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-bk';
const volume = `${project}_data`;
const dest = '/home/deploy/berth-bench-bk-backups';
const sftpDir = `${lab.raw.LAB_BACKUP_DIR}/berth-bench-bk`;
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const sh = (command, opts = {}) =>
  execFileSync('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
const sshOptions = [
  '-o BatchMode=yes',
  '-o StrictHostKeyChecking=yes',
  `-o UserKnownHostsFile=${lab.knownHosts}`,
  '-o IdentitiesOnly=yes',
  ...(cpuHasAes() ? [`-o Ciphers=${AES_FIRST_CIPHERS}`] : []),
  `-i ${lab.sshKey}`,
].join(' ');
const ssh = `ssh ${sshOptions} -p ${lab.sshPort} ${lab.sshUser}@${lab.sshHost}`;
/** `ssh host <command>`, the command quoted for the local shell. */
const onHost = (command) => `${ssh} ${shellQuote(command)}`;
/** sftp batch `lines` to the lab's sftp-only backup account. */
const sftp = (lines) =>
  `printf '%s\\n' ${lines.map(shellQuote).join(' ')} | sftp -q ${sshOptions} -P ${lab.jumpPort} -b - ${lab.raw.LAB_BACKUP_USER}@${lab.sshHost} >/dev/null`;

/** A bare `tar -C /v <args>` on the volume, its archive through the FIFO `$d/p` (made first). */
const tarOnFifo = (mode, args) =>
  `d=$(mktemp -d) && mkfifo "$d/p" && trap 'rm -rf "$d"' EXIT && ` +
  `{ docker run --rm --log-driver none --network none --user 0:0 -v "$d/p:/p" -v ${volume}:/v${mode} ` +
  `--entrypoint tar ${lab.baseImage} -C /v ${args} & `;
const pack = `${tarOnFifo(':ro', '-cf /p .')}zstd -q -c -T0 <"$d/p"; wait $!; }`;
const unpack = `${tarOnFifo('', '-xpf /p')}zstd -q -d -c >"$d/p"; wait $!; }`;

function makeVolume(image) {
  sh(`docker image inspect ${image} >/dev/null 2>&1 || docker pull -q ${image} >/dev/null`);
  sh(
    `docker volume rm -f ${volume} >/dev/null; docker volume create --label com.docker.compose.project=${project} ` +
      `--label com.docker.compose.volume=data ${volume} >/dev/null && ` +
      `docker run --rm -v ${volume}:/v --entrypoint sh ${image} -c 'head -c 1073741824 /dev/urandom >/v/blob'`,
  );
}

/** Runs the action; resolves to its outputs, throws when it fails. */
async function action(what, inputs, env) {
  const r = await runAction('backup', { inputs, env });
  if (r.exitCode !== 0) throw new Error(`bench: ${what} failed: ${r.errors.join('; ')}`);
  return r.outputs;
}

/** One round of every measurement, added to `t` (key -> ms list). */
async function round(t, work, inputs, identity, noAge) {
  const time = async (key, fn) => {
    const start = process.hrtime.bigint();
    const r = await fn();
    (t[key] ??= []).push(ms(start));
    return r;
  };
  const restore = (extra, id) =>
    action('restore', { ...inputs, ...extra, mode: 'restore', 'decryption-key': identity, 'backup-id': id });
  const sshDest = {
    destinations: `ssh://${lab.raw.LAB_BACKUP_USER}@${lab.sshHost}:${lab.jumpPort}${sftpDir}`,
  };
  await time('floor', () => sh(`${onHost(pack)} > ${work}/floor.tar.zst`));
  await time('relay', () => sh(`${onHost(pack)} | ${onHost(`cat > ${dest}/relay.tar.zst`)}`));
  const made = await time('backup', () => action('backup', inputs));
  await time('runnerBackup', () => action('backup (runner)', inputs, { PATH: noAge.path }));
  await time('restoreFloor', () => sh(`${onHost(unpack)} < ${work}/floor.tar.zst`));
  await time('restoreRelay', () => sh(`${onHost(`cat ${dest}/relay.tar.zst`)} | ${onHost(unpack)}`));
  await time('restore', () => restore({}, made['backup-id']));
  await time('sftpFloor', () =>
    sh(
      `${onHost(pack)} > ${work}/s.tar.zst && ${sftp([`-mkdir ${sftpDir}`, `put ${work}/s.tar.zst ${sftpDir}/floor`])}`,
    ),
  );
  const off = await time('sftpBackup', () => action('backup (ssh://)', { ...inputs, ...sshDest }));
  await time('sftpRestoreFloor', () =>
    sh(`${sftp([`get ${sftpDir}/floor ${work}/g.tar.zst`])} && ${onHost(unpack)} < ${work}/g.tar.zst`),
  );
  await time('sftpRestore', () => restore(sshDest, off['backup-id']));
  // 1 GiB each: the next round starts with empty directories.
  sh(`rm -f ${work}/*.tar.zst; rm -rf ${sftpDir}/*`);
  sh(onHost(`rm -rf ${dest}/*`));
}

export async function rows() {
  makeVolume(lab.baseImage);
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-bk-'));
  const noAge = hostWithoutAge();
  const inputs = {
    ...sshInputs(lab),
    project,
    'remote-dir': `/home/deploy/${project}`,
    volumes: 'data',
    'helper-image': lab.baseImage,
    destinations: `host:${dest}`,
    'encryption-recipients': recipient,
    'signing-key': backupSigning(lab).key,
  };
  const t = {};
  try {
    sh(onHost(`mkdir -p ${dest}`));
    for (let i = 0; i < 3; i++) await round(t, work, inputs, identity, noAge);
  } finally {
    noAge.remove();
    sh(`docker volume rm -f ${volume} >/dev/null; rm -rf ${work} ${sftpDir}`);
    sh(onHost(`rm -rf ${dest} /home/deploy/${project}`));
  }
  return report(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])));
}

function report(m) {
  const s = (x) => (x / 1000).toFixed(1);
  const row = (metric, floor, took, target = '>= 0.8') => ({
    area: 'backup',
    metric: `${metric} (median of 3: ${s(took)} s vs ${s(floor)} s)`,
    value: (floor / took).toFixed(2),
    target,
    ok: target === '' ? undefined : floor / took >= 0.8,
  });
  const relay = `relay bound ${(m.floor / m.relay).toFixed(2)}: ${s(m.relay)} s out and back`;
  const restoreRelay = `relay bound ${(m.restoreFloor / m.restoreRelay).toFixed(2)}: ${s(m.restoreRelay)} s`;
  return [
    row('1 GiB volume to host:, encrypted on the host (age CLI) — throughput / floor', m.floor, m.backup),
    row(
      `the same, host without age: encrypted on the runner, as before #19 — ${relay}`,
      m.floor,
      m.runnerBackup,
      '',
    ),
    row(`restore of it (decrypted on the runner) — ${restoreRelay}`, m.restoreFloor, m.restore),
    row(
      '1 GiB volume to ssh:// (sftp-only), encrypted on the runner — over tar|zstd > file; sftp put',
      m.sftpFloor,
      m.sftpBackup,
    ),
    row('restore from ssh:// — over sftp get; ssh host unpack < file', m.sftpRestoreFloor, m.sftpRestore),
  ];
}

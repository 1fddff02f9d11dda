// Backup rows: berth/backup's throughput for a 1 GiB volume (incompressible data, encrypted, to a
// host: destination) over the floor, and its restore likewise. Throughput ratio = floor time /
// action time.
//
// The floor is the issue's `ssh host 'tar -C <vol> -c . | zstd' > file` (restore: `ssh host
// 'zstd -d | tar -C <vol> -x' < file`). The deploy user cannot read a volume's directory, so tar
// runs in a container that reads or writes its archive through a FIFO: the same bytes through
// plain pipes, as the bare tar would. (A `docker run` streaming through its attach would be a floor
// made slow by dockerd, which copies every byte: 1.9x slower to pack, 1.8x to unpack here.) The
// floors use the action's own ssh cipher order, so the ratio compares work, not ciphers.
//
// The relay bound: the same bytes from the host to this machine and back to the host, with no
// processing (`ssh host '…' | ssh host '…'`). A host: backup encrypted on the runner (the issue's
// design: age in-process) crosses SSH twice, so relay / floor is the most any such action can reach
// on this machine, where runner and host share two cores; it is printed in the metric.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { shellQuote } from '../../lib/ssh/shell.ts';
import { AES_FIRST_CIPHERS, cpuHasAes } from '../../lib/ssh/config.ts';
import { runAction } from '../lab/harness.ts';
import { backupSigning, readLab, sshInputs } from '../lab/lab.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-bk';
const volume = `${project}_data`;
const dest = '/home/deploy/berth-bench-bk-backups';
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const sh = (command, opts = {}) =>
  execFileSync('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
const ssh = [
  'ssh',
  '-o BatchMode=yes',
  '-o StrictHostKeyChecking=yes',
  `-o UserKnownHostsFile=${lab.knownHosts}`,
  '-o IdentitiesOnly=yes',
  ...(cpuHasAes() ? [`-o Ciphers=${AES_FIRST_CIPHERS}`] : []),
  `-i ${lab.sshKey}`,
  `-p ${lab.sshPort}`,
  `${lab.sshUser}@${lab.sshHost}`,
].join(' ');
/** `ssh host <command>`, the command quoted for the local shell. */
const onHost = (command) => `${ssh} ${shellQuote(command)}`;

/** A bare `tar -C /v <args>` on the volume, its archive through the FIFO `$d/p` (made first). */
const tarOnFifo = (mode, args) =>
  `d=$(mktemp -d) && mkfifo "$d/p" && trap 'rm -rf "$d"' EXIT && ` +
  `{ docker run --rm --log-driver none --network none --user 0:0 -v "$d/p:/p" -v ${volume}:/v${mode} ` +
  `--entrypoint tar ${lab.baseImage} -C /v ${args} & `;
const pack = `${tarOnFifo(':ro', '-cf /p .')}zstd -q -c -T0 <"$d/p"; wait $!; }`;
const unpack = `${tarOnFifo('', '-xpf /p')}zstd -q -d -c >"$d/p"; wait $!; }`;

export async function rows() {
  const image = lab.baseImage;
  sh(`docker image inspect ${image} >/dev/null 2>&1 || docker pull -q ${image} >/dev/null`);
  sh(
    `docker volume rm -f ${volume} >/dev/null; docker volume create --label com.docker.compose.project=${project} ` +
      `--label com.docker.compose.volume=data ${volume} >/dev/null && ` +
      `docker run --rm -v ${volume}:/v --entrypoint sh ${image} -c 'head -c 1073741824 /dev/urandom >/v/blob'`,
  );
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-bk-'));
  const inputs = {
    ...sshInputs(lab),
    project,
    'remote-dir': `/home/deploy/${project}`,
    volumes: 'data',
    'helper-image': image,
    destinations: `host:${dest}`,
    'encryption-recipients': recipient,
    'signing-key': backupSigning(lab).key,
  };
  const t = { backup: [], floor: [], relay: [], restore: [], restoreFloor: [], restoreRelay: [] };
  const time = (key, fn) => {
    const start = process.hrtime.bigint();
    const r = fn();
    t[key].push(ms(start));
    return r;
  };
  try {
    sh(onHost(`mkdir -p ${dest}`));
    for (let i = 0; i < 3; i++) {
      time('floor', () => sh(`${onHost(pack)} > ${work}/floor.tar.zst`));
      time('relay', () => sh(`${onHost(pack)} | ${onHost(`cat > ${dest}/relay.tar.zst`)}`));
      const start = process.hrtime.bigint();
      const r = await runAction('backup', { inputs });
      if (r.exitCode !== 0) throw new Error(`bench: backup failed: ${r.errors.join('; ')}`);
      t.backup.push(ms(start));
      time('restoreFloor', () => sh(`${onHost(unpack)} < ${work}/floor.tar.zst`));
      time('restoreRelay', () => sh(`${onHost(`cat ${dest}/relay.tar.zst`)} | ${onHost(unpack)}`));
      const again = process.hrtime.bigint();
      const back = await runAction('backup', {
        inputs: {
          ...inputs,
          mode: 'restore',
          'decryption-key': identity,
          'backup-id': r.outputs['backup-id'],
        },
      });
      if (back.exitCode !== 0) throw new Error(`bench: restore failed: ${back.errors.join('; ')}`);
      t.restore.push(ms(again));
    }
  } finally {
    sh(`docker volume rm -f ${volume} >/dev/null; rm -rf ${work}`);
    sh(onHost(`rm -rf ${dest} /home/deploy/${project}`));
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  const s = (x) => (x / 1000).toFixed(1);
  const backupRatio = m.floor / m.backup;
  const restoreRatio = m.restoreFloor / m.restore;
  return [
    {
      area: 'backup',
      metric:
        `1 GiB volume, encrypted, to host: — throughput / floor (median of 3: ${s(m.backup)} s vs ${s(m.floor)} s; ` +
        `relay bound ${(m.floor / m.relay).toFixed(2)}: ${s(m.relay)} s out and back; action / relay ${(m.relay / m.backup).toFixed(2)})`,
      value: backupRatio.toFixed(2),
      target: '>= 0.8',
      ok: backupRatio >= 0.8,
    },
    {
      area: 'backup',
      metric:
        `restore of it — throughput / floor (median of 3: ${s(m.restore)} s vs ${s(m.restoreFloor)} s; ` +
        `relay bound ${(m.restoreFloor / m.restoreRelay).toFixed(2)}: ${s(m.restoreRelay)} s; action / relay ${(m.restoreRelay / m.restore).toFixed(2)})`,
      value: restoreRatio.toFixed(2),
      target: '>= 0.8',
      ok: restoreRatio >= 0.8,
    },
  ];
}

// Backup rows: berth/backup's throughput for a 1 GiB volume (incompressible data, encrypted, to a
// host: destination) over the floor, the same archive made on the host and piped over SSH into a
// file (`ssh host 'docker run … tar -C /v -c . | zstd' > file`); restore likewise against
// `ssh host 'zstd -d | docker run -i … tar -x' < file`. Throughput ratio = floor time / action time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { runAction } from '../../test/harness.ts';
import { readLab, sshInputs } from '../../test/lab.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const project = 'berth-bench-bk';
const volume = `${project}_data`;
const dest = '/home/deploy/berth-bench-bk-backups';
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const sh = (command, opts = {}) =>
  execFileSync('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
const sshArgs = () =>
  [
    '-o BatchMode=yes',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${lab.knownHosts}`,
    '-o IdentitiesOnly=yes',
    `-i ${lab.sshKey}`,
    `-p ${lab.sshPort}`,
    `${lab.sshUser}@${lab.sshHost}`,
  ].join(' ');

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
    volumes: 'data',
    'helper-image': image,
    destinations: `host:${dest}`,
    'encryption-recipients': recipient,
  };
  const archive = `docker run --rm --network none --user 0:0 -v ${volume}:/v:ro --entrypoint tar ${image} -C /v -cf - . | zstd -q -c -T0`;
  const unpack = `zstd -q -d -c | docker run --rm -i --network none --user 0:0 -v ${volume}:/v --entrypoint tar ${image} -C /v -xpf -`;
  const backupTimes = [];
  const floorTimes = [];
  const restoreTimes = [];
  const restoreFloorTimes = [];
  try {
    for (let i = 0; i < 3; i++) {
      let start = process.hrtime.bigint();
      sh(`ssh ${sshArgs()} ${JSON.stringify(archive)} > ${work}/floor.tar.zst`);
      floorTimes.push(ms(start));
      start = process.hrtime.bigint();
      const r = await runAction('backup', { inputs });
      if (r.exitCode !== 0) throw new Error(`bench: backup failed: ${r.errors.join('; ')}`);
      backupTimes.push(ms(start));
      start = process.hrtime.bigint();
      sh(`ssh ${sshArgs()} ${JSON.stringify(unpack)} < ${work}/floor.tar.zst`);
      restoreFloorTimes.push(ms(start));
      start = process.hrtime.bigint();
      const back = await runAction('backup', {
        inputs: {
          ...inputs,
          mode: 'restore',
          'decryption-key': identity,
          'backup-id': r.outputs['backup-id'],
        },
      });
      if (back.exitCode !== 0) throw new Error(`bench: restore failed: ${back.errors.join('; ')}`);
      restoreTimes.push(ms(start));
    }
  } finally {
    sh(`docker volume rm -f ${volume} >/dev/null; rm -rf ${work}`);
    sh(`ssh ${sshArgs()} 'rm -rf ${dest}'`);
  }
  const backupRatio = median(floorTimes) / median(backupTimes);
  const restoreRatio = median(restoreFloorTimes) / median(restoreTimes);
  const s = (x) => (median(x) / 1000).toFixed(1);
  return [
    {
      area: 'backup',
      metric: `1 GiB volume, encrypted, to host: — throughput / floor (median of 3: ${s(backupTimes)} s vs ${s(floorTimes)} s)`,
      value: backupRatio.toFixed(2),
      target: '>= 0.8',
      ok: backupRatio >= 0.8,
    },
    {
      area: 'backup',
      metric: `restore of it — throughput / floor (median of 3: ${s(restoreTimes)} s vs ${s(restoreFloorTimes)} s)`,
      value: restoreRatio.toFixed(2),
      target: '>= 0.8',
      ok: restoreRatio >= 0.8,
    },
  ];
}

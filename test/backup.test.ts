// berth/backup against the lab: the example app deployed with berth/deploy, real rows in its
// PostgreSQL and files in its uploads volume, backed up encrypted to the host and to the lab's
// backup sshd, destroyed with `down -v`, restored, and compared. Also: wrong key, truncated
// archive, an interrupted backup, retention.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleImages, exampleWorkdir, pins, type ExampleImages } from './example-release.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, labDir, labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { freePort, httpsGet, sshdConnections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-bk-${id}`;
const remoteDir = `/home/deploy/berth-bk-${id}`;
const hostBackups = `/home/deploy/berth-bk-${id}-backups`;
const sshBackups = `${lab.raw.LAB_BACKUP_DIR}/berth-bk-${id}`;
const sshDestination = `ssh://${lab.raw.LAB_BACKUP_USER}@${lab.sshHost}:${lab.jumpPort}${sshBackups}`;
const marker = `/tmp/pwned-bk-${id}`;
const dbPassword = `pw-${id}-$(touch ${marker})'"`;

const signing = backupSigning(lab);
/** Signs a manifest on this machine (the lab host) as Berth would, with ssh-keygen and the lab key. */
const signManifest = (dir: string) =>
  `rm -f ${dir}/manifest.json.sig && ssh-keygen -q -Y sign -f ${join(labDir, 'backup-signing', 'k')} -n berth-backup ${dir}/manifest.json`;

const ssh = (command: string) => labSsh(lab, command);
const sh = async (command: string): Promise<string> =>
  (await exec('bash', ['-c', command], { maxBuffer: 64 << 20 })).stdout;
// The backup account is sftp-only (no shell); this machine is that host too, so look at it directly.
const backupSsh = (command: string) => exec('bash', ['-c', command]);
const psql = (sql: string) =>
  sh(
    `echo ${Buffer.from(sql).toString('base64')} | base64 -d | ` +
      `docker compose -p ${project} exec -T db psql -X -q -t -A -U postgres -d app -v ON_ERROR_STOP=1 -f -`,
  );
const uploadsListing = () =>
  sh(
    `docker compose -p ${project} exec -T api sh -c 'cd /data/uploads && find . -type f -exec sha256sum {} + | sort && find . | sort'`,
  );
/** The restore staging directories on the host (dumps staged for a restore), to see none is left. */
const stagedDumps = async () => (await ssh('ls -d /tmp/berth-restore-* 2>/dev/null || true')).stdout;
const rowsDigest = () =>
  psql("SELECT count(*) || ' ' || md5(string_agg(id || ':' || body, ',' ORDER BY id)) FROM notes");

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let httpPort: number;
let identity: string;
let recipient: string;

function deploy(extra: Record<string, string> = {}): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      environment: 'development',
      'remote-dir': remoteDir,
      env: `HTTPS_PORT=${httpsPort}\nHTTP_PORT=${httpPort}\nBIND_ADDRESS=127.0.0.1`,
      secrets: [
        `db_password<<BERTH_EOF\n${dbPassword}\nBERTH_EOF`,
        `tls_cert<<BERTH_EOF\n${readFileSync(lab.tlsCert, 'utf8').trim()}\nBERTH_EOF`,
        `tls_key<<BERTH_EOF\n${readFileSync(lab.tlsKey, 'utf8').trim()}\nBERTH_EOF`,
      ].join('\n'),
      images: pins(images, images.api1),
      registry: lab.registry,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'health-urls': `https://localhost:${httpsPort}/healthz 200`,
      'ca-file': 'ca.pem',
      'wait-timeout': '120',
      ...extra,
    },
  });
}

function backup(extra: Record<string, string | undefined> = {}, timeoutMs?: number): Promise<ActionResult> {
  return runAction('backup', {
    timeoutMs,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      destinations: `host:${hostBackups}`,
      databases: 'db:postgres:app',
      'stop-services': 'db',
      'encryption-recipients': recipient,
      'signing-key': signing.key,
      ...extra,
    },
  });
}

/** Ends ssh masters a killed action left behind (their control sockets are in its runner dir). */
async function closeMasters(runnerDir: string): Promise<void> {
  const temp = join(runnerDir, 'temp');
  if (!existsSync(temp)) return;
  for (const d of readdirSync(temp).filter((x) => x.startsWith('berth-ssh-'))) {
    await exec('ssh', ['-F', join(temp, d, 'ssh_config'), '-O', 'exit', '--', 'berth-target']).catch(
      () => undefined,
    );
  }
}

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'backup');
  httpsPort = await freePort();
  httpPort = await freePort();
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  images = await exampleImages(lab, 'berth-bk');
  const r = await deploy();
  if (r.exitCode !== 0) throw new Error(`deploy failed: ${r.errors.join('; ')}\n${r.log}`);
  await psql(
    "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g || ' ''quoted'' $x' FROM generate_series(1, 5000) g; ALTER TABLE notes OWNER TO app",
  );
  await sh(
    `docker compose -p ${project} exec -T api sh -c 'cd /data/uploads && echo hello >a.txt && mkdir -p "dir with space" && head -c 3000000 /dev/urandom >"dir with space/blob.bin" && echo "\\$(x)" >"weird \\$name.txt"'`,
  );
});

afterAll(async () => {
  await sh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; docker volume rm -f ${project}_bulk >/dev/null 2>&1; ` +
      `docker volume ls -q --filter label=berth.restore-for | grep '^' >/dev/null || true`,
  ).catch(() => undefined);
  await ssh(`rm -rf ${remoteDir} ${hostBackups} ${hostBackups}-truncated ${hostBackups}-forged`).catch(
    () => undefined,
  );
  await backupSsh(`rm -rf ${sshBackups}`).catch(() => undefined);
});

describe('backup and restore', () => {
  let hostRun: ActionResult;
  let sshRun: ActionResult;
  let rowsBefore: string;
  let filesBefore: string;

  it('backs up volumes and a postgres dump, encrypted, to host: and to the backup sshd in one run', async () => {
    rowsBefore = await rowsDigest();
    filesBefore = await uploadsListing();
    expect(rowsBefore).toMatch(/^5000 /);
    const hostBefore = sshdConnections(lab.sshLog);
    const backupBefore = sshdConnections(lab.jumpLog);
    hostRun = await backup({ destinations: `host:${hostBackups}\n${sshDestination}` });
    sshRun = hostRun;
    expect(hostRun.exitCode, hostRun.log).toBe(0);
    // One connection to the app's host, one to the backup host.
    expect(sshdConnections(lab.sshLog) - hostBefore).toBe(1);
    expect(sshdConnections(lab.jumpLog) - backupBefore).toBe(1);
    const backupId = hostRun.outputs['backup-id']!;
    expect(backupId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    const manifest = JSON.parse(hostRun.outputs.manifest!) as {
      files: { name: string; source: string; bytes: number; sha256: string; compression: string }[];
    };
    expect(manifest.files.map((f) => f.source).sort()).toEqual([
      'postgres:db/app',
      'volume:db-data',
      'volume:uploads',
    ]);
    expect(manifest.files.find((f) => f.source === 'volume:uploads')).toMatchObject({
      name: 'volume-uploads.tar.zst.age',
      compression: 'zstd',
      // the example's images have coreutils' b2sum: the faster per-file hash of the content digest
      content: { files: 3, hash: 'b2sum' },
    });
    expect(Number(hostRun.outputs.bytes)).toBe(manifest.files.reduce((s, f) => s + f.bytes, 0));
    // What is stored at both destinations is what the manifest says, and it is age ciphertext.
    const { stdout } = await ssh(
      `cd ${hostBackups}/${backupId} && sha256sum * && head -c 21 volume-uploads.tar.zst.age`,
    );
    const remote = await sh(`cd ${sshBackups}/${backupId} && sha256sum *`);
    for (const f of manifest.files) {
      expect(stdout).toContain(`${f.sha256}  ${f.name}`);
      expect(remote).toContain(`${f.sha256}  ${f.name}`);
    }
    expect(remote).toMatch(/ {2}manifest\.json$/m);
    expect(stdout).toContain('age-encryption.org/v1');
    expect(stdout).not.toContain('.part');
    // The stopped db is back, healthy.
    expect(
      await sh(`docker inspect -f '{{.State.Health.Status}}' $(docker compose -p ${project} ps -q db)`),
    ).toMatch(/healthy|starting/);
    expect(hostRun.summary).toContain('encrypted with age');
    expect(hostRun.summary).toContain(`host:${hostBackups}/${backupId}`);
    expect(hostRun.summary).toContain(`${sshDestination}/${backupId}`);
    for (const secret of [dbPassword, identity, 'BEGIN OPENSSH PRIVATE KEY']) {
      expect(hostRun.log).not.toContain(secret);
      expect(hostRun.summary).not.toContain(secret);
    }
  });

  it('an unencrypted gzip backup says so, and verifies without a key', async () => {
    const r = await backup({
      'encryption-recipients': undefined,
      volumes: 'uploads',
      databases: undefined,
      'stop-services': undefined,
      compression: 'gzip',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.summary).toContain('**not encrypted**');
    expect(r.warnings.join('\n')).toMatch(/unencrypted/);
    const backupId = r.outputs['backup-id']!;
    const { stdout } = await ssh(
      `cd ${hostBackups}/${backupId} && ls && gzip -dc volume-uploads.tar.gz | tar -t`,
    );
    expect(stdout).toContain('volume-uploads.tar.gz');
    expect(stdout).toContain('./a.txt');
    const v = await backup({ mode: 'verify', 'backup-id': backupId });
    expect(v.exitCode, v.log).toBe(0);
    expect(v.outputs.verified).toBe('true');
    await ssh(`rm -rf ${hostBackups}/${backupId}`);
  });

  it('mode verify restores into scratch volumes and a scratch PostgreSQL: verified=true', async () => {
    const r = await backup({
      mode: 'verify',
      'decryption-key': identity,
      'backup-id': hostRun.outputs['backup-id'],
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.verified).toBe('true');
    expect(r.log).toMatch(
      /volume-uploads\.tar\.zst\.age: 3 files restored into a scratch volume, contents identical/,
    );
    expect(r.log).toMatch(
      /postgres-db-app\.dump\.age: restored into a scratch PostgreSQL, \d+ tables, row counts identical/,
    );
    expect(await sh('docker volume ls -q --filter label=berth.restore-temp')).toBe('');
    expect(await rowsDigest()).toBe(rowsBefore);
    expect(r.summary).toContain('every archive matched');
    expect(r.summary).toMatch(/\| `volume-uploads\.tar\.zst\.age` \| ok \| 3 files restored/);
    expect(r.summary).toMatch(/\| `postgres-db-app\.dump\.age` \| ok \| restored into a scratch PostgreSQL/);
  });

  it('mode verify reports a difference: verified=false, the step fails', async () => {
    const copy = `${hostBackups}-truncated`;
    const backupId = hostRun.outputs['backup-id']!;
    await ssh(
      `mkdir -p ${copy} && cp -a ${hostBackups}/${backupId} ${copy}/ && sed -i 's/"public.notes": 5000/"public.notes": 4999/' ${copy}/${backupId}/manifest.json`,
    );
    await sh(signManifest(`${copy}/${backupId}`));
    const r = await backup({ mode: 'verify', destinations: `host:${copy}`, 'decryption-key': identity });
    await ssh(`rm -rf ${copy}`);
    expect(r.exitCode).toBe(1);
    expect(r.outputs.verified).toBe('false');
    expect(r.errors.join('\n')).toMatch(
      /row counts differ for public\.notes \(5000 restored, 4999 backed up\)/,
    );
    // The summary says so too, with the archive that did match.
    expect(r.summary).toContain('**it did not verify**');
    expect(r.summary).toMatch(/\| `postgres-db-app\.dump\.age` \| \*\*failed\*\* \| row counts differ/);
    expect(r.summary).toMatch(/\| `volume-uploads\.tar\.zst\.age` \| ok \|/);
    // It is marked where it was read from, and never picked again.
    expect(r.warnings.join('\n')).toContain(
      `host:${copy}/${backupId} failed verification: marked (verify-failed)`,
    );
  });

  it('refuses a forged manifest whose project holds a workflow command, obeying none of it', async () => {
    const copy = `${hostBackups}-forged`;
    const backupId = hostRun.outputs['backup-id']!;
    await ssh(
      `mkdir -p ${copy} && cp -a ${hostBackups}/${backupId} ${copy}/ && sed -i 's/"project": *"[^"]*"/"project": "x\\\\n::error::forged"/' ${copy}/${backupId}/manifest.json && grep -q 'x\\\\n::error::forged' ${copy}/${backupId}/manifest.json`,
    );
    const r = await backup({ mode: 'restore', destinations: `host:${copy}`, 'decryption-key': identity });
    await ssh(`rm -rf ${copy}`);
    expect(r.exitCode).toBe(1);
    // Its signature no longer matches: it is refused before anything in it is read.
    expect(r.errors).toEqual([
      expect.stringMatching(
        /^Input "destinations": no genuine backup of .*the signature does not match the manifest/,
      ),
    ]);
    expect(r.log).not.toMatch(/^::error::forged/m);
    expect(await rowsDigest()).toBe(rowsBefore);
  });

  it('verify: true makes a backup prove itself before retention', async () => {
    const r = await backup({ volumes: 'uploads', verify: 'true', 'decryption-key': identity });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.verified).toBe('true');
    expect(r.summary).toContain('Verified by a restore into scratch volumes: yes');
    await ssh(`rm -rf ${hostBackups}/${r.outputs['backup-id']}`);
  });

  it('refuses a wrong key, naming decryption-key, with live data untouched', async () => {
    const other = await generateIdentity();
    const r = await backup({
      mode: 'restore',
      'decryption-key': other,
      'backup-id': hostRun.outputs['backup-id'],
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "decryption-key": does not open host:.*\/(volume-|postgres-)/);
    expect(r.log).not.toContain(other);
    expect(await rowsDigest()).toBe(rowsBefore);
    expect(await uploadsListing()).toBe(filesBefore);
    expect(await sh('docker volume ls -q --filter label=berth.restore-temp')).toBe('');
  });

  it('refuses a truncated archive, naming it, with live data untouched', async () => {
    const copy = `${hostBackups}-truncated`;
    const backupId = hostRun.outputs['backup-id']!;
    await ssh(
      `mkdir -p ${copy} && cp -a ${hostBackups}/${backupId} ${copy}/ && truncate -s -100 ${copy}/${backupId}/volume-uploads.tar.zst.age`,
    );
    await psql("INSERT INTO notes VALUES (999999, 'after the backup')");
    const r = await backup({ mode: 'restore', destinations: `host:${copy}`, 'decryption-key': identity });
    await ssh(`rm -rf ${copy}`);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /archive host:.*\/volume-uploads\.tar\.zst\.age does not match its manifest .*truncated/,
    );
    expect(await psql('SELECT count(*) FROM notes')).toBe('5001\n');
    expect(await uploadsListing()).toBe(filesBefore);
    expect(await sh('docker volume ls -q --filter label=berth.restore-temp')).toBe('');
    await psql('DELETE FROM notes WHERE id = 999999');
  });

  it('refuses an archive whose bytes were altered (same size), naming it, with live data untouched', async () => {
    const copy = `${hostBackups}-altered`;
    const backupId = hostRun.outputs['backup-id']!;
    await ssh(`mkdir -p ${copy} && cp -a ${hostBackups}/${backupId} ${copy}/`);
    // One byte flipped in the middle of the dump's ciphertext: same size, different sha256 (this
    // machine is the lab host, so the test edits the copy directly).
    const altered = `${copy}/${backupId}/postgres-db-app.dump.age`;
    const bytes = readFileSync(altered);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    writeFileSync(altered, bytes);
    const stagedBefore = await stagedDumps();
    await psql("INSERT INTO notes VALUES (999998, 'after the backup')");
    const r = await backup({ mode: 'restore', destinations: `host:${copy}`, 'decryption-key': identity });
    await ssh(`rm -rf ${copy}`);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /archive host:.*\/postgres-db-app\.dump\.age does not match its manifest \(\d+ bytes, sha256 [0-9a-f]{64}; expected \d+ bytes/,
    );
    // The volumes streamed in before the dump were never swapped in, and the database kept its rows.
    expect(await psql('SELECT count(*) FROM notes')).toBe('5001\n');
    expect(await uploadsListing()).toBe(filesBefore);
    expect(await sh('docker volume ls -q --filter label=berth.restore-temp')).toBe('');
    expect(await stagedDumps()).toBe(stagedBefore);
    await psql('DELETE FROM notes WHERE id = 999998');
  });

  it('restores from ssh:// after `down -v`: rows and files identical, the app healthy', async () => {
    await sh(`docker compose -p ${project} down -v`);
    const redeploy = await deploy();
    expect(redeploy.exitCode, redeploy.log).toBe(0);
    await expect(psql('SELECT count(*) FROM notes')).rejects.toThrow();
    const r = await backup({ mode: 'restore', destinations: sshDestination, 'decryption-key': identity });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs['backup-id']).toBe(sshRun.outputs['backup-id']);
    expect(r.masks).toContain(identity);
    expect(r.log).not.toContain(identity);
    expect(await rowsDigest()).toBe(rowsBefore);
    expect(await uploadsListing()).toBe(filesBefore);
    // Every container the restore stopped is running again; nginx answers once the api is healthy.
    let health = { status: 0, body: '' };
    for (let i = 0; i < 60 && health.status !== 200; i++) {
      health = await httpsGet(lab.caFile, httpsPort, '/healthz').catch(() => health);
      if (health.status !== 200) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(health.status).toBe(200);
    expect(await sh(`docker volume ls -q --filter label=berth.restore-for=${project}_uploads`)).toBe('');
  });

  it('a restore while a deploy holds the project lock waits for it, then restores', async () => {
    // A real deploy of the app, held under its lock by a slow pre-deploy hook (the nginx image has sleep).
    const deploying = deploy({ 'pre-deploy': 'nginx: sleep 15' });
    let holder = '';
    for (let i = 0; i < 240 && !holder.includes('"release"'); i++) {
      holder = (await ssh(`cat ${remoteDir}/.lock 2>/dev/null || true`)).stdout;
      if (!holder.includes('"release"')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(holder).toContain('"release"');
    const restoring = backup({ mode: 'restore', destinations: sshDestination, 'decryption-key': identity });
    const [d, r] = await Promise.all([deploying, restoring]);
    expect(d.exitCode, d.log).toBe(0);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`Waiting up to 300 s for the lock ${remoteDir}/.lock, held by {"release":`);
    expect(await rowsDigest()).toBe(rowsBefore);
    expect(await uploadsListing()).toBe(filesBefore);
  });

  it('a killed transfer leaves no manifest; the next backup succeeds, keeps the fresh partial and applies retention', async () => {
    await sh(
      `docker volume create --label com.docker.compose.project=${project} --label com.docker.compose.volume=bulk ${project}_bulk >/dev/null && ` +
        `docker run --rm --user 0 -v ${project}_bulk:/b --entrypoint sh ${images.db} -c 'head -c 800000000 /dev/urandom >/b/big'`,
    );
    const run = backup({ volumes: 'bulk' });
    // Kill the action (as a cancelled job would) once the archive is streaming.
    let killed = false;
    for (let i = 0; i < 600 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { stdout } = await ssh(`ls ${hostBackups}/*/volume-bulk.tar.zst.age.part 2>/dev/null || true`);
      if (stdout.trim() === '') continue;
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
          if (cmd.includes('actions/backup/dist/index.js') && env.includes(`INPUT_PROJECT=${project}`)) {
            process.kill(Number(pid), 'SIGKILL');
            killed = true;
          }
        } catch {
          // gone, or not ours to read
        }
      }
    }
    expect(killed).toBe(true);
    const dead = await run;
    await closeMasters(dead.runnerDir);
    expect(dead.exitCode).not.toBe(0);
    const partialId = (
      await ssh(`cd ${hostBackups} && for d in */; do [ -e "$d/manifest.json" ] || echo "\${d%/}"; done`)
    ).stdout.trim();
    expect(partialId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    // The host started the stopped db again when the connection died.
    await sh(
      `for i in $(seq 60); do [ "$(docker inspect -f '{{.State.Running}}' $(docker compose -p ${project} ps -aq db))" = true ] && exit 0; sleep 1; done; exit 1`,
    );
    // The archiving container on the host reads to the end of the volume before it goes.
    await sh(
      `for i in $(seq 120); do docker volume rm -f ${project}_bulk >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1`,
    );
    // Its script ended too, and removed the FIFO it streamed through.
    await ssh(
      `for i in $(seq 30); do ls -d /tmp/berth-pipe-* >/dev/null 2>&1 || exit 0; sleep 1; done; ls -d /tmp/berth-pipe-*; exit 1`,
    );

    // Foreign things in the directory, and two old complete backups for retention to judge.
    // Signed ones of this project, and an unsigned one and another project's: retention leaves those alone.
    const old = (x: string, owner = project) =>
      `mkdir -p ${hostBackups}/${x} && printf '{"format": "berth-backup/1", "id": "${x}", "project": "${owner}", "files": []}\\n' >${hostBackups}/${x}/manifest.json`;
    await ssh(
      `echo keep >${hostBackups}/NOTES.txt && mkdir -p ${hostBackups}/not-a-backup && ${old('20200101T000000Z-aaaa')} && ${old('20200102T000000Z-bbbb')} && ${old('20190101T000000Z-cccc')} && ${old('20190102T000000Z-dddd', 'other')}`,
    );
    for (const x of ['20200101T000000Z-aaaa', '20200102T000000Z-bbbb', '20190102T000000Z-dddd'])
      await sh(signManifest(`${hostBackups}/${x}`));
    const next = await backup({ volumes: 'uploads', retention: 'daily=2' });
    expect(next.exitCode, next.log).toBe(0);
    const { stdout } = await ssh(`ls ${hostBackups}`);
    const left = stdout.split('\n').filter(Boolean).sort();
    // The killed run's directory is younger than 24 h, so it might be a backup being written: kept
    // (backup-locks.test.ts shows an old one removed).
    expect(left).toEqual(
      [
        '20190101T000000Z-cccc',
        '20190102T000000Z-dddd',
        '20200102T000000Z-bbbb',
        next.outputs['backup-id']!,
        partialId,
        'NOTES.txt',
        'not-a-backup',
      ].sort(),
    );
    expect(next.log).toMatch(/20190101T000000Z-cccc: left alone by retention, it is unsigned/);
    expect(next.log).toMatch(
      /20190102T000000Z-dddd: left alone by retention, it is a backup of another project/,
    );
    expect(next.outputs['pruned-ids']!.split(' ').sort()).toEqual(
      ['20200101T000000Z-aaaa', hostRun.outputs['backup-id']!].sort(),
    );
    expect(next.outputs.pruned).toBe('2');
  });
});

const encryptedSigningKey = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-enc-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'passphrase', '-f', join(dir, 'k')]);
  const text = readFileSync(join(dir, 'k'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return text;
})();

describe('backup input errors', () => {
  it.each([
    ['a bad destination', { destinations: 'ftp://x/y' }, /^Input "destinations": /],
    ['a relative host: dir', { destinations: 'host:backups' }, /^Input "destinations": /],
    [
      'a destination listed twice',
      { destinations: 'host:/b\nhost:/b/' },
      /^Input "destinations": host:\/b is listed twice/,
    ],
    [
      'artifact outside a job',
      { destinations: 'artifact' },
      /^Input "destinations": artifact needs the runner/,
    ],
    ['an unknown compression', { compression: 'xz' }, /^Input "compression": /],
    [
      'a bad artifact-retention-days',
      { 'artifact-retention-days': '91' },
      /^Input "artifact-retention-days": /,
    ],
    ['an unknown engine', { databases: 'db:oracle:app' }, /^Input "databases": line 1: engine/],
    ['a hostile volume name', { volumes: 'x;touch /tmp/x' }, /^Input "volumes": /],
    ['a bad retention', { retention: 'daily=7,hourly=1' }, /^Input "retention": /],
    ['a bad recipient', { 'encryption-recipients': 'ssh-rsa AAAA' }, /^Input "encryption-recipients": /],
    [
      'no signing-key',
      { 'signing-key': undefined },
      /^Input "signing-key": is required .*ssh-keygen -t ed25519/,
    ],
    [
      'an encrypted signing-key',
      { 'signing-key': encryptedSigningKey },
      /^Input "signing-key": is an OpenSSH key that is encrypted with a passphrase/,
    ],
    [
      'an unencrypted ssh:// backup',
      { 'encryption-recipients': undefined, destinations: sshDestination },
      /^Input "encryption-recipients": is required for ssh:\/\/ destinations/,
    ],
  ])('%s fails before connecting, naming the input', async (_, extra, message) => {
    const before = sshdConnections(lab.sshLog);
    const r = await backup(extra);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(message);
    expect(sshdConnections(lab.sshLog)).toBe(before);
  });

  it('an ssh:// destination that refuses its key names destination-ssh-key, not ssh-key', async () => {
    const dir = await sh('mktemp -d');
    await sh(`ssh-keygen -q -t ed25519 -N '' -f ${dir.trim()}/k`);
    const r = await backup({
      destinations: sshDestination,
      'destination-ssh-key': readFileSync(`${dir.trim()}/k`, 'utf8'),
    });
    await sh(`rm -rf ${dir.trim()}`);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "destination-ssh-key": rejected by /);
  });

  it('an unknown volume names the volumes input', async () => {
    const r = await backup({ volumes: 'nope' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "volumes": project berth-bk-\w+ has no volume nope/);
  });

  it('never runs hostile values', async () => {
    expect(existsSync(marker)).toBe(false);
  });
});

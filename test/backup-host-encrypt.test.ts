// berth/backup encrypting on the host (#19 speed): a backup to `host:` is produced, encrypted with
// the host's age CLI, hashed and stored there, never crossing the runner; with an ssh:// destination
// too, the same ciphertext reaches both; a host without age falls back to the runner and says so.
// A small project of labelled volumes, read with the lab's base image as helper-image.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, readLab, sshInputs } from '../scripts/lab/lab.js';
import { hostWithoutAge, type NoAgeHost } from '../scripts/lab/no-age.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-hx-${id}`;
const hostBackups = `/home/deploy/berth-hx-${id}-backups`;
/** The project's lock directory (deploy's remote-dir). */
const remoteDir = `/home/deploy/berth-hx-${id}`;
const hostCopy = `/home/deploy/berth-hx-${id}-copy`;
const sshBackups = `${lab.raw.LAB_BACKUP_DIR}/berth-hx-${id}`;
const sshDestination = `ssh://${lab.raw.LAB_BACKUP_USER}@${lab.sshHost}:${lab.jumpPort}${sshBackups}`;
const volumes = ['data', 'conf'];
/** Every path with its mode and owner, and every file's sha256: equal listings are equal contents. */
const LIST = 'find . -type f -exec sha256sum {} + | sort && find . -exec stat -c "%n %a %u:%g" {} + | sort';
const sh = async (command: string): Promise<string> =>
  (await exec('bash', ['-c', command], { maxBuffer: 64 << 20 })).stdout;

/** The volume's listing (LIST). */
const listing = (volume: string) =>
  sh(
    `docker run --rm --network none -v ${project}_${volume}:/v:ro --entrypoint sh ${lab.baseImage} -c ` +
      `'cd /v && ${LIST}'`,
  );

let identity: string;
let recipient: string;
let work: string;
let keyFile: string;
let noAge: NoAgeHost;

function backup(extra: Record<string, string> = {}, env?: Record<string, string>): Promise<ActionResult> {
  return runAction('backup', {
    env,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      'signing-key': backupSigning(lab).key,
      'helper-image': lab.baseImage,
      destinations: `host:${hostBackups}`,
      'encryption-recipients': recipient,
      ...extra,
    },
  });
}

/** The file of the backup `r` took from `volume`, as its manifest lists it. */
function manifestFile(r: ActionResult, volume: string): { name: string; sha256: string; bytes: number } {
  const manifest = JSON.parse(r.outputs.manifest!) as {
    files: { name: string; source: string; sha256: string; bytes: number }[];
  };
  const file = manifest.files.find((f) => f.source === `volume:${volume}`);
  if (!file) throw new Error(`no file of volume:${volume} in ${r.outputs.manifest}`);
  return file;
}

/** The stored file decrypted with the real age CLI and unpacked: its listing, like `listing`. */
async function decryptedListing(path: string): Promise<string> {
  const out = mkdtempSync(join(work, 'x-'));
  await sh(`age -d -i ${keyFile} ${path} | zstd -q -d -c | tar -C ${out} --numeric-owner -xpf -`);
  const text = await sh(`cd ${out} && ${LIST}`);
  rmSync(out, { recursive: true, force: true });
  return text;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-hx-'));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  keyFile = join(work, 'key.txt');
  writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  noAge = hostWithoutAge();
  for (const v of volumes) {
    await sh(
      `docker volume create --label com.docker.compose.project=${project} --label com.docker.compose.volume=${v} ` +
        `${project}_${v} >/dev/null && docker run --rm --network none -v ${project}_${v}:/v --entrypoint sh ${lab.baseImage} -c ` +
        `'cd /v && echo ${v} >a.txt && mkdir -p "dir with space" && head -c 2000000 /dev/urandom >"dir with space/blob.bin" && chmod 0640 a.txt && chown 1000 a.txt'`,
    );
  }
});

afterAll(async () => {
  noAge?.remove();
  for (const v of volumes) await sh(`docker volume rm -f ${project}_${v} >/dev/null`).catch(() => '');
  await sh(`rm -rf ${hostBackups} ${hostCopy} ${sshBackups} ${work} ${remoteDir}`).catch(() => '');
});

describe('encryption on the host', () => {
  it('backs up to host: encrypted on the host with age; the real age CLI opens it; restore brings it back', async () => {
    const before = await listing('data');
    const r = await backup();
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Encrypting on the host with its age v?\d/);
    expect(r.log).not.toContain('encrypted on the runner');
    const file = manifestFile(r, 'data');
    expect(r.log).toContain(`volume:data -> ${file.name}: `);
    expect(r.log).toMatch(/volume:data -> volume-data\.tar\.zst\.age: .*, encrypted on the host/);
    expect(r.summary).toMatch(/\| `volume-data\.tar\.zst\.age` \|.*\| the host \|/);
    const stored = `${hostBackups}/${r.outputs['backup-id']}/${file.name}`;
    expect((await sh(`sha256sum ${stored}`)).slice(0, 64)).toBe(file.sha256);
    expect(Number(await sh(`stat -c %s ${stored}`))).toBe(file.bytes);
    expect(await sh(`ls -a ${hostBackups}/${r.outputs['backup-id']}`)).not.toContain('.part');
    expect(await decryptedListing(stored)).toBe(before);

    // Damage the volume, then restore: back byte for byte (decrypted on the runner).
    await sh(
      `docker run --rm -v ${project}_data:/v --entrypoint sh ${lab.baseImage} -c 'rm -rf "/v/dir with space" && echo x >/v/a.txt'`,
    );
    expect(await listing('data')).not.toBe(before);
    const back = await backup({
      mode: 'restore',
      'decryption-key': identity,
      'backup-id': r.outputs['backup-id']!,
    });
    expect(back.exitCode, back.log).toBe(0);
    expect(await listing('data')).toBe(before);
  });

  it('to host: twice and ssh://: identical bytes everywhere, the sha256 the manifest records', async () => {
    const r = await backup({
      destinations: `host:${hostBackups}\nhost:${hostCopy}\n${sshDestination}`,
      volumes: 'conf',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/volume:conf -> .*encrypted on the host, the same bytes streamed to the others/);
    const file = manifestFile(r, 'conf');
    const backupId = r.outputs['backup-id']!;
    for (const dir of [hostBackups, hostCopy, sshBackups]) {
      expect((await sh(`sha256sum ${dir}/${backupId}/${file.name}`)).slice(0, 64), dir).toBe(file.sha256);
    }
    expect(await decryptedListing(`${sshBackups}/${backupId}/${file.name}`)).toBe(await listing('conf'));
  });

  it('on a host without age, encrypts on the runner and says why and what to install', async () => {
    const r = await backup({ volumes: 'conf' }, { PATH: noAge.path });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(
      'The host cannot encrypt (it has no age command): encrypting on the runner instead',
    );
    expect(r.log).toContain('apt-get install age');
    expect(r.log).toMatch(/volume:conf -> volume-conf\.tar\.zst\.age: .*, encrypted on the runner/);
    expect(r.summary).toMatch(/\| `volume-conf\.tar\.zst\.age` \|.*\| the runner \|/);
    const file = manifestFile(r, 'conf');
    const stored = `${hostBackups}/${r.outputs['backup-id']}/${file.name}`;
    expect((await sh(`sha256sum ${stored}`)).slice(0, 64)).toBe(file.sha256);
    expect(await decryptedListing(stored)).toBe(await listing('conf'));
  });

  it('an unencrypted backup to host: is written on the host too', async () => {
    const r = await backup({ volumes: 'conf', 'encryption-recipients': '' }, { PATH: noAge.path });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).not.toContain('The host cannot encrypt');
    expect(r.log).toMatch(/volume:conf -> volume-conf\.tar\.zst: .*, written on the host/);
    const file = manifestFile(r, 'conf');
    const stored = `${hostBackups}/${r.outputs['backup-id']}/${file.name}`;
    expect((await sh(`sha256sum ${stored}`)).slice(0, 64)).toBe(file.sha256);
    expect(await sh(`zstd -q -d -c ${stored} | tar -tf - | sort`)).toContain('./dir with space/blob.bin');
  });
});

// berth/backup's `artifact` destination against test/artifact-server.ts (GitHub's artifact service
// on loopback, spoken to by @actions/artifact's own code): one backup written to an artifact and to
// host: at once, verified and restored from the artifact by other jobs of the same workflow run,
// invisible to another run. The data is a project-labelled volume on the lab host.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactServer, type ArtifactServer } from '../scripts/lab/artifact-server.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-bkart-${id}`;
const volume = `${project}_files`;
const hostDir = `/home/deploy/berth-bkart-${id}-backups`;
const emptyDir = `/home/deploy/berth-bkart-${id}-empty`;

const sh = async (command: string): Promise<string> =>
  (await exec('bash', ['-c', command], { maxBuffer: 64 << 20 })).stdout;
const volumeDigest = () =>
  sh(
    `docker run --rm -v ${volume}:/v:ro --entrypoint sh ${lab.baseImage} -c 'cd /v && find . | sort && find . -type f -exec sha256sum {} + | sort'`,
  );

let server: ArtifactServer;
let identity: string;
let recipient: string;

function backup(
  env: Record<string, string>,
  extra: Record<string, string | undefined> = {},
): Promise<ActionResult> {
  return runAction('backup', {
    env,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': `/home/deploy/${project}`,
      volumes: 'files',
      'helper-image': lab.baseImage,
      destinations: 'artifact',
      'encryption-recipients': recipient,
      'decryption-key': identity,
      'signing-key': backupSigning(lab).key,
      ...extra,
    },
  });
}

beforeAll(async () => {
  server = await startArtifactServer();
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  await sh(
    `docker volume create --label com.docker.compose.project=${project} --label com.docker.compose.volume=files ${volume} >/dev/null && ` +
      `docker run --rm -v ${volume}:/v --entrypoint sh ${lab.baseImage} -c 'mkdir -p "/v/a dir" && head -c 5000000 /dev/urandom >"/v/a dir/blob" && echo hi >/v/hi.txt'`,
  );
});

afterAll(async () => {
  await server.close();
  await sh(`docker volume rm -f ${volume} >/dev/null`).catch(() => undefined);
  await labSsh(lab, `rm -rf ${hostDir} ${emptyDir} /home/deploy/${project}`).catch(() => undefined);
});

describe('artifact destination', () => {
  let run: ActionResult;
  let before: string;

  it('writes one backup to an artifact and to host:, with artifact-retention-days, and verifies both', async () => {
    before = await volumeDigest();
    run = await backup(server.env, {
      destinations: `artifact\nhost:${hostDir}`,
      'artifact-retention-days': '5',
      retention: 'daily=1',
      verify: 'true',
      // Uncompressed end to end: backup, verify, restore.
      compression: 'none',
    });
    expect(run.exitCode, run.log).toBe(0);
    const backupId = run.outputs['backup-id']!;
    const artifacts = server.artifacts();
    expect(artifacts.map((a) => a.name)).toEqual([`berth-backup-${project}-${backupId}`]);
    const days = (artifacts[0]!.expires!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(4.9);
    expect(days).toBeLessThan(5.1);
    // The same files, byte for byte, at host:.
    const manifest = JSON.parse(run.outputs.manifest!) as {
      files: { name: string; sha256: string; compression: string }[];
    };
    expect(manifest.files).toMatchObject([{ name: 'volume-files.tar.age', compression: 'none' }]);
    const { stdout } = await labSsh(lab, `cd ${hostDir}/${backupId} && sha256sum *`);
    for (const f of manifest.files) expect(stdout).toContain(`${f.sha256}  ${f.name}`);
    expect(run.log).toMatch(/artifact: kept for 5 days by GitHub; Berth’s retention does not apply/);
    // verify: true restored from the artifact (the first destination) and read the host: copy back.
    expect(run.outputs.verified).toBe('true');
    expect(run.log).toMatch(
      /volume-files\.tar\.age: 2 files restored into a scratch volume, contents identical/,
    );
    expect(run.log).toContain(
      `host:${hostDir}/${backupId}: every file read back, sizes and sha256 match the manifest`,
    );
    expect(run.summary).toContain(`artifact berth-backup-${project}-${backupId}`);
  });

  it('verifies from the artifact in another job, after a destination that lacks the backup', async () => {
    const r = await backup(server.jobEnv(), { mode: 'verify', destinations: `host:${emptyDir}\nartifact` });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.verified).toBe('true');
    expect(r.outputs['backup-id']).toBe(run.outputs['backup-id']);
    expect(r.log).toMatch(/from artifact, 1 files, encrypted/);
  });

  it('restores from the artifact in another job: the volume identical again', async () => {
    await sh(
      `docker run --rm -v ${volume}:/v --entrypoint sh ${lab.baseImage} -c 'rm -rf "/v/a dir" && echo changed >/v/hi.txt'`,
    );
    expect(await volumeDigest()).not.toBe(before);
    const r = await backup(server.jobEnv(), { mode: 'restore' });
    expect(r.exitCode, r.log).toBe(0);
    expect(await volumeDigest()).toBe(before);
  });

  it('another workflow run does not see the artifact', async () => {
    const r = await backup(server.otherRunEnv(), { mode: 'restore' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /^Input "destinations": no genuine backup of berth-bkart-\w+: artifact: no complete backup$/,
    );
  });
});

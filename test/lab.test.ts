// The lab is what every integration test stands on: prove each part is the real thing and is
// locked down the way production is (registry auth, pinned host keys, key-only SSH).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labSsh, readLab } from '../scripts/lab/lab.js';

const run = promisify(execFile);
const lab = readLab();

function sshConfig(knownHosts: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-labtest-'));
  const file = join(dir, 'ssh_config');
  writeFileSync(
    file,
    [
      'Host *',
      '  BatchMode yes',
      '  StrictHostKeyChecking yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  IdentitiesOnly yes',
      `  IdentityFile ${lab.sshKey}`,
      '  ConnectTimeout 10',
      '',
    ].join('\n'),
  );
  return file;
}

describe('lab', () => {
  it('runs Docker Engine >= 26 with buildx, Compose v2 and the containerd image store', async () => {
    const { stdout: server } = await run('docker', ['version', '--format', '{{.Server.Version}}']);
    expect(Number(server.split('.')[0])).toBeGreaterThanOrEqual(26);
    const { stdout: compose } = await run('docker', ['compose', 'version', '--short']);
    expect(compose.trim()).toMatch(/^v?2\./);
    const { stdout: buildx } = await run('docker', ['buildx', 'version']);
    expect(buildx).toMatch(/ v?0\.\d+/);
    const { stdout: info } = await run('docker', ['info', '--format', '{{json .DriverStatus}}']);
    expect(info).toContain('io.containerd.snapshotter');
  });

  it('has a registry that refuses anonymous access and serves the base image to its user', async () => {
    const anon = await fetch(`http://${lab.registry}/v2/`);
    expect(anon.status).toBe(401);
    const auth = 'Basic ' + Buffer.from(`${lab.registryUser}:${lab.registryPassword}`).toString('base64');
    const [repo, tag] = lab.baseImage.slice(lab.registry.length + 1).split(':');
    const res = await fetch(`http://${lab.registry}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Authorization: auth,
        Accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const wrong = await fetch(`http://${lab.registry}/v2/`, {
      headers: { Authorization: 'Basic ' + Buffer.from(`${lab.registryUser}:wrong`).toString('base64') },
    });
    expect(wrong.status).toBe(401);
  });

  it('has an SSH host, reached with a pinned host key, whose deploy user drives docker', async () => {
    const cfg = sshConfig(lab.knownHosts);
    const { stdout } = await run('ssh', [
      '-F',
      cfg,
      '-p',
      String(lab.sshPort),
      `${lab.sshUser}@${lab.sshHost}`,
      'id -nG; docker compose version --short',
    ]);
    expect(stdout).toMatch(/\bdocker\b/);
    expect(stdout).toMatch(/^v?2\./m);
  });

  it('refuses a host whose key is not the pinned one', async () => {
    const other = join(mkdtempSync(join(tmpdir(), 'berth-labtest-')), 'known_hosts');
    // The jump host's key, claimed for the deploy host's address: a man in the middle.
    const { stdout: jumpKey } = await run('ssh-keygen', [
      '-F',
      `[${lab.sshHost}]:${lab.jumpPort}`,
      '-f',
      lab.knownHosts,
    ]);
    const keyLine = jumpKey.split('\n').find((l) => l.startsWith('['))!;
    writeFileSync(other, keyLine.replace(`:${lab.jumpPort}]`, `:${lab.sshPort}]`) + '\n');
    const err = await run('ssh', [
      '-F',
      sshConfig(other),
      '-p',
      String(lab.sshPort),
      `${lab.sshUser}@${lab.sshHost}`,
      'true',
    ]).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );
  });

  it('accepts keys only, never passwords', async () => {
    const options = [
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'PreferredAuthentications=password,keyboard-interactive',
    ];
    const err = await labSsh(lab, 'true', options).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('reaches the SSH host through the jump host', async () => {
    const { stdout } = await run('ssh', [
      '-F',
      sshConfig(lab.knownHosts),
      '-J',
      `${lab.jumpUser}@${lab.sshHost}:${lab.jumpPort}`,
      '-p',
      String(lab.sshPort),
      `${lab.sshUser}@${lab.sshHost}`,
      'hostname >/dev/null && echo through',
    ]);
    expect(stdout.trim()).toBe('through');
  });

  it('serves release downloads from loopback', async () => {
    const name = `probe-${process.pid}.txt`;
    writeFileSync(join(lab.releasesDir, name), 'release bytes');
    const res = await fetch(`${lab.releasesUrl}/${name}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('release bytes');
  });

  it('has a Debian base image with a dpkg database', async () => {
    const { stdout } = await run('docker', [
      'run',
      '--rm',
      '--pull',
      'never',
      lab.baseImage,
      'sh',
      '-c',
      '. /etc/os-release && echo $VERSION_CODENAME && dpkg -s dpkg >/dev/null && echo dpkg-ok',
    ]);
    expect(stdout.split('\n')).toEqual(['bookworm', 'dpkg-ok', '']);
  });
});

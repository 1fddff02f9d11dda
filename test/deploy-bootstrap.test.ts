// berth/deploy mode bootstrap against the lab's bare host (scripts/lab/bare-host.sh): a Debian 12
// server booted with systemd that runs only sshd, root reachable by key. Reset to bare first, then:
// bad input changes nothing; a key that would lock the caller out stops before sshd is hardened;
// profile production prepares it (Docker for the deploy user, sshd hardened, ufw with Docker's
// published ports limited, daemon.json, the textfile directory); a second run changes nothing; and
// the example deploys to it as the deploy user with the ordinary inputs, and a backup of it verifies.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import {
  addBareAccounts,
  bareSsh,
  bareSshInputs,
  bootstrapBare,
  readBareHost,
  resetBareHost,
} from '../scripts/lab/bare-host.js';
import { backupSigning, buildPush, newSshKey, readLab, repoRoot } from '../scripts/lab/lab.js';
import { httpsGet } from '../scripts/lab/net.js';
import { shellQuote } from '../lib/ssh/shell.js';
import { exampleSecrets, exampleWorkdir } from './example-release.js';

const exec = promisify(execFile);
const lab = readLab();
const bare = readBareHost();
const project = 'berth-boot';
const remoteDir = `/opt/${project}`;
const textfileDir = '/var/lib/prometheus/node-exporter';

/** Runs a command on the bare host as root through `admin`, a passwordless sudoer (as on a cloud image). */
const asRoot = async (command: string) =>
  (await bareSsh(bare, `sudo -n bash -c ${shellQuote(command)}`, { user: 'admin' })).stdout;
const asDeploy = async (command: string) => (await bareSsh(bare, command, { user: 'deploy' })).stdout;

const bootstrap = (user: string, extra: Record<string, string> = {}): Promise<ActionResult> =>
  bootstrapBare(bare, user, project, extra);

/** What a bootstrap would change, in one text: packages, users, its files, sshd, ufw. */
const hostState = () =>
  asRoot(
    [
      "dpkg-query -W -f='${Package} ${Version}\\n' | sha256sum",
      'getent passwd | cut -d: -f1 | sort | paste -sd " "',
      'ls -A /etc/apt/sources.list.d /etc/ssh/sshd_config.d /opt /var/backups /var/lib 2>&1',
      'cat /etc/docker/daemon.json 2>&1',
      "sshd -T | grep -E '^(passwordauthentication|permitrootlogin|kbdinteractiveauthentication) '",
      'command -v ufw || echo no ufw',
    ].join('; '),
  );

let images: { api: string; nginx: string; db: string };

beforeAll(async () => {
  const repo = (name: string) => `${lab.registry}/berth-boot/${name}`;
  const [api, nginx, db] = await Promise.all([
    buildPush(lab, join(repoRoot, 'example/api'), repo('api:v1'), ['--build-arg', 'VERSION=v1']),
    buildPush(lab, join(repoRoot, 'example/nginx'), repo('nginx:t')),
    buildPush(lab, join(repoRoot, 'example/db'), repo('db:t')),
    resetBareHost(),
  ]);
  images = { api: api!, nginx: nginx!, db: db! };
  // The accounts a fresh server comes with: an admin with passwordless sudo, and a user without sudo.
  await addBareAccounts(bare);
  // A daemon.json someone wrote before: the bootstrap merges Berth's keys into it, keeping the others.
  await bareSsh(
    bare,
    `mkdir -p /etc/docker && echo '{"max-concurrent-downloads": 4, "log-driver": "json-file"}' >/etc/docker/daemon.json`,
  );
});

describe('mode bootstrap on a bare Debian 12 host', () => {
  it('refuses an unknown profile, a user without sudo and an unsupported system, changing nothing', async () => {
    const before = await hostState();
    const profile = await bootstrap('root', { 'bootstrap-profile': 'staging' });
    expect(profile.exitCode).toBe(1);
    expect(profile.errors).toEqual([
      'Input "bootstrap-profile": "staging" is not one of: development, production, ubuntu',
    ]);

    const nosudo = await bootstrap('nosudo');
    expect(nosudo.exitCode).toBe(1);
    expect(nosudo.errors).toEqual([
      `Input "user": nosudo on ${bare.host} is neither root nor allowed to run sudo without a password (sudo -n): mode bootstrap needs one of them; nothing was changed`,
    ]);

    await asRoot(
      'mv /etc/os-release /etc/os-release.berth-test && printf "ID=fedora\\nVERSION_ID=40\\nPRETTY_NAME=\\"Fedora Linux 40\\"\\n" >/etc/os-release',
    );
    let fedora: ActionResult;
    try {
      fedora = await bootstrap('root');
    } finally {
      await asRoot('mv -f /etc/os-release.berth-test /etc/os-release');
    }
    expect(fedora.exitCode).toBe(1);
    expect(fedora.errors).toHaveLength(1);
    expect(fedora.errors[0]).toMatch(
      /phase prepare\) on root@127\.0\.0\.1:\d+ failed: unsupported system Fedora Linux 40 \(ID=fedora VERSION_ID=40\): Berth's bootstrap supports Debian 12 and Ubuntu 22\.04 and 24\.04; nothing was changed$/,
    );
    expect(await hostState()).toBe(before);
  });

  it('stops before hardening sshd when the deploy user would not let the caller in', async () => {
    const other = mkdtempSync(join(tmpdir(), 'berth-boot-key-'));
    newSshKey(join(other, 'k'), 'someone else');
    const r = await bootstrap('root', { 'deploy-public-keys': readFileSync(join(other, 'k.pub'), 'utf8') });
    expect(r.exitCode, r.log).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^Input "deploy-public-keys": the action's ssh-key cannot log in as deploy \(.*\): hardening sshd now would lock the caller out, so sshd and the firewall were left as they were/,
    );
    // Prepared, not hardened: Docker is there, root still logs in, passwords are still on, no firewall.
    expect(r.summary).toMatch(/\| `package docker\.io` \| `absent` → `26\.[^`]+` \|/);
    expect(r.summary).toContain('| sshd and firewall | not hardened: ');
    expect(r.summary).toContain('| `daemon.json log-driver` | `json-file` → `local` |');
    expect(
      (await bareSsh(bare, 'sshd -T | grep -E "^(passwordauthentication|permitrootlogin) "')).stdout,
    ).toBe('permitrootlogin without-password\npasswordauthentication yes\n');
    expect(await asRoot('ls -A /etc/ssh/sshd_config.d; ufw status')).toBe('Status: inactive\n');
  });

  it('profile production prepares the host: Docker for the deploy user, sshd hardened, ufw, daemon.json', async () => {
    const r = await bootstrap('root');
    expect(r.exitCode, r.log).toBe(0);
    expect(r.summary).toContain(
      "| sshd and firewall | hardened after deploy logged in with the action's key |",
    );
    expect(r.summary).toContain('| `sshd permitrootlogin` | `without-password` → `no` |');
    expect(r.summary).toContain('| `ufw` | `inactive` → `active` |');
    expect(r.summary).toMatch(/\| `authorized keys of deploy` \| `SHA256:\S+` → `SHA256:\S+` \|/);

    // Root is refused from now on; the deploy user logs in and runs Docker with Compose v2 and buildx.
    await expect(bareSsh(bare, 'true')).rejects.toThrow(/Permission denied/);
    const docker = await asDeploy(
      "id -nG; docker info --format '{{.ServerVersion}} {{.LoggingDriver}}'; docker compose version --short; docker buildx version",
    );
    expect(docker).toMatch(/^deploy docker\n26\.\S+ local\n2\.\S+\ngithub\.com\/docker\/buildx 0\.\S+ /);
    const daemon = JSON.parse(await asRoot('cat /etc/docker/daemon.json')) as Record<string, unknown>;
    expect(daemon).toEqual({
      'max-concurrent-downloads': 4,
      'log-driver': 'local',
      'log-opts': { 'max-size': '10m', 'max-file': '3' },
      'no-new-privileges': true,
      'live-restore': true,
    });
    expect(await asRoot(`stat -c '%n %U:%G %a' ${remoteDir} /var/backups/${project} ${textfileDir}`)).toBe(
      `${remoteDir} deploy:deploy 750\n/var/backups/${project} deploy:deploy 700\n${textfileDir} root:docker 775\n`,
    );
    expect(
      await asRoot(
        "sshd -T | grep -E '^(passwordauthentication|permitrootlogin|kbdinteractiveauthentication) '",
      ),
    ).toBe('permitrootlogin no\npasswordauthentication no\nkbdinteractiveauthentication no\n');
    const ufw = await asRoot('ufw status');
    expect(ufw).toMatch(/^Status: active\n/);
    expect(ufw.match(/^\d+\/tcp +ALLOW +Anywhere *$/gm)?.map((l) => l.split(' ')[0])).toEqual([
      '22/tcp',
      '80/tcp',
      '443/tcp',
    ]);
    expect(await asRoot("apt-config dump | grep '^Unattended-Upgrade::Origins-Pattern::'")).toBe(
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";\n',
    );
  });

  it('a second run changes nothing and says so', async () => {
    const before = await hostState();
    const r = await bootstrap('admin');
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain('admin runs the bootstrap as root through sudo -n');
    expect(r.log).toContain('Nothing changed: the host was already bootstrapped');
    expect(r.summary).toMatch(/\| changed \| nothing \(all \d+ items already as wanted\) \|/);
    expect(r.summary).not.toContain('→');
    expect(await hostState()).toBe(before);
  });

  it('keeps what containers publish off the network except 80 and 443', async () => {
    // A container publishing 9999 and 443 on every interface; from outside the host (this machine,
    // at the host's own address) only 443 answers: Docker's published ports do not bypass the firewall.
    await exec('bash', [
      '-c',
      `docker save ${lab.baseImage} | ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${bare.knownHosts} -o IdentitiesOnly=yes -i ${bare.key} -p ${bare.sshPort} deploy@${bare.host} docker load -q`,
    ]);
    const listener =
      'perl -MIO::Socket::INET -e \'$s = IO::Socket::INET->new(LocalPort => 8000, Listen => 5, ReuseAddr => 1) or die; while ($c = $s->accept) { print $c "hello\\n"; close $c }\'';
    await asDeploy(
      `docker run -d --rm --name berth-fw -p 9999:8000 -p 443:8000 ${lab.baseImage} ${listener}`,
    );
    try {
      const address = (
        await exec('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', bare.container])
      ).stdout.trim();
      const knock = (port: number) =>
        exec('timeout', ['5', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}; head -n 1 <&3`]).then(
          (r) => r.stdout.trim(),
          () => 'no answer',
        );
      // On the host itself the published port works as ever (once the listener is up).
      expect(
        await asDeploy(
          'for i in $(seq 50); do r=$(timeout 2 bash -c \'exec 3<>/dev/tcp/127.0.0.1/9999; head -n 1 <&3\' 2>/dev/null); [ "$r" = hello ] && break; sleep 0.2; done; echo "$r"',
        ),
      ).toBe('hello\n');
      expect(await knock(443)).toBe('hello');
      expect(await knock(9999)).toBe('no answer');
    } finally {
      await asDeploy('docker rm -f berth-fw >/dev/null');
    }
  });

  it('the example deploys to it as the deploy user, probes pass, and a backup of it verifies', async () => {
    const workdir = exampleWorkdir(lab, 'bootstrapped');
    const deploy = await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...bareSshInputs(bare, 'deploy'),
        project,
        'compose-files': 'docker-compose.yml',
        secrets: exampleSecrets(lab, `pw-${project}`),
        images: `api=${images.api}\nnginx=${images.nginx}\ndb=${images.db}`,
        registry: lab.registry,
        'registry-username': lab.registryUser,
        'registry-password': lab.registryPassword,
        'health-urls': 'https://localhost/healthz 200',
        'ca-file': 'ca.pem',
        'metrics-dir': textfileDir,
        'wait-timeout': '180',
      },
    });
    expect(deploy.exitCode, deploy.log).toBe(0);
    expect(deploy.outputs.status).toBe('deployed');
    // Through the firewall, on the host's 443 as the world sees it.
    const res = await httpsGet(lab.caFile, bare.httpsPort, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ version: 'v1' });
    expect(await asDeploy(`ls ${textfileDir}`)).toBe(`berth-deploy-${project}.prom\n`);

    const identity = await generateIdentity();
    const backup = await runAction('backup', {
      inputs: {
        ...bareSshInputs(bare, 'deploy'),
        project,
        'remote-dir': remoteDir,
        databases: 'db:postgres:app',
        'encryption-recipients': await identityToRecipient(identity),
        'signing-key': backupSigning(lab).key,
        verify: 'true',
        'decryption-key': identity,
      },
    });
    expect(backup.exitCode, backup.log).toBe(0);
    expect(backup.outputs.verified).toBe('true');
    expect(await asDeploy(`ls /var/backups/${project}`)).toContain(backup.outputs['backup-id']);
  });
});

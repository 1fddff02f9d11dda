// The lab's bare host (scripts/lab/bare-host.sh, started by lab:up): where it is, how to reach it as
// root or another user with the pinned host key, and how to make it bare again for a test that
// bootstraps it from scratch.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runAction, type ActionResult } from './harness.js';
import { labDir, parseEnvFile, repoRoot } from './lab.js';

const execFileP = promisify(execFile);

export interface BareHost {
  /** the container's name on the lab engine */
  container: string;
  host: string;
  sshPort: number;
  /** root, reachable by `key` until a bootstrap hardens sshd */
  user: string;
  /** path of root's private key (also the key tests give other users) */
  key: string;
  /** path of the known_hosts file pinning its host key */
  knownHosts: string;
  /** this machine's loopback ports published to the host's 80 and 443 */
  httpPort: number;
  httpsPort: number;
}

export function readBareHost(): BareHost {
  const file = join(labDir, 'bare-host', 'env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`npm run lab:up\` first`);
  }
  const raw = parseEnvFile(text);
  const get = (k: string): string => {
    const v = raw[k];
    if (!v) throw new Error(`${file} has no ${k}: run \`npm run lab:up\` again`);
    return v;
  };
  return {
    container: get('LAB_BARE_CONTAINER'),
    host: get('LAB_BARE_HOST'),
    sshPort: Number(get('LAB_BARE_SSH_PORT')),
    user: get('LAB_BARE_USER'),
    key: get('LAB_BARE_KEY'),
    knownHosts: get('LAB_BARE_KNOWN_HOSTS'),
    httpPort: Number(get('LAB_BARE_HTTP_PORT')),
    httpsPort: Number(get('LAB_BARE_HTTPS_PORT')),
  };
}

/** Recreates the bare host from its image with a fresh engine volume (same keys and ports). */
export async function resetBareHost(): Promise<void> {
  await execFileP('bash', [join(repoRoot, 'scripts/lab/bare-host.sh'), 'reset'], { maxBuffer: 16 << 20 });
}

/** The connection inputs of berth/deploy and berth/backup for the bare host as `user` (root by default). */
export function bareSshInputs(bare: BareHost, user = bare.user, key = bare.key): Record<string, string> {
  return {
    host: bare.host,
    port: String(bare.sshPort),
    user,
    'ssh-key': readFileSync(key, 'utf8'),
    'known-hosts': readFileSync(bare.knownHosts, 'utf8'),
  };
}

/** Runs `command` on the bare host as `user` over SSH (BatchMode, the pinned host key). */
export function bareSsh(
  bare: BareHost,
  command: string,
  options: { user?: string; key?: string; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = execFileP(
    'ssh',
    [
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${bare.knownHosts}`,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'ConnectTimeout=10',
      '-i',
      options.key ?? bare.key,
      '-p',
      String(bare.sshPort),
      `${options.user ?? bare.user}@${bare.host}`,
      command,
    ],
    { maxBuffer: 64 << 20 },
  );
  if (options.input !== undefined) child.child.stdin?.end(options.input);
  else child.child.stdin?.end();
  return child;
}

/**
 * The accounts a fresh cloud server comes with, made as root on a bare host: `admin` with passwordless
 * sudo and `nosudo` without; both log in with the bare host's key.
 */
export async function addBareAccounts(bare: BareHost): Promise<void> {
  await bareSsh(
    bare,
    [
      'useradd -m -s /bin/bash admin && useradd -m -s /bin/bash nosudo',
      'echo "admin ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/admin && chmod 0440 /etc/sudoers.d/admin',
      'for u in admin nosudo; do usermod -p "*" $u; install -d -m 0700 -o $u -g $u /home/$u/.ssh; install -m 0600 -o $u -g $u /root/.ssh/authorized_keys /home/$u/.ssh/; done',
    ].join(' && '),
  );
}

/** Runs mode bootstrap of berth/deploy on the bare host as `user` (profile production by default). */
export function bootstrapBare(
  bare: BareHost,
  user: string,
  project: string,
  extra: Record<string, string> = {},
): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: mkdtempSync(join(tmpdir(), 'berth-boot-')),
    inputs: {
      ...bareSshInputs(bare, user),
      project,
      mode: 'bootstrap',
      'bootstrap-profile': 'production',
      'deploy-public-keys': `# the team\n${readFileSync(`${bare.key}.pub`, 'utf8').trim()}`,
      ...extra,
    },
    timeoutMs: 590_000,
  });
}

// The private ssh_config every session runs with: the target under a fixed alias, host keys pinned,
// only our key, one multiplexed master connection, and the cipher order for this CPU.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { CheckedTarget } from './target.js';

export interface SshConfigFiles {
  identityFile: string;
  knownHostsFile: string;
  /** Directory for the master connection's control socket. */
  controlDir: string;
}

/** Host aliases in the generated ssh_config; the real names are its HostName lines. */
export const TARGET_ALIAS = 'berth-target';
const JUMP_ALIAS = 'berth-jump';

/**
 * A path as an ssh_config value: quoted for spaces; `"`, `%` (a token there) and newlines refused.
 * `tokens` is appended after the check, for ssh's own `%` tokens.
 */
function configPath(path: string, tokens = ''): string {
  if (!isAbsolute(path) || /["%\n\r\\]/.test(path)) {
    throw new Error(`${JSON.stringify(path)} cannot be used in an ssh_config file; use a plainer temp dir`);
  }
  return `"${path}${tokens}"`;
}

/** AES-GCM first when the CPU has AES instructions, as OpenSSH's default order assumes it may not. */
export const AES_FIRST_CIPHERS =
  'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

/** Whether this (Linux) CPU has hardware AES: x86 `aes` or arm64 `aes` in /proc/cpuinfo. */
export function cpuHasAes(cpuinfo = readCpuinfo()): boolean {
  return /^(flags|Features)\s*:.*\baes\b/m.test(cpuinfo);
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * The private ssh_config, used with `ssh -F` so no system or user config applies: in particular no
 * `SendEnv`/`SetEnv`, so none of our environment reaches the remote shell. With `aesFirst`, AES-GCM
 * is preferred over ChaCha20-Poly1305 (with AES-NI it is the faster cipher, and every byte of a
 * deploy bundle or a backup passes through the one master connection's single process).
 */
export function renderSshConfig(
  t: CheckedTarget,
  files: SshConfigFiles,
  options: { aesFirst?: boolean } = {},
): string {
  const lines = [
    `Host ${TARGET_ALIAS}`,
    `  HostName ${t.host}`,
    `  Port ${t.port}`,
    `  User ${t.user}`,
    // One master connection per session; every command is a new channel on it.
    '  ControlMaster auto',
    // The directory is the session's own, so a short fixed name will do (see sessionParentDir).
    `  ControlPath ${configPath(files.controlDir, '/cm')}`,
    '  ControlPersist yes',
  ];
  if (t.jumpHost) {
    lines.push(
      `  ProxyJump ${JUMP_ALIAS}`,
      '',
      // ssh runs the hop as `ssh -F <this file> -W ... berth-jump`, so it gets the `Host *` settings too.
      `Host ${JUMP_ALIAS}`,
      `  HostName ${t.jumpHost.host}`,
      `  Port ${t.jumpHost.port}`,
      `  User ${t.jumpHost.user}`,
      // The hop is a plain pipe owned by the master; it must not become a master itself.
      '  ControlMaster no',
      '  ControlPath none',
    );
  }
  lines.push(
    '',
    'Host *',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile ${configPath(files.knownHostsFile)}`,
    '  GlobalKnownHostsFile /dev/null',
    // Trust only the pinned keys: don't rewrite them, don't consult DNS.
    '  UpdateHostKeys no',
    '  VerifyHostKeyDNS no',
    '  IdentitiesOnly yes',
    `  IdentityFile ${configPath(files.identityFile)}`,
    '  IdentityAgent none',
    '  ForwardAgent no',
    '  ForwardX11 no',
    '  PermitLocalCommand no',
    '  RequestTTY no',
    `  ConnectTimeout ${t.connectTimeoutSeconds}`,
    '  ServerAliveInterval 15',
    '  ServerAliveCountMax 4',
    '  LogLevel ERROR',
    ...(options.aesFirst ? [`  Ciphers ${AES_FIRST_CIPHERS}`] : []),
    '',
  );
  return lines.join('\n');
}

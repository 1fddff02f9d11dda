// The session's key material, written into its 0700 directory and checked with ssh-keygen before any
// connection: the private key must be usable unattended, and known_hosts must pin every host we reach
// (so a missing pin is reported as such rather than as a refused host key).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandFailedMessage } from '../action/command-text.js';
import type { SshConfigFiles } from './config.js';
import { KNOWN_HOSTS_ADVICE } from './failure.js';
import {
  checkKnownHostsLines,
  knownHostsName,
  normalizePrivateKey,
  SshFailure,
  type CheckedTarget,
  type SshTarget,
} from './target.js';
import { runTool } from './tools.js';

async function checkPrivateKey(keygen: string, file: string): Promise<void> {
  // `-P ''` tries the empty passphrase instead of prompting; stdout (the public key) is discarded.
  const { exitCode, stderr } = await runTool(keygen, ['-y', '-P', '', '-f', file], { silent: true });
  if (exitCode === 0) return;
  const why = /passphrase/i.test(stderr)
    ? ' (it is passphrase-protected; ssh runs unattended, so use a key without a passphrase, kept in a secret)'
    : ' (ssh-keygen cannot read it; paste the whole key file, BEGIN and END lines included)';
  throw new SshFailure('key', `is not an unencrypted OpenSSH/PEM private key${why}`);
}

/** Fails with a `known-hosts` SshFailure when the known_hosts `file` has no entry for `host`:`port`. */
export async function requireHostKey(
  keygen: string,
  file: string,
  host: string,
  port: number,
  what = '',
): Promise<void> {
  const name = knownHostsName(host, port);
  // `ssh-keygen -F` matches hashed (`|1|...`) entries as well as plain ones.
  const { exitCode, stderr } = await runTool(keygen, ['-F', name, '-f', file], { silent: true });
  if (exitCode === 0) return;
  if (exitCode === 1)
    throw new SshFailure('known-hosts', `has no key for ${what}${name}; ${KNOWN_HOSTS_ADVICE}`);
  throw new Error(commandFailedMessage(`ssh-keygen -F ${name}`, exitCode, stderr));
}

/** Writes the private key and the pins into `dir` (a fresh 0700 directory) and checks them. */
export async function writeKeyFiles(
  keygen: string,
  dir: string,
  target: Pick<SshTarget, 'privateKey' | 'knownHosts'>,
  checked: CheckedTarget,
): Promise<SshConfigFiles> {
  const files = { identityFile: join(dir, 'id'), knownHostsFile: join(dir, 'known_hosts'), controlDir: dir };
  await writeFile(files.identityFile, normalizePrivateKey(target.privateKey), { mode: 0o600, flag: 'wx' });
  await checkPrivateKey(keygen, files.identityFile);
  const pins = checkKnownHostsLines(target.knownHosts);
  await writeFile(files.knownHostsFile, pins.join('\n') + '\n', { mode: 0o600 });
  await requireHostKey(keygen, files.knownHostsFile, checked.host, checked.port);
  if (checked.jumpHost) {
    const { host, port } = checked.jumpHost;
    await requireHostKey(keygen, files.knownHostsFile, host, port, 'the jump host ');
  }
  return files;
}

// The master connection that every command of a session rides on: the session's 0700 directory
// (short enough for the control socket), opening the master, and ending it, also when the process
// exits without close().
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../action/exec.js';
import { TARGET_ALIAS } from './config.js';
import { describeOpenFailure } from './failure.js';
import { address, SshFailure, type CheckedTarget } from './target.js';
import { runTool, sshEnv } from './tools.js';

const SESSION_DIR_PREFIX = 'berth-ssh-';
/** sun_path is 108 bytes on Linux (104 on macOS), terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/**
 * Where a session's 0700 directory goes: `preferred` (the runner's temp dir), unless the control
 * socket's path in it would be too long for a Unix socket; ssh binds `<dir>/cm.<16 random>` first.
 * Deep RUNNER_TEMPs (self-hosted runners, act) then fall back to the system temp dir, then /tmp.
 */
export function sessionParentDir(preferred: string | undefined, system: string = tmpdir()): string {
  const fits = (parent: string): boolean =>
    Buffer.byteLength(join(parent, `${SESSION_DIR_PREFIX}XXXXXX`, 'cm.0123456789abcdef')) <= MAX_SOCKET_PATH;
  return [preferred, system].find((p): p is string => p !== undefined && p !== '' && fits(p)) ?? '/tmp';
}

/** A new 0700 directory for a session's key, known_hosts, ssh_config and control socket. */
export async function makeSessionDir(preferred: string | undefined): Promise<string> {
  const dir = await mkdtemp(join(sessionParentDir(preferred), SESSION_DIR_PREFIX));
  try {
    await chmod(dir, 0o700);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/** `ssh -O exit`: ends the master listening on the control socket that `config` names. */
const exitArgs = (config: string): string[] => ['-F', config, '-O', 'exit', '--', TARGET_ALIAS];

/** Cleanups of sessions not closed yet, run synchronously if the process exits without close(). */
const unclosed = new Map<string, () => void>();
let exitHookInstalled = false;

/** Ends the master and deletes `dir` when the process exits, unless forgetCleanup(dir) comes first. */
export function registerCleanup(dir: string, ssh: string, config: string): void {
  // Synchronous, so not the shared runner: an exit hook cannot wait for a promise.
  unclosed.set(dir, () => {
    spawnSync(ssh, exitArgs(config), { stdio: 'ignore', timeout: 10_000, env: sshEnv() });
    rmSync(dir, { recursive: true, force: true });
  });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const run of unclosed.values()) run();
  });
}

export function forgetCleanup(dir: string): void {
  unclosed.delete(dir);
}

/**
 * Opens the master connection: `ssh -f -N -o ControlMaster=yes` returns once authenticated, leaving the
 * master in the background listening on the control socket. ControlPersist is off for it (it is
 * backgrounded by -f anyway) because with ControlPersist ssh discards the jump hop's stderr, and that is
 * where the reason for a jump host failure is. stderr goes to a file rather than a pipe: the hop keeps
 * its stderr open for the whole session.
 */
export async function openMaster(
  ssh: string,
  config: string,
  dir: string,
  target: CheckedTarget,
): Promise<void> {
  const logFile = join(dir, 'open.log');
  const fd = openSync(logFile, 'w', 0o600);
  // ConnectTimeout covers the TCP connect and the banner; this bounds a server that stalls afterwards.
  const limitSeconds = target.connectTimeoutSeconds * 2 + 30;
  const args = ['-F', config, '-f', '-N', '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no'];
  let result: RunResult;
  try {
    result = await runTool(ssh, [...args, '--', TARGET_ALIAS], {
      silent: true,
      stderrFd: fd,
      timeoutMs: limitSeconds * 1000,
    });
  } finally {
    closeSync(fd);
  }
  if (result.timedOut) {
    throw new SshFailure(
      'host',
      `cannot reach ${address(target.host, target.port)}: no SSH session within ${limitSeconds}s`,
    );
  }
  if (result.exitCode !== 0) throw describeOpenFailure(await readFile(logFile, 'utf8'), target);
}

/** Ends the master connection and deletes the session's directory. */
export async function closeMaster(ssh: string, config: string, dir: string): Promise<void> {
  forgetCleanup(dir);
  try {
    await runTool(ssh, exitArgs(config), { silent: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

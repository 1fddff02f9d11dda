// SSH to a host with the OpenSSH client: a validated target, host keys pinned by the user (never
// learned), one multiplexed connection that every command rides on, and failures as SshFailures naming
// the part of the target to fix (lib/ssh/inputs.ts names the input). Commands are strings a remote
// shell parses: build them with lib/ssh/shell.ts.
//
// Secrets: the private key only ever lives in a 0600 file inside a 0700 temp dir that close() deletes;
// it is never printed, passed on a command line or put in the environment. This module masks nothing:
// callers register the key (and any secret they send as `input`) with maskSecret (lib/action/secrets.ts).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandFailedMessage } from '../action/command-text.js';
import type { ProcessOptions, RunResult } from '../action/exec.js';
import { oneLine } from '../action/untrusted.js';
import { cpuHasAes, renderSshConfig, TARGET_ALIAS } from './config.js';
import { writeKeyFiles } from './keys.js';
import { closeMaster, forgetCleanup, makeSessionDir, openMaster, registerCleanup } from './master.js';
import { shellJoin } from './shell.js';
import { address, checkTarget, type SshTarget } from './target.js';
import { findTool, runTool } from './tools.js';

export interface ExecOptions extends Pick<ProcessOptions, 'input' | 'silent' | 'onStdoutLine' | 'stdout'> {
  /** Return a non-zero exit code instead of throwing. */
  ignoreReturnCode?: boolean;
}

export interface ScriptOptions extends ExecOptions {
  /** The script's positional parameters `$1`, `$2`, ...: a safe way to pass values without quoting them into the script. */
  args?: readonly string[];
}

/** Linux caps one execve argument at 128 KiB, and the remote shell gets the command as one. */
const MAX_COMMAND_BYTES = 100_000;

/** A path as one word of an sftp batch command: double-quoted, `\\` and `"` escaped. */
export function sftpQuote(path: string): string {
  if (/[\n\r\0]/.test(path)) throw new Error('an sftp path cannot contain a line break');
  return `"${path.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * One SSH connection to the host. Every exec() is a new session channel multiplexed over the master
 * connection opened by open(), so a deploy makes one TCP connection and one authentication (mind the
 * server's MaxSessions, 10 by default, when running commands concurrently).
 */
export class SshSession {
  private closing: Promise<void> | undefined;
  /** sftp's path, looked up on first use (a backup runs several sftp batches). */
  private sftpPath: Promise<string> | undefined;

  private constructor(
    private readonly ssh: string,
    private readonly config: string,
    /** The 0700 directory holding the key, known_hosts, ssh_config and control socket. */
    readonly tempDir: string,
    /** `user@host:port` (and the jump host), for logs. */
    readonly destination: string,
  ) {}

  /** Validates `target`, checks the key and the pins, and opens the master connection. */
  static async open(target: SshTarget, options: { tempDir?: string } = {}): Promise<SshSession> {
    const ssh = await findTool('ssh');
    const keygen = await findTool('ssh-keygen');
    const t = checkTarget(target);
    const dir = await makeSessionDir(options.tempDir);
    const config = join(dir, 'ssh_config');
    try {
      const files = await writeKeyFiles(keygen, dir, target, t);
      await writeFile(config, renderSshConfig(t, files, { aesFirst: cpuHasAes() }), { mode: 0o600 });
      registerCleanup(dir, ssh, config);
      await openMaster(ssh, config, dir, t);
    } catch (error) {
      // No master came up: nothing to end, only the directory to delete.
      forgetCleanup(dir);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const via = t.jumpHost ? ` via ${t.jumpHost.user}@${address(t.jumpHost.host, t.jumpHost.port)}` : '';
    return new SshSession(ssh, config, dir, `${t.user}@${address(t.host, t.port)}${via}`);
  }

  /** Runs `command` (one shell command string, its values quoted with shellQuote) with the user's login shell. */
  async exec(command: string, options: ExecOptions = {}): Promise<RunResult> {
    return this.run(command, command, options);
  }

  /**
   * Runs a multi-line bash script as `bash -c <script> berth-script <args...>`: the script travels
   * quoted inside the command, so stdin stays free for `input` data. Scripts are limited to ~100 KB
   * (one command-line argument on the host); pass values through `args`, not by pasting them in.
   */
  async script(bash: string, options: ScriptOptions = {}): Promise<RunResult> {
    const { args = [], ...rest } = options;
    const command = shellJoin(['bash', '-c', bash, 'berth-script', ...args]);
    if (Buffer.byteLength(command) > MAX_COMMAND_BYTES) {
      throw new Error(
        `a remote script must stay under ${MAX_COMMAND_BYTES} bytes; upload bigger ones as input`,
      );
    }
    const lineCount = bash.split('\n').length;
    return this.run(command, `bash -c <script of ${lineCount} lines> ${shellJoin(args)}`.trimEnd(), rest);
  }

  /**
   * Runs sftp batch `commands` (one per line, paths quoted with sftpQuote) over the same master
   * connection: for hosts whose account has no shell (an sftp-only backup server). sftp stops at
   * the first failing command unless it is prefixed with `-`.
   */
  async sftp(commands: readonly string[], options: Omit<ExecOptions, 'input'> = {}): Promise<RunResult> {
    this.requireOpen();
    for (const line of commands) {
      if (/[\n\r\0]/.test(line)) throw new Error('an sftp command cannot contain a line break');
    }
    this.sftpPath ??= findTool('sftp');
    const sftp = await this.sftpPath;
    const result = await runTool(sftp, ['-F', this.config, '-q', '-b', '-', '--', TARGET_ALIAS], {
      ...options,
      silent: options.silent ?? true,
      input: commands.join('\n') + '\n',
    });
    if (result.exitCode !== 0 && !options.ignoreReturnCode) {
      throw new Error(commandFailedMessage(`sftp ${this.destination}`, result.exitCode, result.stderr));
    }
    return result;
  }

  private async run(command: string, label: string, options: ExecOptions): Promise<RunResult> {
    this.requireOpen();
    if (command.trim() === '') throw new Error('refusing to run an empty command (ssh would start a shell)');
    const silent = options.silent ?? false;
    if (!silent) process.stdout.write(`[command]${oneLine(`ssh ${this.destination} ${label}`)}\n`);
    // `--` before the alias: nothing after it, the command included, is read as an ssh option.
    const result = await runTool(this.ssh, ['-F', this.config, '--', TARGET_ALIAS, command], options);
    if (result.exitCode !== 0 && !options.ignoreReturnCode) {
      const shown = label.split('\n')[0]!;
      const short = shown.length > 80 || label.includes('\n') ? `${shown.slice(0, 80)}…` : shown;
      throw new Error(
        commandFailedMessage(`ssh ${this.destination} ${short}`, result.exitCode, result.stderr),
      );
    }
    return result;
  }

  private requireOpen(): void {
    if (this.closing) throw new Error(`the SSH session to ${this.destination} is closed`);
  }

  /** Ends the master connection and deletes the temp dir with the key. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= closeMaster(this.ssh, this.config, this.tempDir);
    return this.closing;
  }
}

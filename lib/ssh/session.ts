// SSH to the deploy host with the OpenSSH client: validated inputs, host keys pinned by the user (never
// learned), one multiplexed connection that every command rides on, and failures turned into errors that
// name the input to fix. Commands are strings a remote shell parses: build them with lib/ssh/shell.ts.
//
// Secrets: the private key only ever lives in a 0600 file inside a 0700 temp dir that close() deletes;
// it is never printed, passed on a command line or put in the environment. This module masks nothing:
// callers register the key (and any secret they send as `input`) with core.setSecret.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { commandFailedMessage, tailLines, which, type RunResult } from '../action/exec.js';
import { inputError, type InputError } from '../action/inputs.js';
import { shellJoin } from './shell.js';

export interface JumpHost {
  user: string;
  host: string;
  port: number;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Unencrypted OpenSSH or PEM private key (the `ssh-key` input). */
  privateKey: string;
  /** known_hosts lines pinning the host's key, and the jump host's when there is one. */
  knownHosts: string;
  jumpHost?: JumpHost;
  connectTimeoutSeconds: number;
}

/** What the ssh_config is made of: the target without its secrets. */
export type SshConfigTarget = Pick<
  SshTarget,
  'host' | 'port' | 'user' | 'jumpHost' | 'connectTimeoutSeconds'
>;

export interface SshConfigFiles {
  identityFile: string;
  knownHostsFile: string;
  /** Directory for the master connection's control socket. */
  controlDir: string;
}

export interface ExecOptions {
  /** Streamed to the remote command's stdin (a tar bundle, a secret); otherwise stdin is empty. */
  input?: Buffer | string | NodeJS.ReadableStream;
  /** Don't print the command and its output to the log. Default false. */
  silent?: boolean;
  /** Return a non-zero exit code instead of throwing. */
  ignoreReturnCode?: boolean;
  /** Called with each line of stdout (without its newline) as it arrives. */
  onStdoutLine?: (line: string) => void;
  /**
   * Pipes stdout (binary, with backpressure) into this stream instead of capturing it: the result's
   * stdout is then empty. The call resolves once the command has exited and the stream has finished.
   */
  stdout?: NodeJS.WritableStream;
}

export interface ScriptOptions extends ExecOptions {
  /** The script's positional parameters `$1`, `$2`, ...: a safe way to pass values without quoting them into the script. */
  args?: readonly string[];
}

/** Host aliases in the generated ssh_config; the real names are its HostName lines. */
const TARGET_ALIAS = 'berth-target';
const JUMP_ALIAS = 'berth-jump';
/** Linux caps one execve argument at 128 KiB, and the remote shell gets the command as one. */
const MAX_COMMAND_BYTES = 100_000;
const KNOWN_HOSTS_ADVICE = "add the host's pinned key line (ssh-keyscan output checked out-of-band)";

// ---- pure validators --------------------------------------------------------------------------

const HOST_LABEL = '(?!-)[a-z0-9_-]{1,63}(?<!-)';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(\\.${HOST_LABEL})*\\.?$`, 'i');

/**
 * A hostname or an IPv4/IPv6 literal (IPv6 optionally in brackets), lower-cased the way ssh looks it up
 * in known_hosts. Anything else (spaces, a leading '-', shell or ssh_config syntax, IPv6 zone ids) is
 * refused, because the value ends up in an ssh_config file and in ssh's arguments.
 */
export function parseHost(name: string, value: string): string {
  let host = value.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIPv4(host) || (isIPv6(host) && !host.includes('%'))) return host.toLowerCase();
  // All-numeric names that are not valid IPv4 addresses (`10.0.0.300`) are typos, not hostnames.
  if (host.length <= 253 && HOSTNAME.test(host) && !/^[\d.]+$/.test(host)) return host.toLowerCase();
  throw inputError(name, `${JSON.stringify(value)} is not a hostname or an IP address`);
}

export function parsePort(name: string, value: string): number {
  const text = value.trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw inputError(name, `${JSON.stringify(value)} is not a port (1-65535)`);
  return port;
}

export function parseUser(name: string, value: string): string {
  const user = value.trim();
  if (user.length > 32 || !/^[a-z_][a-z0-9_.-]*$/.test(user)) {
    throw inputError(
      name,
      `${JSON.stringify(value)} is not a user name (lower-case letters, digits, '_', '.', '-', not starting with a digit, '.' or '-')`,
    );
  }
  return user;
}

/** `user@host[:port]`, port 22 by default; an IPv6 host with a port goes in brackets: `user@[::1]:2222`. */
export function parseJumpHost(name: string, value: string): JumpHost {
  const text = value.trim();
  const at = text.indexOf('@');
  if (at <= 0) throw inputError(name, `${JSON.stringify(value)} is not user@host[:port]`);
  const user = parseUser(name, text.slice(0, at));
  const rest = text.slice(at + 1);
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
  let host: string;
  let port = '22';
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2] ?? port;
  } else if (rest.split(':').length === 2) {
    [host, port] = rest.split(':') as [string, string];
  } else {
    host = rest; // no port, or a bare IPv6 address
  }
  return { user, host: parseHost(name, host), port: parsePort(name, port) };
}

/** CRLF (a key pasted on Windows) to LF, surrounding blank space dropped, one trailing newline. */
export function normalizePrivateKey(value: string): string {
  return value.replace(/\r\n?/g, '\n').trim() + '\n';
}

/**
 * The entries of a known_hosts text: CRLF normalised, blank and `#` lines dropped, and each line checked
 * to look like `[@marker] hosts key-type base64-key [comment]`. Errors give the line number only, in
 * case a secret was pasted into the wrong input.
 */
export function knownHostsLines(text: string, inputName = 'known-hosts'): string[] {
  const entries: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const [type, key] = line.startsWith('@') ? fields.slice(2) : fields.slice(1);
    if (!type || !key || !/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+={0,3}$/.test(key)) {
      throw inputError(
        inputName,
        `line ${index + 1} is not a known_hosts entry ("host key-type base64-key", e.g. a line of ssh-keyscan output; content not shown)`,
      );
    }
    entries.push(line);
  });
  return entries;
}

/** How known_hosts names a host: bare on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `host:port` for messages, with IPv6 in brackets. */
function address(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The target with every field re-validated, whatever built it: these values go into ssh_config. */
function checkedTarget(target: SshConfigTarget): SshConfigTarget {
  const seconds = target.connectTimeoutSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw inputError('connect-timeout', `${seconds} is not a whole number of seconds between 1 and 3600`);
  }
  const jump = target.jumpHost;
  return {
    host: parseHost('host', target.host),
    port: parsePort('port', String(target.port)),
    user: parseUser('user', target.user),
    connectTimeoutSeconds: seconds,
    jumpHost: jump && {
      user: parseUser('jump-host', jump.user),
      host: parseHost('jump-host', jump.host),
      port: parsePort('jump-host', String(jump.port)),
    },
  };
}

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
  target: SshConfigTarget,
  files: SshConfigFiles,
  options: { aesFirst?: boolean } = {},
): string {
  const t = checkedTarget(target);
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

// ---- classifying ssh's complaints -------------------------------------------------------------

/** The reason in ssh's "cannot connect" messages, e.g. `Connection refused`. */
function unreachableReason(stderr: string): string {
  const patterns = [
    /connect to host \S+ port \d+: (.+)/,
    /Could not resolve hostname \S+: (.+)/,
    /(Connection timed out during banner exchange)/,
    /(stdio forwarding failed)/,
    /kex_exchange_identification: (.+)/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(stderr);
    if (match) {
      const reason = match[1]!.trim();
      return reason === 'stdio forwarding failed'
        ? 'the jump host could not open a connection to it (stdio forwarding failed)'
        : reason;
    }
  }
  return tailLines(stderr, 3) || 'ssh gave no reason';
}

/**
 * The InputError for a failed connection attempt, from ssh's stderr (LogLevel ERROR). Through a jump
 * host the hop's messages come first on the same stderr and the main ssh then only reports its proxy
 * pipe closing (`kex_exchange_identification`); "stdio forwarding failed" instead means the hop itself
 * worked but could not reach the target.
 */
export function describeOpenFailure(stderr: string, target: SshConfigTarget): InputError {
  const jump = target.jumpHost;
  const forwardFailed = /stdio forwarding failed/.test(stderr);
  const hop =
    jump && !forwardFailed && /kex_exchange_identification|UNKNOWN port 65535/.test(stderr)
      ? jump
      : undefined;
  const peer = hop ?? target;
  const peerName = `${hop ? 'the jump host ' : ''}${knownHostsName(peer.host, peer.port)}`;
  const peerAddress = address(peer.host, peer.port);

  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/.test(stderr)) {
    if (/host key is known for/.test(stderr)) {
      return inputError('known-hosts', `has no key of a type that ${peerName} offers; ${KNOWN_HOSTS_ADVICE}`);
    }
    return inputError(
      'known-hosts',
      `the host key of ${peerName} does not match the pinned key; if the host was rebuilt, pin its new key ` +
        '(checked out-of-band), otherwise someone may be intercepting the connection. Nothing was run on it',
    );
  }
  if (/Permission denied/.test(stderr)) {
    if (hop) {
      return inputError(
        'jump-host',
        `${hop.user}@${peerAddress} rejected the ssh-key (is its public key in ~${hop.user}/.ssh/authorized_keys on the jump host?)`,
      );
    }
    return inputError(
      'ssh-key',
      `rejected by ${target.user}@${peerAddress} (is the public key in ~${target.user}/.ssh/authorized_keys?)`,
    );
  }
  const via = forwardFailed ? ' through the jump host' : '';
  return inputError(
    hop ? 'jump-host' : 'host',
    `cannot reach ${peerAddress}${via}: ${unreachableReason(stderr)}`,
  );
}

// ---- processes --------------------------------------------------------------------------------

/** Our environment without anything that could make ssh ask a person or an agent for a key. */
function sshEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['SSH_AUTH_SOCK', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'DISPLAY']) delete env[name];
  return env;
}

/** Splits a byte stream into lines (UTF-8 safe across chunks), without their `\n` or `\r\n`. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const feed = (text: string): void => {
    const parts = (pending + text).split('\n');
    pending = parts.pop()!;
    for (const line of parts) onLine(line.replace(/\r$/, ''));
  };
  return {
    push: (chunk) => feed(decoder.write(chunk)),
    end: () => {
      feed(decoder.end());
      if (pending !== '') onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}

/** Runs a local process (ssh, ssh-keygen) with streamed, optional stdin and captured output. */
function runProcess(file: string, args: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { input, silent = false } = options;
    const child = spawn(file, args, { stdio: 'pipe', env: sshEnv() });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let callbackError: unknown;
    const lines =
      options.onStdoutLine &&
      lineSplitter((line) => {
        try {
          options.onStdoutLine!(line);
        } catch (error) {
          callbackError ??= error;
        }
      });
    const sink = options.stdout;
    let sinkDone: Promise<void> = Promise.resolve();
    if (sink) {
      sinkDone = new Promise((done, fail) => {
        sink.on('finish', done);
        sink.on('error', (error: Error) => {
          child.kill();
          fail(error);
        });
      });
      sinkDone.catch(() => {});
      child.stdout.pipe(sink);
    } else {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        lines?.push(chunk);
        if (!silent) process.stdout.write(chunk);
      });
    }
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (!silent) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      lines?.end();
      if (callbackError !== undefined) return reject(callbackError);
      sinkDone.then(
        () =>
          resolve({
            exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0),
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          }),
        reject,
      );
    });
    // The command may exit without reading all its input; its exit code says what happened, not EPIPE.
    child.stdin.on('error', () => {});
    if (input === undefined) {
      child.stdin.end(); // an empty stdin, so a command that reads it does not wait forever
    } else if (typeof input === 'string' || Buffer.isBuffer(input)) {
      child.stdin.end(input);
    } else {
      input.on('error', (error) => {
        // The remote side sees end-of-input; the caller must not trust what it did with a partial upload.
        child.kill();
        reject(new Error(`the input stream failed: ${String(error)}`, { cause: error }));
      });
      input.pipe(child.stdin);
    }
  });
}

async function checkPrivateKey(keygen: string, file: string): Promise<void> {
  // `-P ''` tries the empty passphrase instead of prompting; stdout (the public key) is discarded.
  const { exitCode, stderr } = await runProcess(keygen, ['-y', '-P', '', '-f', file], { silent: true });
  if (exitCode === 0) return;
  const why = /passphrase/i.test(stderr)
    ? ' (it is passphrase-protected; ssh runs unattended, so use a key without a passphrase, kept in a secret)'
    : ' (ssh-keygen cannot read it; paste the whole key file, BEGIN and END lines included)';
  throw inputError('ssh-key', `is not an unencrypted OpenSSH/PEM private key${why}`);
}

async function requireHostKey(
  keygen: string,
  inputName: string,
  file: string,
  host: string,
  port: number,
  what = '',
): Promise<void> {
  const name = knownHostsName(host, port);
  // `ssh-keygen -F` matches hashed (`|1|...`) entries as well as plain ones.
  const { exitCode, stderr } = await runProcess(keygen, ['-F', name, '-f', file], { silent: true });
  if (exitCode === 0) return;
  if (exitCode === 1) throw inputError(inputName, `has no key for ${what}${name}; ${KNOWN_HOSTS_ADVICE}`);
  throw new Error(commandFailedMessage(`ssh-keygen -F ${name}`, exitCode, stderr));
}

/**
 * Fails with an InputError naming `inputName` when `knownHostsText` has no entry for `host`:`port`.
 * Runs before any connection, so a missing pin is reported as such rather than as a refused host key.
 */
export async function checkKnownHosts(
  inputName: string,
  knownHostsText: string,
  host: string,
  port: number,
): Promise<void> {
  const keygen = await which('ssh-keygen', 'install the OpenSSH client (openssh-client) on the runner');
  const dir = await mkdtemp(join(tmpdir(), 'berth-known-hosts-'));
  try {
    const file = join(dir, 'known_hosts');
    await writeFile(file, knownHostsLines(knownHostsText, inputName).join('\n') + '\n', { mode: 0o600 });
    await requireHostKey(keygen, inputName, file, host, port);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A path as one word of an sftp batch command: double-quoted, `\\` and `"` escaped. */
export function sftpQuote(path: string): string {
  if (/[\n\r\0]/.test(path)) throw new Error('an sftp path cannot contain a line break');
  return `"${path.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// ---- the session ------------------------------------------------------------------------------

/** Cleanups of sessions not closed yet, run synchronously if the process exits without close(). */
const unclosed = new Map<string, () => void>();
let exitHookInstalled = false;

function registerCleanup(dir: string, cleanup: () => void): void {
  unclosed.set(dir, cleanup);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const run of unclosed.values()) run();
  });
}

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

  static async open(target: SshTarget, options: { tempDir?: string } = {}): Promise<SshSession> {
    const hint = 'install the OpenSSH client (openssh-client) on the runner';
    const ssh = await which('ssh', hint);
    const keygen = await which('ssh-keygen', hint);
    const t = checkedTarget(target);
    const dir = await mkdtemp(join(sessionParentDir(options.tempDir), SESSION_DIR_PREFIX));
    const config = join(dir, 'ssh_config');
    const sshCleanup = (): void => {
      spawnSync(ssh, ['-F', config, '-O', 'exit', '--', TARGET_ALIAS], { stdio: 'ignore', timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await chmod(dir, 0o700);
      const files = {
        identityFile: join(dir, 'id'),
        knownHostsFile: join(dir, 'known_hosts'),
        controlDir: dir,
      };
      await writeFile(files.identityFile, normalizePrivateKey(target.privateKey), {
        mode: 0o600,
        flag: 'wx',
      });
      await checkPrivateKey(keygen, files.identityFile);
      const pins = knownHostsLines(target.knownHosts);
      await writeFile(files.knownHostsFile, pins.join('\n') + '\n', { mode: 0o600 });
      await requireHostKey(keygen, 'known-hosts', files.knownHostsFile, t.host, t.port);
      if (t.jumpHost) {
        const { host, port } = t.jumpHost;
        await requireHostKey(keygen, 'known-hosts', files.knownHostsFile, host, port, 'the jump host ');
      }
      await writeFile(config, renderSshConfig(t, files, { aesFirst: cpuHasAes() }), { mode: 0o600 });
      registerCleanup(dir, sshCleanup);
      await openMaster(ssh, config, dir, t);
    } catch (error) {
      unclosed.delete(dir);
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
    if (this.closing) throw new Error(`the SSH session to ${this.destination} is closed`);
    for (const line of commands) {
      if (/[\n\r\0]/.test(line)) throw new Error('an sftp command cannot contain a line break');
    }
    this.sftpPath ??= which('sftp', 'install the OpenSSH client (openssh-client) on the runner');
    const sftp = await this.sftpPath;
    const result = await runProcess(sftp, ['-F', this.config, '-q', '-b', '-', '--', TARGET_ALIAS], {
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
    if (this.closing) throw new Error(`the SSH session to ${this.destination} is closed`);
    if (command.trim() === '') throw new Error('refusing to run an empty command (ssh would start a shell)');
    const silent = options.silent ?? false;
    if (!silent) process.stdout.write(`[command]ssh ${this.destination} ${label}\n`);
    // `--` before the alias: nothing after it, the command included, is read as an ssh option.
    const result = await runProcess(this.ssh, ['-F', this.config, '--', TARGET_ALIAS, command], options);
    if (result.exitCode !== 0 && !options.ignoreReturnCode) {
      const shown = label.split('\n')[0]!;
      const short = shown.length > 80 || label.includes('\n') ? `${shown.slice(0, 80)}…` : shown;
      throw new Error(
        commandFailedMessage(`ssh ${this.destination} ${short}`, result.exitCode, result.stderr),
      );
    }
    return result;
  }

  /** Ends the master connection and deletes the temp dir with the key. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      unclosed.delete(this.tempDir);
      try {
        await runProcess(this.ssh, ['-F', this.config, '-O', 'exit', '--', TARGET_ALIAS], { silent: true });
      } finally {
        await rm(this.tempDir, { recursive: true, force: true });
      }
    })();
    return this.closing;
  }
}

/**
 * Opens the master connection: `ssh -f -N -o ControlMaster=yes` returns once authenticated, leaving the
 * master in the background listening on the control socket. ControlPersist is off for it (it is
 * backgrounded by -f anyway) because with ControlPersist ssh discards the jump hop's stderr, and that is
 * where the reason for a jump host failure is. stderr goes to a file rather than a pipe: the hop keeps
 * its stderr open for the whole session.
 */
async function openMaster(ssh: string, config: string, dir: string, target: SshConfigTarget): Promise<void> {
  const logFile = join(dir, 'open.log');
  const fd = openSync(logFile, 'w', 0o600);
  // ConnectTimeout covers the TCP connect and the banner; this bounds a server that stalls afterwards.
  const limitSeconds = target.connectTimeoutSeconds * 2 + 30;
  let timedOut = false;
  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      const args = ['-F', config, '-f', '-N', '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no'];
      const child = spawn(ssh, [...args, '--', TARGET_ALIAS], {
        stdio: ['ignore', 'ignore', fd],
        env: sshEnv(),
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill();
      }, limitSeconds * 1000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? 255);
      });
    });
  } finally {
    closeSync(fd);
  }
  if (timedOut) {
    throw inputError(
      'host',
      `cannot reach ${address(target.host, target.port)}: no SSH session within ${limitSeconds}s`,
    );
  }
  if (exitCode !== 0) throw describeOpenFailure(await readFile(logFile, 'utf8'), target);
}

// SshSession (opened by connectSsh, which names the inputs) against the lab's two sshd (the "Ubuntu host" and the jump host): pinned host keys, one
// multiplexed connection per session (counted in the sshd logs), clear failures naming the input to fix,
// and hostile values that reach the remote shell intact and inert. The lab's host is this machine, so
// marker files the remote side might create are checked with existsSync.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InputError } from '../lib/action/inputs.js';
import { shellQuote } from '../lib/ssh/shell.js';
import { renderSshConfig } from '../lib/ssh/config.js';
import { connectSsh, SSH_INPUT_NAMES, sshInputError } from '../lib/ssh/inputs.js';
import { requireHostKey } from '../lib/ssh/keys.js';
import type { SshSession } from '../lib/ssh/session.js';
import { checkKnownHostsLines, checkTarget, type SshTarget } from '../lib/ssh/target.js';
import { findTool } from '../lib/ssh/tools.js';
import { readLab } from '../scripts/lab/lab.js';

const run = promisify(execFile);
const lab = readLab();
const privateKey = readFileSync(lab.sshKey, 'utf8');
const knownHosts = readFileSync(lab.knownHosts, 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'berth-ssh-test-'));
const marker = `/tmp/pwned-${randomBytes(8).toString('hex')}`;

function target(overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    host: lab.sshHost,
    port: lab.sshPort,
    user: lab.sshUser,
    privateKey,
    knownHosts,
    connectTimeoutSeconds: 10,
    ...overrides,
  };
}

const viaJump = { user: lab.jumpUser, host: lab.sshHost, port: lab.jumpPort };

/** Lines the sshd listening on `port` logged for accepted TCP connections. */
function connectionCount(logText: string, port: number): number {
  const accepted = new RegExp(`^Connection from \\S+ port \\d+ on \\S+ port ${port}\\b`);
  return logText.split('\n').filter((line) => accepted.test(line)).length;
}

/** Where a log file ends now, and a function returning what was appended since. */
function logMark(file: string): () => string {
  const start = statSync(file).size;
  return () => readFileSync(file).subarray(start).toString('utf8');
}

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

/** The client port of the connection a session's commands arrive on. */
async function clientPort(session: SshSession): Promise<string> {
  const { stdout } = await session.exec('echo "$SSH_CONNECTION"', { silent: true });
  return stdout.split(' ')[1]!;
}

/** The pinned `key-type base64` of the lab sshd on `port`. */
function pinnedKey(port: number): string {
  const line = knownHosts.split('\n').find((l) => l.startsWith(`[${lab.sshHost}]:${port} `))!;
  return line.split(' ').slice(1).join(' ');
}

/** known_hosts pinning `key` for the lab address on each of `ports`. */
function pins(key: string, ...ports: number[]): string {
  return ports.map((port) => `[${lab.sshHost}]:${port} ${key}\n`).join('');
}

/** The jump host's key claimed for the target's address: a man in the middle. */
const impostorKnownHosts = (): string => pins(pinnedKey(lab.jumpPort), lab.sshPort, lab.jumpPort);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/**
 * Fails with an InputError naming `inputName` when `knownHostsText` has no entry for `host`:`port`:
 * the check a session makes before connecting, on its own.
 */
async function checkKnownHosts(
  inputName: string,
  knownHostsText: string,
  host: string,
  port: number,
): Promise<void> {
  const keygen = await findTool('ssh-keygen');
  const dir = mkdtempSync(join(scratch, 'known-hosts-'));
  try {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, checkKnownHostsLines(knownHostsText).join('\n') + '\n', { mode: 0o600 });
    await requireHostKey(keygen, file, host, port);
  } catch (error) {
    throw sshInputError(error, { ...SSH_INPUT_NAMES, 'known-hosts': inputName });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sessions: SshSession[] = [];
async function open(t: SshTarget = target()): Promise<SshSession> {
  const session = await connectSsh(t);
  sessions.push(session);
  return session;
}

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(sessions.splice(0).map((session) => session.close()));
  expect(existsSync(marker)).toBe(false);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(marker, { force: true });
});

describe('SshSession', () => {
  it('runs commands as the deploy user, who drives docker', async () => {
    const session = await open();
    expect((await session.exec('id -un', { silent: true })).stdout).toBe(`${lab.sshUser}\n`);
    const { stdout } = await session.exec(`docker version --format ${shellQuote('{{.Server.Version}}')}`, {
      silent: true,
    });
    expect(stdout.trim()).toMatch(/^\d+\.\d+/);
  });

  it("works from a runner temp dir too deep for a Unix socket's path (self-hosted runners, act)", async () => {
    const deep = join(scratch, 'runner-work-'.padEnd(90, 'x'), '_temp');
    mkdirSync(deep, { recursive: true });
    const session = await connectSsh(target(), { tempDir: deep });
    sessions.push(session);
    expect((await session.exec('echo ok', { silent: true })).stdout).toBe('ok\n');
    expect(session.tempDir.startsWith(deep)).toBe(false);
  });

  it('makes one connection for many commands and a 5 MB binary upload', async () => {
    const sinceStart = logMark(lab.sshLog);
    const session = await open();
    const ports = [await clientPort(session), await clientPort(session), await clientPort(session)];
    const data = randomBytes(5 * 1024 * 1024);
    const chunks = Array.from({ length: 80 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const { stdout } = await session.exec('sha256sum', { input: Readable.from(chunks), silent: true });
    expect(stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect(new Set(ports).size).toBe(1);
    const log = sinceStart();
    expect(connectionCount(log, lab.sshPort)).toBe(1);
    expect(log).toContain(`Connection from 127.0.0.1 port ${ports[0]} `);
  });

  it('passes Buffer and string input, and an empty stdin when there is none', async () => {
    const session = await open();
    const bytes = Buffer.from([0, 255, 10, 13, 0x80, 0x1b]);
    expect((await session.exec('od -An -tx1', { input: bytes, silent: true })).stdout.trim()).toBe(
      '00 ff 0a 0d 80 1b',
    );
    expect((await session.exec('cat', { input: 'über\n', silent: true })).stdout).toBe('über\n');
    expect((await session.exec('cat; echo end', { silent: true })).stdout).toBe('end\n');
  });

  it('reports stdout lines as they come and streams to the log unless silent', async () => {
    const logged: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(chunk.toString());
      return true;
    });
    const session = await open();
    const lines: string[] = [];
    await session.exec('printf "one\\ntwo\\r\\nthree"', { onStdoutLine: (line) => lines.push(line) });
    expect(lines).toEqual(['one', 'two', 'three']);
    expect(logged.join('')).toContain(`[command]ssh ${lab.sshUser}@${lab.sshHost}:${lab.sshPort} printf`);
    expect(logged.join('')).toContain('three');
    expect(logged.join('')).not.toContain(privateKey.split('\n')[1]!);
  });

  it('fails with the exit code and the end of stderr, or returns them when asked', async () => {
    const session = await open();
    const error = await failure(session.exec('echo first >&2; echo boom >&2; exit 3', { silent: true }));
    expect(error.message).toMatch(/failed with exit code 3; last lines of stderr:\nfirst\nboom$/);
    const result = await session.exec('echo out; exit 4', { silent: true, ignoreReturnCode: true });
    expect(result).toEqual({ exitCode: 4, stdout: 'out\n', stderr: '' });
    await expect(session.exec('  ')).rejects.toThrow(/empty command/);
  });

  it('sends none of our environment to the host', async () => {
    vi.stubEnv('BERTH_PROBE_SECRET', 'must-not-leak');
    vi.stubEnv('LC_BERTH', 'must-not-leak');
    const session = await open();
    const { stdout } = await session.exec('env', { silent: true });
    expect(stdout).not.toContain('must-not-leak');
  });

  it('runs bash scripts with stdin free for data and arguments passed as $1...', async () => {
    const session = await open();
    const script = [
      'set -euo pipefail',
      'read -r line',
      'printf "%s|" "$line" "$#" "$@"',
      'echo "${BASH_VERSION%%.*}"',
    ];
    const hostile = `$(touch ${marker})`;
    const { stdout } = await session.script(script.join('\n'), {
      input: 'from stdin\n',
      args: ['a b', hostile, "it's"],
      silent: true,
    });
    expect(stdout).toMatch(new RegExp(`^from stdin\\|3\\|a b\\|\\$\\(touch ${marker}\\)\\|it's\\|\\d+\\n$`));
    const error = await failure(session.script('echo on stderr >&2\nexit 7', { silent: true }));
    expect(error.message).toMatch(/bash -c <script of 2 lines>` failed with exit code 7; .*\non stderr$/s);
  });

  it('works through the jump host with one connection to each sshd', async () => {
    const hostLog = logMark(lab.sshLog);
    const jumpLog = logMark(lab.jumpLog);
    const session = await open(target({ jumpHost: viaJump }));
    expect(session.destination).toBe(
      `${lab.sshUser}@${lab.sshHost}:${lab.sshPort} via ${lab.jumpUser}@${lab.sshHost}:${lab.jumpPort}`,
    );
    expect((await session.exec('id -un', { silent: true })).stdout).toBe(`${lab.sshUser}\n`);
    expect((await session.exec('echo again', { silent: true })).stdout).toBe('again\n');
    expect(connectionCount(hostLog(), lab.sshPort)).toBe(1);
    expect(connectionCount(jumpLog(), lab.jumpPort)).toBe(1);
    expect(jumpLog()).toMatch(new RegExp(`Accepted publickey for ${lab.jumpUser} `));
  });

  it('works with a hashed known_hosts, also for the jump host', async () => {
    const file = join(scratch, 'known_hosts_hashed');
    writeFileSync(file, knownHosts);
    await run('ssh-keygen', ['-H', '-f', file]);
    const hashed = readFileSync(file, 'utf8');
    expect(hashed).not.toContain(lab.sshHost);
    await checkKnownHosts('known-hosts', hashed, lab.sshHost, lab.sshPort);
    const session = await open(target({ knownHosts: hashed, jumpHost: viaJump }));
    expect((await session.exec('echo hashed', { silent: true })).stdout).toBe('hashed\n');
  });

  it('refuses a host whose key is not the pinned one, before anything runs on it', async () => {
    const hostLog = logMark(lab.sshLog);
    const error = await failure(connectSsh(target({ knownHosts: impostorKnownHosts() })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      new RegExp(
        `^Input "known-hosts": the host key of \\[${lab.sshHost}\\]:${lab.sshPort} does not match the pinned key`,
      ),
    );
    // The same settings, asked straight to run a command: ssh stops at the host key.
    const dir = mkdtempSync(join(scratch, 'mitm-'));
    const files = { identityFile: join(dir, 'id'), knownHostsFile: join(dir, 'kh'), controlDir: dir };
    writeFileSync(files.identityFile, privateKey, { mode: 0o600 });
    writeFileSync(files.knownHostsFile, impostorKnownHosts());
    writeFileSync(join(dir, 'cfg'), renderSshConfig(checkTarget(target()), files));
    const direct = await failure(
      run('ssh', ['-F', join(dir, 'cfg'), '--', 'berth-target', `touch ${marker}`]),
    );
    expect((direct as Error & { stderr: string }).stderr).toMatch(/Host key verification failed/);
    expect(existsSync(marker)).toBe(false);
    // The host saw TCP connections but no authentication, let alone a session.
    const log = hostLog();
    expect(connectionCount(log, lab.sshPort)).toBeGreaterThanOrEqual(1);
    expect(log).not.toMatch(/Accepted publickey|Starting session/);
  });

  it("refuses the jump host's wrong key, naming it", async () => {
    const swapped = pins(pinnedKey(lab.sshPort), lab.sshPort, lab.jumpPort);
    const error = await failure(connectSsh(target({ knownHosts: swapped, jumpHost: viaJump })));
    expect(error.message).toMatch(
      new RegExp(
        `^Input "known-hosts": the host key of the jump host \\[${lab.sshHost}\\]:${lab.jumpPort} does not`,
      ),
    );
  });

  it('fails before connecting when known_hosts has no entry for the host', async () => {
    const hostLog = logMark(lab.sshLog);
    const onlyJump = pins(pinnedKey(lab.jumpPort), lab.jumpPort);
    const error = await failure(connectSsh(target({ knownHosts: onlyJump })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `Input "known-hosts": has no key for [${lab.sshHost}]:${lab.sshPort}; add the host's pinned key line ` +
        '(ssh-keyscan output checked out-of-band)',
    );
    const onlyHost = pins(pinnedKey(lab.sshPort), lab.sshPort);
    await expect(connectSsh(target({ knownHosts: onlyHost, jumpHost: viaJump }))).rejects.toThrow(
      `Input "known-hosts": has no key for the jump host [${lab.sshHost}]:${lab.jumpPort};`,
    );
    await expect(checkKnownHosts('pins', onlyHost, lab.sshHost, lab.jumpPort)).rejects.toThrow(
      /^Input "pins": has no key for/,
    );
    expect(connectionCount(hostLog(), lab.sshPort)).toBe(0);
  });

  it('names ssh-key when the host rejects the key', async () => {
    const dir = mkdtempSync(join(scratch, 'wrongkey-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    const wrongKey = readFileSync(join(dir, 'id'), 'utf8');
    const error = await failure(connectSsh(target({ privateKey: wrongKey })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `Input "ssh-key": rejected by ${lab.sshUser}@${lab.sshHost}:${lab.sshPort} ` +
        `(is the public key in ~${lab.sshUser}/.ssh/authorized_keys?)`,
    );
    expect(error.message).not.toContain(wrongKey.split('\n')[1]!);
  });

  it('names ssh-key for a passphrase-protected or malformed key, without showing it', async () => {
    const dir = mkdtempSync(join(scratch, 'enckey-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', join(dir, 'id')]);
    const encrypted = readFileSync(join(dir, 'id'), 'utf8');
    const error = await failure(connectSsh(target({ privateKey: encrypted })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /^Input "ssh-key": is not an unencrypted OpenSSH\/PEM private key \(.*passphrase/,
    );
    expect(error.message).not.toContain(encrypted.split('\n')[1]!);
    const garbage = 'not a key at all: s3cr3t';
    const malformed = await failure(connectSsh(target({ privateKey: garbage })));
    expect(malformed.message).toMatch(/^Input "ssh-key": is not an unencrypted OpenSSH\/PEM private key/);
    expect(malformed.message).not.toContain('s3cr3t');
  });

  it('accepts a key pasted with CRLF line ends', async () => {
    const session = await open(target({ privateKey: privateKey.replaceAll('\n', '\r\n').trimEnd() }));
    expect((await session.exec('echo ok', { silent: true })).stdout).toBe('ok\n');
  });

  it('names host when nothing listens on the port', async () => {
    const port = await freePort();
    const knownHosts = pins(pinnedKey(lab.sshPort), port);
    const error = await failure(connectSsh(target({ port, knownHosts })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`Input "host": cannot reach ${lab.sshHost}:${port}: Connection refused`);
  });

  it('names jump-host when the jump host fails', async () => {
    const port = await freePort();
    const jumpPins = knownHosts + pins(pinnedKey(lab.jumpPort), port);
    await expect(
      connectSsh(target({ knownHosts: jumpPins, jumpHost: { ...viaJump, port } })),
    ).rejects.toThrow(`Input "jump-host": cannot reach ${lab.sshHost}:${port}: Connection refused`);
    await expect(connectSsh(target({ jumpHost: { ...viaJump, user: 'nobody' } }))).rejects.toThrow(
      `Input "jump-host": nobody@${lab.sshHost}:${lab.jumpPort} rejected the ssh-key`,
    );
  });

  it('passes hostile values through the remote shell intact and inert', async () => {
    const session = await open();
    const hostile = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `'; touch ${marker}; '`,
      `a\ntouch ${marker}\n`,
      '$(id)',
      '`id`',
      "'",
      '"',
      `a'b"c`,
      '\n',
      '\t',
      '  two  spaces  ',
      '*',
      '-rf',
      '$HOME ${HOME} $1',
      '\\',
      'ünïcødé ✓ 日本語 🚀',
      '',
    ];
    for (const value of hostile) {
      const { stdout } = await session.exec(`printf %s ${shellQuote(value)}`, { silent: true });
      expect(stdout).toBe(value);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('closes the master connection and deletes the key with its temp dir', async () => {
    const session = await connectSsh(target());
    const dir = session.tempDir;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'id')).mode & 0o777).toBe(0o600);
    const port = await clientPort(session);
    const hostLog = logMark(lab.sshLog);
    await session.close();
    expect(existsSync(dir)).toBe(false);
    const disconnected = new RegExp(`Disconnected from user ${lab.sshUser} 127\\.0\\.0\\.1 port ${port}\\b`);
    expect(await waitFor(() => disconnected.test(hostLog()))).toBe(true);
    await session.close(); // idempotent
    await expect(session.exec('true')).rejects.toThrow(/is closed/);
  });
});

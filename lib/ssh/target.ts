// What an SSH connection goes to (SshTarget) and the one validation of it. The transport knows no
// input names: what is wrong is an SshFailure naming the part of the target at fault (its `field`);
// lib/ssh/inputs.ts turns that into an error naming the caller's input.
import { isIPv4, isIPv6 } from 'node:net';

export interface JumpHost {
  user: string;
  host: string;
  port: number;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Unencrypted OpenSSH or PEM private key. */
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

declare const checked: unique symbol;
/** A target that went through checkTarget: normalised, and safe to write into an ssh_config. */
export type CheckedTarget = SshConfigTarget & { readonly [checked]: true };

/** The part of a target that a failure is about. */
export type SshField = 'host' | 'port' | 'user' | 'key' | 'known-hosts' | 'jump-host' | 'connect-timeout';

/** What to call each field in a failure's text: the caller's input names, or the fields themselves. */
export type SshFieldNames = Readonly<Record<SshField, string>>;

const FIELD_NAMES: SshFieldNames = {
  host: 'host',
  port: 'port',
  user: 'user',
  key: 'key',
  'known-hosts': 'known-hosts',
  'jump-host': 'jump-host',
  'connect-timeout': 'connect-timeout',
};

/**
 * Something wrong with the target, or a connection the target's host refused: `field` says which part
 * is at fault; `detail(names)` says what, naming other fields it mentions with `names`.
 */
export class SshFailure extends Error {
  readonly detail: (names: SshFieldNames) => string;

  constructor(
    readonly field: SshField,
    detail: string | ((names: SshFieldNames) => string),
  ) {
    const describe = typeof detail === 'string' ? () => detail : detail;
    super(`SSH ${field}: ${describe(FIELD_NAMES)}`);
    this.name = 'SshFailure';
    this.detail = describe;
  }
}

/** `fn()`, with any SshFailure it throws moved to `field` (a jump host's user is the jump host's fault). */
function inField<T>(field: SshField, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SshFailure && error.field !== field) throw new SshFailure(field, error.detail);
    throw error;
  }
}

const HOST_LABEL = '(?!-)[a-z0-9_-]{1,63}(?<!-)';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(\\.${HOST_LABEL})*\\.?$`, 'i');

/**
 * A hostname or an IPv4/IPv6 literal (IPv6 optionally in brackets), lower-cased the way ssh looks it up
 * in known_hosts. Anything else (spaces, a leading '-', shell or ssh_config syntax, IPv6 zone ids) is
 * refused, because the value ends up in an ssh_config file and in ssh's arguments.
 */
export function checkHost(value: string): string {
  let host = value.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIPv4(host) || (isIPv6(host) && !host.includes('%'))) return host.toLowerCase();
  // All-numeric names that are not valid IPv4 addresses (`10.0.0.300`) are typos, not hostnames.
  if (host.length <= 253 && HOSTNAME.test(host) && !/^[\d.]+$/.test(host)) return host.toLowerCase();
  throw new SshFailure('host', `${JSON.stringify(value)} is not a hostname or an IP address`);
}

export function checkPort(value: string): number {
  const text = value.trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new SshFailure('port', `${JSON.stringify(value)} is not a port (1-65535)`);
  return port;
}

export function checkUser(value: string): string {
  const user = value.trim();
  if (user.length > 32 || !/^[a-z_][a-z0-9_.-]*$/.test(user)) {
    throw new SshFailure(
      'user',
      `${JSON.stringify(value)} is not a user name (lower-case letters, digits, '_', '.', '-', not starting with a digit, '.' or '-')`,
    );
  }
  return user;
}

/** `user@host[:port]`, port 22 by default; an IPv6 host with a port goes in brackets: `user@[::1]:2222`. */
export function checkJumpHost(value: string): JumpHost {
  return inField('jump-host', () => {
    const text = value.trim();
    const at = text.indexOf('@');
    if (at <= 0) throw new SshFailure('jump-host', `${JSON.stringify(value)} is not user@host[:port]`);
    const user = checkUser(text.slice(0, at));
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
    return { user, host: checkHost(host), port: checkPort(port) };
  });
}

/** The target with every field validated, whatever built it: these values go into an ssh_config. */
export function checkTarget(target: SshConfigTarget): CheckedTarget {
  const seconds = target.connectTimeoutSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw new SshFailure('connect-timeout', `${seconds} is not a whole number of seconds between 1 and 3600`);
  }
  const jump = target.jumpHost;
  const valid: SshConfigTarget = {
    host: checkHost(target.host),
    port: checkPort(String(target.port)),
    user: checkUser(target.user),
    connectTimeoutSeconds: seconds,
    jumpHost:
      jump &&
      inField('jump-host', () => ({
        user: checkUser(jump.user),
        host: checkHost(jump.host),
        port: checkPort(String(jump.port)),
      })),
  };
  return valid as CheckedTarget;
}

/** CRLF (a key pasted on Windows) to LF, surrounding blank space dropped, one trailing newline. */
export function normalizePrivateKey(value: string): string {
  return value.replace(/\r\n?/g, '\n').trim() + '\n';
}

/**
 * The entries of a known_hosts text: CRLF normalised, blank and `#` lines dropped, and each line checked
 * to look like `[@marker] hosts key-type base64-key [comment]`. Errors give the line number only, in
 * case a secret was pasted into the wrong place.
 */
export function checkKnownHostsLines(text: string): string[] {
  const entries: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const [type, key] = line.startsWith('@') ? fields.slice(2) : fields.slice(1);
    if (!type || !key || !/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+={0,3}$/.test(key)) {
      throw new SshFailure(
        'known-hosts',
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
export function address(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

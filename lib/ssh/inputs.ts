// The SSH connection inputs that actions/deploy and actions/backup share (host, port, user, ssh-key,
// known-hosts, jump-host, connect-timeout): their names, the typed values, getSshInputs() that reads
// and validates them, and where the transport's SshFailures become errors naming the caller's input.
import * as core from '@actions/core';
import { getDurationInput, getString, inputError } from '../action/inputs.js';
import { maskSecret } from '../action/secrets.js';
import { SshSession } from './session.js';
import {
  checkHost,
  checkJumpHost,
  checkPort,
  checkUser,
  normalizePrivateKey,
  SshFailure,
  type JumpHost,
  type SshFieldNames,
  type SshTarget,
} from './target.js';

/** The input names, spread into each action's `Inputs` constants. */
export const SshInputNames = {
  Host: 'host',
  Port: 'port',
  User: 'user',
  SshKey: 'ssh-key',
  KnownHosts: 'known-hosts',
  JumpHost: 'jump-host',
  ConnectTimeout: 'connect-timeout',
} as const;

/** Which input each part of a target comes from; by default the shared SSH inputs. */
export const SSH_INPUT_NAMES: SshFieldNames = {
  host: SshInputNames.Host,
  port: SshInputNames.Port,
  user: SshInputNames.User,
  key: SshInputNames.SshKey,
  'known-hosts': SshInputNames.KnownHosts,
  'jump-host': SshInputNames.JumpHost,
  'connect-timeout': SshInputNames.ConnectTimeout,
};

/** `error` as an InputError naming the input it came from, if it is an SshFailure; else unchanged. */
export function sshInputError(error: unknown, names: SshFieldNames = SSH_INPUT_NAMES): unknown {
  if (!(error instanceof SshFailure)) return error;
  return inputError(names[error.field], error.detail(names));
}

/** `fn()`, with the SshFailure it may throw turned into an InputError naming `name`, whatever its field. */
function named<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw error instanceof SshFailure ? inputError(name, error.detail(SSH_INPUT_NAMES)) : error;
  }
}

// Parsing an input's text: the target's own checks, their failures naming the input being parsed.
export const parseHost = (name: string, value: string): string => named(name, () => checkHost(value));
export const parsePort = (name: string, value: string): number => named(name, () => checkPort(value));
export const parseUser = (name: string, value: string): string => named(name, () => checkUser(value));
/** `user@host[:port]`, port 22 by default; an IPv6 host with a port goes in brackets: `user@[::1]:2222`. */
export const parseJumpHost = (name: string, value: string): JumpHost =>
  named(name, () => checkJumpHost(value));

/** Keys as in action.yml. */
export interface SshInputs {
  host: string;
  port: number;
  user: string;
  'ssh-key': string;
  'known-hosts': string;
  'jump-host'?: JumpHost;
  /** seconds */
  'connect-timeout': number;
}

/** Reads the connection inputs; the key is masked before anything else can fail. */
export function getSshInputs(): SshInputs {
  const I = SshInputNames;
  const sshKey = getString(I.SshKey, { required: true });
  maskSecret(sshKey);
  const jump = getString(I.JumpHost);
  return {
    host: parseHost(I.Host, getString(I.Host, { required: true })),
    port: parsePort(I.Port, getString(I.Port, { default: '22' })),
    user: parseUser(I.User, getString(I.User, { required: true })),
    'ssh-key': normalizePrivateKey(sshKey),
    'known-hosts': getString(I.KnownHosts, { required: true }),
    'jump-host': jump ? parseJumpHost(I.JumpHost, jump) : undefined,
    'connect-timeout': Math.ceil(getDurationInput(I.ConnectTimeout, { default: 20_000 }) / 1000),
  };
}

/** `user@host:port`, for logs. */
export function sshLabel(inputs: Pick<SshInputs, 'host' | 'port' | 'user'>): string {
  return `${inputs.user}@${inputs.host}:${inputs.port}`;
}

/** The SshTarget the inputs describe; `over` replaces fields (another host with the same pins). */
export function sshTarget(inputs: SshInputs, over: Partial<SshTarget> = {}): SshTarget {
  return {
    host: inputs.host,
    port: inputs.port,
    user: inputs.user,
    privateKey: inputs['ssh-key'],
    knownHosts: inputs['known-hosts'],
    jumpHost: inputs['jump-host'],
    connectTimeoutSeconds: inputs['connect-timeout'],
    ...over,
  };
}

/** SshSession.open, its failures naming the inputs in `names` (the shared SSH inputs by default). */
export async function connectSsh(
  target: SshTarget,
  options: { tempDir?: string; names?: SshFieldNames } = {},
): Promise<SshSession> {
  try {
    return await SshSession.open(target, { tempDir: options.tempDir });
  } catch (error) {
    throw sshInputError(error, options.names);
  }
}

/**
 * Opens the session in a `Connect to user@host:port` log group. `names` says which input each part
 * of the target came from, for the error when it is at fault.
 */
export function openSshSession(
  target: SshTarget,
  tempDir: string,
  what = '',
  names: SshFieldNames = SSH_INPUT_NAMES,
): Promise<SshSession> {
  return core.group(`Connect to ${sshLabel(target)}${what}`, () => connectSsh(target, { tempDir, names }));
}

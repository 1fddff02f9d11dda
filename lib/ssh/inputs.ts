// The SSH connection inputs that actions/deploy and actions/backup share (host, port, user, ssh-key,
// known-hosts, jump-host, connect-timeout): their names, the typed values, getSshInputs() that reads
// and validates them, and the session-open step both actions run.
import * as core from '@actions/core';
import { getDurationInput, getString } from '../action/inputs.js';
import {
  normalizePrivateKey,
  parseHost,
  parseJumpHost,
  parsePort,
  parseUser,
  SshSession,
  type JumpHost,
  type SshTarget,
} from './session.js';

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
  core.setSecret(sshKey);
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

/** Opens the session in a `Connect to user@host:port` log group. */
export function openSshSession(target: SshTarget, tempDir: string, what = ''): Promise<SshSession> {
  return core.group(`Connect to ${sshLabel(target)}${what}`, () => SshSession.open(target, { tempDir }));
}

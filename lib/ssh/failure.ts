// Classifying ssh's complaints when a connection cannot be opened (stderr at LogLevel ERROR; samples
// captured from OpenSSH 9.2 against the lab are in failure.test.ts) into an SshFailure naming the part
// of the target to fix.
import { tailLines } from '../action/command-text.js';
import { address, knownHostsName, SshFailure, type SshConfigTarget } from './target.js';

export const KNOWN_HOSTS_ADVICE = "add the host's pinned key line (ssh-keyscan output checked out-of-band)";

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
 * The failure of a connection attempt, from ssh's stderr. Through a jump host the hop's messages come
 * first on the same stderr and the main ssh then only reports its proxy pipe closing
 * (`kex_exchange_identification`); "stdio forwarding failed" instead means the hop itself worked but
 * could not reach the target.
 */
export function describeOpenFailure(stderr: string, target: SshConfigTarget): SshFailure {
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
      return new SshFailure(
        'known-hosts',
        `has no key of a type that ${peerName} offers; ${KNOWN_HOSTS_ADVICE}`,
      );
    }
    return new SshFailure(
      'known-hosts',
      `the host key of ${peerName} does not match the pinned key; if the host was rebuilt, pin its new key ` +
        '(checked out-of-band), otherwise someone may be intercepting the connection. Nothing was run on it',
    );
  }
  if (/Permission denied/.test(stderr)) {
    if (hop) {
      return new SshFailure(
        'jump-host',
        (names) =>
          `${hop.user}@${peerAddress} rejected the ${names.key} (is its public key in ~${hop.user}/.ssh/authorized_keys on the jump host?)`,
      );
    }
    return new SshFailure(
      'key',
      `rejected by ${target.user}@${peerAddress} (is the public key in ~${target.user}/.ssh/authorized_keys?)`,
    );
  }
  const via = forwardFailed ? ' through the jump host' : '';
  return new SshFailure(
    hop ? 'jump-host' : 'host',
    `cannot reach ${peerAddress}${via}: ${unreachableReason(stderr)}`,
  );
}

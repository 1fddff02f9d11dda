// How ssh's complaints (samples captured from OpenSSH 9.2 against the lab) become errors naming the
// input to fix (lib/ssh/failure.ts, named by lib/ssh/inputs.ts).
import { describe, expect, it } from 'vitest';
import { InputError } from '../action/inputs.js';
import { describeOpenFailure } from './failure.js';
import { SSH_INPUT_NAMES, sshInputError } from './inputs.js';
import { SshFailure, type SshConfigTarget } from './target.js';

const target: SshConfigTarget = { host: '127.0.0.1', port: 2222, user: 'deploy', connectTimeoutSeconds: 20 };
const jumpTarget: SshConfigTarget = { ...target, jumpHost: { user: 'jump', host: '127.0.0.1', port: 2223 } };

describe('describeOpenFailure', () => {
  const mismatch = (hostPort: string): string =>
    [
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      `Host key for ${hostPort} has changed and you have requested strict checking.`,
      'Host key verification failed.',
    ].join('\n');
  const closedPipe = 'kex_exchange_identification: Connection closed by remote host\n';

  it.each([
    [
      'a changed host key',
      target,
      mismatch('[127.0.0.1]:2222'),
      'known-hosts',
      'the host key of [127.0.0.1]:2222 does not match the pinned key',
    ],
    [
      "the jump host's changed host key",
      jumpTarget,
      mismatch('[127.0.0.1]:2223') + '\n' + closedPipe,
      'known-hosts',
      'the host key of the jump host [127.0.0.1]:2223 does not match the pinned key',
    ],
    [
      "the target's changed host key, through the jump host",
      jumpTarget,
      mismatch('[127.0.0.1]:2222'),
      'known-hosts',
      'the host key of [127.0.0.1]:2222 does not match',
    ],
    [
      'a host offering no pinned key type',
      target,
      'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n',
      'known-hosts',
      'has no key of a type that [127.0.0.1]:2222 offers',
    ],
    [
      'a rejected key',
      target,
      'deploy@127.0.0.1: Permission denied (publickey).\n',
      'ssh-key',
      'rejected by deploy@127.0.0.1:2222 (is the public key in ~deploy/.ssh/authorized_keys?)',
    ],
    [
      'a key rejected by the jump host',
      jumpTarget,
      'jump@127.0.0.1: Permission denied (publickey).\n' + closedPipe,
      'jump-host',
      'jump@127.0.0.1:2223 rejected the ssh-key',
    ],
    [
      'a key rejected by the target behind the jump host',
      jumpTarget,
      'deploy@127.0.0.1: Permission denied (publickey).\n',
      'ssh-key',
      'rejected by deploy@127.0.0.1:2222',
    ],
    [
      'a refused connection',
      target,
      'ssh: connect to host 127.0.0.1 port 2222: Connection refused\n',
      'host',
      'cannot reach 127.0.0.1:2222: Connection refused',
    ],
    [
      'an unknown name',
      { ...target, host: 'nonexistent.invalid', port: 22 },
      'ssh: Could not resolve hostname nonexistent.invalid: Name or service not known\n',
      'host',
      'cannot reach nonexistent.invalid:22: Name or service not known',
    ],
    [
      'a silent host',
      target,
      'Connection timed out during banner exchange\n',
      'host',
      'cannot reach 127.0.0.1:2222: Connection timed out during banner exchange',
    ],
    [
      'a refused jump host',
      jumpTarget,
      'ssh: connect to host 127.0.0.1 port 2223: Connection refused\n' + closedPipe,
      'jump-host',
      'cannot reach 127.0.0.1:2223: Connection refused',
    ],
    [
      'a target the jump host cannot reach',
      jumpTarget,
      'stdio forwarding failed\n' + closedPipe,
      'host',
      'cannot reach 127.0.0.1:2222 through the jump host: the jump host could not open a connection to it',
    ],
    [
      'something unexpected',
      target,
      'Bad things happened\nreally bad\n',
      'host',
      'cannot reach 127.0.0.1:2222: Bad things happened\nreally bad',
    ],
  ] as const)('names the input for %s', (_case, where, stderr, input, text) => {
    const error = sshInputError(describeOpenFailure(stderr, where)) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.input).toBe(input);
    expect(error.message.startsWith(`Input "${input}": `)).toBe(true);
    expect(error.message).toContain(text);
  });
});

describe('the names table', () => {
  const rejected = 'deploy@127.0.0.1: Permission denied (publickey).\n';
  const jumpRejected =
    'jump@127.0.0.1: Permission denied (publickey).\n' + 'kex_exchange_identification: x\n';
  /** What backup passes for an ssh:// destination: host, port and user come from `destinations`. */
  const destinationNames = {
    ...SSH_INPUT_NAMES,
    host: 'destinations',
    port: 'destinations',
    user: 'destinations',
    key: 'destination-ssh-key',
  };

  it('leaves input names out of the transport: a failure says which part of the target is at fault', () => {
    const failure = describeOpenFailure(rejected, target);
    expect(failure).toBeInstanceOf(SshFailure);
    expect(failure.field).toBe('key');
    expect(failure.message).toBe(
      'SSH key: rejected by deploy@127.0.0.1:2222 (is the public key in ~deploy/.ssh/authorized_keys?)',
    );
    expect(describeOpenFailure(jumpRejected, jumpTarget).message).not.toContain('ssh-key');
  });

  it("names the caller's inputs: a rejected destination key names destination-ssh-key", () => {
    const error = sshInputError(describeOpenFailure(rejected, target), destinationNames) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.input).toBe('destination-ssh-key');
    expect(error.message).toBe(
      'Input "destination-ssh-key": rejected by deploy@127.0.0.1:2222 (is the public key in ~deploy/.ssh/authorized_keys?)',
    );
    const refused = 'ssh: connect to host 127.0.0.1 port 2222: Connection refused\n';
    expect(sshInputError(describeOpenFailure(refused, target), destinationNames)).toMatchObject({
      input: 'destinations',
      message: 'Input "destinations": cannot reach 127.0.0.1:2222: Connection refused',
    });
  });

  it("names the key input in the text of another field's failure", () => {
    const names = { ...SSH_INPUT_NAMES, key: 'destination-ssh-key' };
    const error = sshInputError(describeOpenFailure(jumpRejected, jumpTarget), names) as InputError;
    expect(error.message).toBe(
      'Input "jump-host": jump@127.0.0.1:2223 rejected the destination-ssh-key (is its public key in ~jump/.ssh/authorized_keys on the jump host?)',
    );
  });

  it('passes any other error through', () => {
    const other = new Error('boom');
    expect(sshInputError(other, destinationNames)).toBe(other);
  });
});

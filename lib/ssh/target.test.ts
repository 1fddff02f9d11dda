// The one validation of a target (lib/ssh/target.ts), as the input parsers of lib/ssh/inputs.ts report
// it: errors name the input to fix.
import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../action/testing.js';
import { parseHost, parseJumpHost, parsePort, parseUser, SSH_INPUT_NAMES, sshInputError } from './inputs.js';
import {
  checkKnownHostsLines,
  checkTarget,
  knownHostsName,
  normalizePrivateKey,
  SshFailure,
  type SshConfigTarget,
} from './target.js';

describe('parseHost', () => {
  it.each([
    ['example.com', 'example.com'],
    ['  Deploy-1.Example.COM ', 'deploy-1.example.com'],
    ['web_01', 'web_01'],
    ['fqdn.example.', 'fqdn.example.'],
    ['127.0.0.1', '127.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[::1]', '::1'],
  ])('accepts %j', (value, expected) => {
    expect(parseHost('host', value)).toBe(expected);
  });

  it.each([
    '',
    'two words',
    'host\nProxyCommand touch /tmp/pwned',
    '-oProxyCommand=id',
    'host;id',
    '$(id)',
    '`id`',
    'a|b',
    'user@host',
    'host:22',
    'fe80::1%eth0',
    '10.0.0.300',
    'bad-.example.com',
    `${'a'.repeat(64)}.com`,
  ])('refuses %j, naming the input', (value) => {
    const error = inputErrorOf(() => parseHost('host', value));
    expect(error.input).toBe('host');
    expect(error.message).toMatch(/^Input "host": .* is not a hostname or an IP address$/);
  });
});

describe('parsePort', () => {
  it('accepts 1 to 65535', () => {
    expect(parsePort('port', '22')).toBe(22);
    expect(parsePort('port', ' 65535 ')).toBe(65535);
    expect(parsePort('port', '1')).toBe(1);
  });

  it.each(['0', '65536', '-1', '22.5', '2e3', 'ssh', '', '0x16', '123456'])('refuses %j', (value) => {
    expect(() => parsePort('port', value)).toThrow(/^Input "port": .* is not a port \(1-65535\)$/);
  });
});

describe('parseUser', () => {
  it.each(['deploy', '_svc', 'ci.bot', 'web-01', 'a1'])('accepts %j', (value) => {
    expect(parseUser('user', value)).toBe(value);
  });

  it.each(['', 'Deploy', '1user', '-oProxyCommand=x', 'a b', 'x;id', 'us@er', 'a'.repeat(33), 'é'])(
    'refuses %j',
    (value) => {
      expect(inputErrorOf(() => parseUser('user', value)).message).toMatch(
        /^Input "user": .* is not a user name/,
      );
    },
  );
});

describe('parseJumpHost', () => {
  it.each([
    ['jump@bastion.example.com', { user: 'jump', host: 'bastion.example.com', port: 22 }],
    ['jump@10.0.0.1:2222', { user: 'jump', host: '10.0.0.1', port: 2222 }],
    ['jump@[2001:db8::1]:2200', { user: 'jump', host: '2001:db8::1', port: 2200 }],
    ['jump@[::1]', { user: 'jump', host: '::1', port: 22 }],
    ['jump@::1', { user: 'jump', host: '::1', port: 22 }],
  ])('parses %j', (value, expected) => {
    expect(parseJumpHost('jump-host', value)).toEqual(expected);
  });

  it.each([
    'bastion',
    '@bastion',
    'jump@',
    'jump@bastion:0',
    'jump@bastion:ssh',
    'Jump@bastion',
    'j@b c',
    'a@b@c',
  ])('refuses %j, naming the input', (value) => {
    const error = inputErrorOf(() => parseJumpHost('jump-host', value));
    expect(error.input).toBe('jump-host');
    expect(error.message).toMatch(/^Input "jump-host": /);
  });
});

describe('normalizePrivateKey', () => {
  it('turns CRLF into LF and ends with exactly one newline', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\r\nAAAA\r\n-----END OPENSSH PRIVATE KEY-----';
    expect(normalizePrivateKey(key)).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    expect(normalizePrivateKey('\nkey\n\n\n')).toBe('key\n');
  });
});

/** checkKnownHostsLines, its failures naming `name` as a session's do. */
function knownHostsLines(text: string, name = 'known-hosts'): string[] {
  try {
    return checkKnownHostsLines(text);
  } catch (error) {
    throw sshInputError(error, { ...SSH_INPUT_NAMES, 'known-hosts': name });
  }
}

describe('known hosts', () => {
  const ed = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMbaZ9+tKazPe+1u4tYiYoL/OSdeBU08bjdhOZbKxJLm';

  it('keeps entries, drops blanks and comments, normalises CRLF', () => {
    const text = `# pinned\r\n[10.0.0.1]:2222 ${ed}\r\n\r\n|1|abc=|def= ${ed} comment\n@cert-authority *.example.com ${ed}\n`;
    expect(knownHostsLines(text)).toEqual([
      `[10.0.0.1]:2222 ${ed}`,
      `|1|abc=|def= ${ed} comment`,
      `@cert-authority *.example.com ${ed}`,
    ]);
    expect(knownHostsLines('')).toEqual([]);
  });

  it('refuses a line that is not an entry without showing it', () => {
    const secret = '-----BEGIN OPENSSH PRIVATE KEY-----';
    const error = inputErrorOf(() => knownHostsLines(`host ${ed}\n${secret}\n`));
    expect(error.message).toMatch(/^Input "known-hosts": line 2 is not a known_hosts entry/);
    expect(error.message).not.toContain('BEGIN');
    expect(() => knownHostsLines('host ssh-ed25519', 'pins')).toThrow(/^Input "pins": line 1/);
  });

  it('names hosts the way known_hosts does', () => {
    expect(knownHostsName('example.com', 22)).toBe('example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });
});

describe('checkTarget', () => {
  const target: SshConfigTarget = {
    host: 'Example.COM',
    port: 22,
    user: 'deploy',
    connectTimeoutSeconds: 20,
  };

  /** The SshFailure `fn` throws. */
  function failureOf(fn: () => unknown): SshFailure {
    try {
      fn();
    } catch (error) {
      if (error instanceof SshFailure) return error;
      throw error;
    }
    throw new Error('expected an SshFailure');
  }

  it('normalises the target', () => {
    expect(checkTarget({ ...target, jumpHost: { user: 'jump', host: '[::1]', port: 2222 } })).toEqual({
      ...target,
      host: 'example.com',
      jumpHost: { user: 'jump', host: '::1', port: 2222 },
    });
  });

  it('says which part of the target is wrong, naming no input', () => {
    const cases: [Partial<SshConfigTarget>, string][] = [
      [{ host: 'a b' }, 'host'],
      [{ port: 70000 }, 'port'],
      [{ user: 'Root' }, 'user'],
      [{ jumpHost: { user: 'Jump', host: 'bastion', port: 22 } }, 'jump-host'],
      [{ jumpHost: { user: 'jump', host: 'bastion', port: 0 } }, 'jump-host'],
      [{ connectTimeoutSeconds: 0 }, 'connect-timeout'],
    ];
    for (const [change, field] of cases) {
      const failure = failureOf(() => checkTarget({ ...target, ...change }));
      expect(failure.field).toBe(field);
      expect(failure.message).toMatch(new RegExp(`^SSH ${field}: `));
      expect(failure.message).not.toContain('Input');
    }
  });

  it("is named by the caller's names table", () => {
    const names = { ...SSH_INPUT_NAMES, host: 'destinations', port: 'destinations', user: 'destinations' };
    const failure = failureOf(() => checkTarget({ ...target, user: 'Root' }));
    expect(sshInputError(failure, names)).toMatchObject({
      input: 'destinations',
      message: expect.stringMatching(/^Input "destinations": "Root" is not a user name/),
    });
  });
});

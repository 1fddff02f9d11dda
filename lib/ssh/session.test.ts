// Pure parts of lib/ssh/session.ts: input validators, the ssh_config text, and how ssh's complaints (samples
// captured from OpenSSH 9.2 against the lab) become errors naming the input to fix.
import { describe, expect, it } from 'vitest';
import { InputError } from '../action/inputs.js';
import {
  describeOpenFailure,
  knownHostsLines,
  knownHostsName,
  normalizePrivateKey,
  parseHost,
  parseJumpHost,
  parsePort,
  parseUser,
  cpuHasAes,
  renderSshConfig,
  sessionParentDir,
  type SshConfigTarget,
} from './session.js';
import { inputErrorOf } from '../action/testing.js';

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

const target: SshConfigTarget = { host: '127.0.0.1', port: 2222, user: 'deploy', connectTimeoutSeconds: 20 };
const jumpTarget: SshConfigTarget = { ...target, jumpHost: { user: 'jump', host: '127.0.0.1', port: 2223 } };
const files = {
  identityFile: '/tmp/berth-ssh-x/id',
  knownHostsFile: '/tmp/berth-ssh-x/known_hosts',
  controlDir: '/tmp/berth-ssh-x',
};

/** The value of `key` on each line that sets it. */
function settings(config: string, key: string): string[] {
  return config
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name]) => name === key)
    .map((words) => words.slice(1).join(' '));
}

describe('renderSshConfig', () => {
  it('pins host keys and never relaxes the check', () => {
    const config = renderSshConfig(target, files);
    expect(settings(config, 'StrictHostKeyChecking')).toEqual(['yes']);
    expect(config).not.toMatch(/StrictHostKeyChecking\s+(no|accept-new|ask|off)/i);
    expect(settings(config, 'UserKnownHostsFile')).toEqual(['"/tmp/berth-ssh-x/known_hosts"']);
    expect(settings(config, 'GlobalKnownHostsFile')).toEqual(['/dev/null']);
    expect(settings(config, 'BatchMode')).toEqual(['yes']);
    expect(settings(config, 'UpdateHostKeys')).toEqual(['no']);
  });

  it('uses only our key and multiplexes over one master connection', () => {
    const config = renderSshConfig(target, files);
    expect(settings(config, 'IdentitiesOnly')).toEqual(['yes']);
    expect(settings(config, 'IdentityFile')).toEqual(['"/tmp/berth-ssh-x/id"']);
    expect(settings(config, 'IdentityAgent')).toEqual(['none']);
    expect(settings(config, 'ForwardAgent')).toEqual(['no']);
    expect(settings(config, 'ControlMaster')).toEqual(['auto']);
    expect(settings(config, 'ControlPath')).toEqual(['"/tmp/berth-ssh-x/cm"']);
    expect(settings(config, 'ControlPersist')).toEqual(['yes']);
    expect(settings(config, 'ConnectTimeout')).toEqual(['20']);
    expect(settings(config, 'ServerAliveInterval')).toEqual(['15']);
    expect(settings(config, 'ServerAliveCountMax')).toEqual(['4']);
    expect(settings(config, 'LogLevel')).toEqual(['ERROR']);
  });

  it('sends no environment and has no jump without a jump host', () => {
    const config = renderSshConfig(target, files);
    expect(config).not.toMatch(/^\s*(SendEnv|SetEnv|ProxyJump|ProxyCommand|LocalCommand)\b/im);
    expect(settings(config, 'HostName')).toEqual(['127.0.0.1']);
    expect(settings(config, 'Port')).toEqual(['2222']);
    expect(settings(config, 'User')).toEqual(['deploy']);
  });

  it('jumps through the jump host, which gets the same security settings but no master of its own', () => {
    const config = renderSshConfig(jumpTarget, files);
    expect(settings(config, 'ProxyJump')).toEqual(['berth-jump']);
    expect(settings(config, 'Host')).toEqual(['berth-target', 'berth-jump', '*']);
    expect(settings(config, 'HostName')).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(settings(config, 'Port')).toEqual(['2222', '2223']);
    expect(settings(config, 'User')).toEqual(['deploy', 'jump']);
    expect(settings(config, 'ControlMaster')).toEqual(['auto', 'no']);
    // `Host *` comes last so it applies to both hops: ssh_config takes the first value it finds.
    expect(config.indexOf('Host *')).toBeGreaterThan(config.indexOf('Host berth-jump'));
    expect(config.slice(config.indexOf('Host *'))).toContain('StrictHostKeyChecking yes');
  });

  it('re-validates whatever the target holds, so nothing can be injected into the file', () => {
    expect(() => renderSshConfig({ ...target, host: 'x\n  ProxyCommand touch /tmp/pwned' }, files)).toThrow(
      /^Input "host": /,
    );
    expect(() => renderSshConfig({ ...target, user: 'root\nHost *' }, files)).toThrow(/^Input "user": /);
    expect(() => renderSshConfig({ ...target, port: 0 }, files)).toThrow(/^Input "port": /);
    expect(() =>
      renderSshConfig({ ...target, jumpHost: { user: 'jump', host: 'a b', port: 22 } }, files),
    ).toThrow(/^Input "jump-host": /);
    expect(() => renderSshConfig({ ...target, connectTimeoutSeconds: 0.5 }, files)).toThrow(
      /^Input "connect-timeout": /,
    );
    expect(() => renderSshConfig(target, { ...files, identityFile: '/tmp/a"b/id' })).toThrow(/ssh_config/);
    expect(() => renderSshConfig(target, { ...files, controlDir: '/tmp/100%' })).toThrow(/ssh_config/);
  });

  it('quotes paths with spaces', () => {
    const config = renderSshConfig(target, { ...files, identityFile: '/tmp/runner temp/id' });
    expect(settings(config, 'IdentityFile')).toEqual(['"/tmp/runner temp/id"']);
  });
});

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
    const error = describeOpenFailure(stderr, where);
    expect(error).toBeInstanceOf(InputError);
    expect(error.input).toBe(input);
    expect(error.message.startsWith(`Input "${input}": `)).toBe(true);
    expect(error.message).toContain(text);
  });
});

describe('sftpQuote', () => {
  it('double-quotes a path, escaping backslashes and quotes; refuses line breaks', async () => {
    const { sftpQuote } = await import('./session.js');
    expect(sftpQuote('/srv/b ackups/x')).toBe('"/srv/b ackups/x"');
    expect(sftpQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(() => sftpQuote('a\nb')).toThrow(/line break/);
  });
});

describe('sessionParentDir', () => {
  it("keeps the runner's temp dir while the control socket's path fits a Unix socket", () => {
    expect(sessionParentDir('/home/runner/work/_temp', '/tmp')).toBe('/home/runner/work/_temp');
    expect(sessionParentDir(undefined, '/tmp')).toBe('/tmp');
  });
  it('falls back to the system temp dir, then /tmp, when the path would be too long', () => {
    const deep = `/home/runner/${'x'.repeat(60)}/_temp`;
    expect(sessionParentDir(deep, '/var/tmp')).toBe('/var/tmp');
    expect(sessionParentDir(deep, `/var/${'y'.repeat(80)}`)).toBe('/tmp');
  });
});

describe('ciphers', () => {
  it('prefers AES-GCM only when asked (the CPU has AES instructions)', () => {
    expect(settings(renderSshConfig(target, files), 'Ciphers')).toEqual([]);
    const [ciphers] = settings(renderSshConfig(target, files, { aesFirst: true }), 'Ciphers');
    expect(ciphers?.split(',').slice(0, 3)).toEqual([
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
    ]);
  });

  it('reads hardware AES from /proc/cpuinfo on x86 and arm64', () => {
    expect(cpuHasAes('processor\t: 0\nflags\t\t: fpu sse2 aes avx2\n')).toBe(true);
    expect(cpuHasAes('Features\t: fp asimd aes pmull sha1\n')).toBe(true);
    expect(cpuHasAes('flags\t\t: fpu sse2 avx2 vaes-not\n')).toBe(false);
    expect(cpuHasAes('')).toBe(false);
  });
});

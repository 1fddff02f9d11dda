// The ssh_config every session runs with (lib/ssh/config.ts).
import { describe, expect, it } from 'vitest';
import { sshInputError } from './inputs.js';
import { cpuHasAes, renderSshConfig, type SshConfigFiles } from './config.js';
import { checkTarget, type SshConfigTarget } from './target.js';

const target: SshConfigTarget = { host: '127.0.0.1', port: 2222, user: 'deploy', connectTimeoutSeconds: 20 };
const jumpTarget: SshConfigTarget = { ...target, jumpHost: { user: 'jump', host: '127.0.0.1', port: 2223 } };
const files: SshConfigFiles = {
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

/** The ssh_config for `t`, validated as a session does; failures name the shared inputs. */
function configFor(t: SshConfigTarget, f: SshConfigFiles, options?: { aesFirst?: boolean }): string {
  try {
    return renderSshConfig(checkTarget(t), f, options);
  } catch (error) {
    throw sshInputError(error);
  }
}

describe('renderSshConfig', () => {
  it('pins host keys and never relaxes the check', () => {
    const config = configFor(target, files);
    expect(settings(config, 'StrictHostKeyChecking')).toEqual(['yes']);
    expect(config).not.toMatch(/StrictHostKeyChecking\s+(no|accept-new|ask|off)/i);
    expect(settings(config, 'UserKnownHostsFile')).toEqual(['"/tmp/berth-ssh-x/known_hosts"']);
    expect(settings(config, 'GlobalKnownHostsFile')).toEqual(['/dev/null']);
    expect(settings(config, 'BatchMode')).toEqual(['yes']);
    expect(settings(config, 'UpdateHostKeys')).toEqual(['no']);
  });

  it('uses only our key and multiplexes over one master connection', () => {
    const config = configFor(target, files);
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
    const config = configFor(target, files);
    expect(config).not.toMatch(/^\s*(SendEnv|SetEnv|ProxyJump|ProxyCommand|LocalCommand)\b/im);
    expect(settings(config, 'HostName')).toEqual(['127.0.0.1']);
    expect(settings(config, 'Port')).toEqual(['2222']);
    expect(settings(config, 'User')).toEqual(['deploy']);
  });

  it('jumps through the jump host, which gets the same security settings but no master of its own', () => {
    const config = configFor(jumpTarget, files);
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
    expect(() => configFor({ ...target, host: 'x\n  ProxyCommand touch /tmp/pwned' }, files)).toThrow(
      /^Input "host": /,
    );
    expect(() => configFor({ ...target, user: 'root\nHost *' }, files)).toThrow(/^Input "user": /);
    expect(() => configFor({ ...target, port: 0 }, files)).toThrow(/^Input "port": /);
    expect(() => configFor({ ...target, jumpHost: { user: 'jump', host: 'a b', port: 22 } }, files)).toThrow(
      /^Input "jump-host": /,
    );
    expect(() => configFor({ ...target, connectTimeoutSeconds: 0.5 }, files)).toThrow(
      /^Input "connect-timeout": /,
    );
    expect(() => configFor(target, { ...files, identityFile: '/tmp/a"b/id' })).toThrow(/ssh_config/);
    expect(() => configFor(target, { ...files, controlDir: '/tmp/100%' })).toThrow(/ssh_config/);
  });

  it('quotes paths with spaces', () => {
    const config = configFor(target, { ...files, identityFile: '/tmp/runner temp/id' });
    expect(settings(config, 'IdentityFile')).toEqual(['"/tmp/runner temp/id"']);
  });
});

describe('ciphers', () => {
  it('prefers AES-GCM only when asked (the CPU has AES instructions)', () => {
    expect(settings(configFor(target, files), 'Ciphers')).toEqual([]);
    const [ciphers] = settings(configFor(target, files, { aesFirst: true }), 'Ciphers');
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

import { afterEach, describe, expect, it, vi } from 'vitest';
import { getSshInputs, sshLabel, sshTarget } from './inputs.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\r\nabc\r\n-----END OPENSSH PRIVATE KEY-----\r\n';

function inputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) vi.stubEnv(`INPUT_${name.toUpperCase()}`, value);
}

afterEach(() => vi.unstubAllEnvs());

describe('getSshInputs', () => {
  it('reads the shared connection inputs, normalised', () => {
    inputs({
      host: 'Example.COM',
      user: 'deploy',
      'ssh-key': KEY,
      'known-hosts': 'example.com ssh-ed25519 AAAA',
      'jump-host': 'jump@bastion:2222',
      'connect-timeout': '1m',
    });
    const ssh = getSshInputs();
    expect(ssh).toEqual({
      host: 'example.com',
      port: 22,
      user: 'deploy',
      'ssh-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n',
      'known-hosts': 'example.com ssh-ed25519 AAAA',
      'jump-host': { user: 'jump', host: 'bastion', port: 2222 },
      'connect-timeout': 60,
    });
    expect(sshLabel(ssh)).toBe('deploy@example.com:22');
    expect(sshTarget(ssh, { host: 'backup.example.com', jumpHost: undefined })).toMatchObject({
      host: 'backup.example.com',
      user: 'deploy',
      privateKey: ssh['ssh-key'],
      jumpHost: undefined,
      connectTimeoutSeconds: 60,
    });
  });

  it('names the input that is wrong', () => {
    inputs({ host: 'a b', user: 'deploy', 'ssh-key': KEY, 'known-hosts': 'x' });
    expect(() => getSshInputs()).toThrow(/^Input "host": /);
    inputs({ host: 'h', port: '70000' });
    expect(() => getSshInputs()).toThrow(/^Input "port": /);
  });
});

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseSigningKey,
  parseSigningPublicKey,
  signatureProblem,
  signingPublicKey,
  signMessage,
} from './signature.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-sig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keygen = (...args: string[]) =>
  execFileSync('ssh-keygen', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
/** An ssh-keygen key pair in `name` / `name.pub`. */
function sshKey(name: string, ...options: string[]): { key: string; pub: string } {
  keygen('-q', '-f', join(dir, name), '-C', 'ci@example', ...options);
  return {
    key: readFileSync(join(dir, name), 'utf8'),
    pub: readFileSync(join(dir, `${name}.pub`), 'utf8'),
  };
}
const main = sshKey('main', '-t', 'ed25519', '-N', '');
const manifest = '{"format":"berth-backup/1","id":"20261122T050102Z-3fa1"}\n';

describe('signing keys', () => {
  it('reads the OpenSSH key ssh-keygen writes, and its public line', () => {
    const key = parseSigningKey('signing-key', main.key);
    const pub = parseSigningPublicKey('signing-public-key', main.pub);
    expect(signingPublicKey(key).raw.equals(pub.raw)).toBe(true);
    expect(pub.line).toBe(main.pub.trim());
  });

  it('reads a PKCS8 PEM Ed25519 key', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    const key = parseSigningKey('signing-key', pem.toString());
    expect(signatureProblem(signingPublicKey(key), 'x', signMessage(key, 'x'))).toBeUndefined();
  });

  it('refuses an encrypted key, another type and garbage, naming the input and hiding the content', () => {
    const encrypted = sshKey('enc', '-t', 'ed25519', '-N', 'secret-pass');
    const rsa = sshKey('rsa', '-t', 'rsa', '-b', '2048', '-N', '');
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const cases: [string, RegExp][] = [
      [encrypted.key, /encrypted with a passphrase/],
      [rsa.key, /ssh-rsa key, not Ed25519/],
      [rsaPem.toString(), /a rsa key/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', /not readable/],
      ['hello', /neither OpenSSH nor PKCS8/],
    ];
    for (const [text, reason] of cases) {
      let message = '';
      try {
        parseSigningKey('signing-key', text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Input "signing-key": /);
      expect(message).toMatch(reason);
      expect(message).toContain('ssh-keygen -t ed25519');
      for (const line of text.split('\n').filter((l) => l.length > 20)) expect(message).not.toContain(line);
    }
  });

  it('refuses public lines that are not a 32-byte Ed25519 key', () => {
    const rsa = readFileSync(join(dir, 'rsa.pub'), 'utf8');
    const short = `ssh-ed25519 ${Buffer.concat([Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x10'), Buffer.alloc(16)]).toString('base64')}`;
    for (const text of [rsa, short, 'ssh-ed25519 AAAA', 'hello'])
      expect(() => parseSigningPublicKey('signing-public-key', text)).toThrow(
        /^Input "signing-public-key": /,
      );
  });
});

describe('SSHSIG signatures', () => {
  const key = parseSigningKey('signing-key', main.key);
  const pub = parseSigningPublicKey('signing-public-key', main.pub);

  it('signs what ssh-keygen -Y check-novalidate accepts', () => {
    writeFileSync(join(dir, 'm.json'), manifest);
    writeFileSync(join(dir, 'm.json.sig'), signMessage(key, manifest));
    const out = execFileSync(
      'ssh-keygen',
      ['-Y', 'check-novalidate', '-n', 'berth-backup', '-s', 'm.json.sig'],
      { cwd: dir, input: manifest, encoding: 'utf8' },
    );
    expect(out).toMatch(/Good "berth-backup" signature/);
    // The way the README checks one by hand: against the public key.
    writeFileSync(join(dir, 'allowed'), `berth-backup ${main.pub}`);
    const verified = execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', 'allowed', '-I', 'berth-backup', '-n', 'berth-backup', '-s', 'm.json.sig'],
      { cwd: dir, input: manifest, encoding: 'utf8' },
    );
    expect(verified).toMatch(/Good "berth-backup" signature for berth-backup/);
    // ...and refuses it for other content or another namespace.
    expect(() =>
      execFileSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'berth-backup', '-s', 'm.json.sig'], {
        cwd: dir,
        input: manifest + ' ',
        stdio: 'pipe',
      }),
    ).toThrow();
    expect(() =>
      execFileSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'other', '-s', 'm.json.sig'], {
        cwd: dir,
        input: manifest,
        stdio: 'pipe',
      }),
    ).toThrow();
  });

  it('verifies what ssh-keygen -Y sign makes, and nothing else', () => {
    writeFileSync(join(dir, 'k.json'), manifest);
    keygen('-Y', 'sign', '-f', 'main', '-n', 'berth-backup', 'k.json');
    const armored = readFileSync(join(dir, 'k.json.sig'), 'utf8');
    expect(signatureProblem(pub, manifest, armored)).toBeUndefined();
    expect(signatureProblem(pub, manifest + ' ', armored)).toMatch(/does not match the manifest/);
    rmSync(join(dir, 'k.json.sig'));
    keygen('-Y', 'sign', '-f', 'main', '-n', 'other', 'k.json');
    expect(signatureProblem(pub, manifest, readFileSync(join(dir, 'k.json.sig'), 'utf8'))).toMatch(
      /not in namespace berth-backup/,
    );
    const other = sshKey('other', '-t', 'ed25519', '-N', '');
    const forged = signMessage(parseSigningKey('k', other.key), manifest);
    expect(signatureProblem(pub, manifest, forged)).toMatch(/another key/);
    expect(signatureProblem(pub, manifest, 'hello')).toMatch(/not an armored SSH signature/);
    const damaged = armored.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(signatureProblem(pub, manifest, damaged)).toBeDefined();
  });
});

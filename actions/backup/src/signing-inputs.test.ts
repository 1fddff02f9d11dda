import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkEncryption, checkSigning } from './signing-inputs.js';
import { signingPublicKey } from './signature.js';

const key = generateKeyPairSync('ed25519').privateKey;
const otherPublic = signingPublicKey(generateKeyPairSync('ed25519').privateKey);

describe('checkSigning', () => {
  it('backup needs signing-key, with the command that makes one, unless allow-unsigned', () => {
    expect(() => checkSigning('backup', undefined, undefined, false)).toThrow(
      /^Input "signing-key": is required .*`ssh-keygen -t ed25519 -N '' -C berth-backup -f berth-backup`.*allow-unsigned: true$/,
    );
    expect(checkSigning('backup', undefined, undefined, true)).toBeUndefined();
    expect(checkSigning('backup', key, undefined, false)?.raw).toEqual(signingPublicKey(key).raw);
  });
  it.each(['restore', 'verify'] as const)(
    '%s needs the public key, or derives it from signing-key',
    (mode) => {
      expect(() => checkSigning(mode, undefined, undefined, false)).toThrow(
        /^Input "signing-public-key": is required/,
      );
      expect(checkSigning(mode, key, undefined, false)?.line).toBe(signingPublicKey(key).line);
      expect(checkSigning(mode, undefined, otherPublic, false)).toBe(otherPublic);
      expect(checkSigning(mode, undefined, undefined, true)).toBeUndefined();
    },
  );
  it('refuses a public key that is not signing-key’s', () => {
    expect(() => checkSigning('verify', key, otherPublic, false)).toThrow(
      /^Input "signing-public-key": is not the public key of signing-key$/,
    );
  });
});

describe('checkEncryption', () => {
  const base = { mode: 'backup' as const, recipients: [], allowUnencrypted: false };
  it.each([
    [['artifact'], /artifact destinations/],
    [['host', 'ssh'], /ssh:\/\/ destinations/],
  ])('refuses %j without recipients, naming encryption-recipients', (kinds, what) => {
    expect(() => checkEncryption({ ...base, kinds })).toThrow(
      /^Input "encryption-recipients": is required for /,
    );
    expect(() => checkEncryption({ ...base, kinds })).toThrow(what);
    expect(() => checkEncryption({ ...base, kinds, allowUnencrypted: true })).not.toThrow();
    expect(() => checkEncryption({ ...base, kinds, recipients: ['age1x'] })).not.toThrow();
    expect(() => checkEncryption({ ...base, kinds, mode: 'restore' })).not.toThrow();
  });
  it('keeps host: without recipients (a warning at backup time)', () => {
    expect(() => checkEncryption({ ...base, kinds: ['host'] })).not.toThrow();
  });
});

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { Digest, decryptStream, encryptStream, WrongKeyError } from './crypto.js';

describe('age streams', () => {
  it('round-trips 3 MB and hashes what is stored', async () => {
    const identity = await generateIdentity();
    const plain = randomBytes(3_000_000);
    const digest = new Digest();
    const stored = await buffer(
      (await encryptStream(Readable.from([plain]), [await identityToRecipient(identity)])).pipe(digest),
    );
    expect(digest.bytes).toBe(stored.length);
    expect(digest.sha256()).toMatch(/^[0-9a-f]{64}$/);
    const back = await buffer(await decryptStream(Readable.from([stored]), identity));
    expect(back.equals(plain)).toBe(true);
  });

  it('refuses a wrong key before any output, and errors on a truncated archive', async () => {
    const identity = await generateIdentity();
    const other = await generateIdentity();
    const stored = await buffer(
      await encryptStream(Readable.from([randomBytes(200_000)]), [await identityToRecipient(identity)]),
    );
    await expect(decryptStream(Readable.from([stored]), other)).rejects.toBeInstanceOf(WrongKeyError);
    const truncated = stored.subarray(0, stored.length - 1000);
    await expect(buffer(await decryptStream(Readable.from([truncated]), identity))).rejects.toThrow();
  });
});

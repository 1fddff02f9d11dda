import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { decryptStream, encryptStream, WrongKeyError } from './crypto.js';
import { Digest } from './digest.js';

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

describe('age compatibility (header by age-encryption, payload by node:crypto)', () => {
  const sizes = [0, 1, 65_535, 65_536, 65_537, 131_072, 200_000];

  it.each(sizes)(
    '%i bytes: what we encrypt, age-encryption decrypts, and the other way round',
    async (size) => {
      const identity = await generateIdentity();
      const recipient = await identityToRecipient(identity);
      const plain = randomBytes(size);
      // Ours -> theirs, fed in odd-sized pieces.
      const pieces = [];
      for (let i = 0; i < size; i += 7_777) pieces.push(plain.subarray(i, i + 7_777));
      const ours = await buffer(await encryptStream(Readable.from(pieces), [recipient]));
      const decrypter = new Decrypter();
      decrypter.addIdentity(identity);
      expect(Buffer.from(await decrypter.decrypt(ours)).equals(plain)).toBe(true);
      // Theirs -> ours, fed one byte at a time around the header.
      const encrypter = new Encrypter();
      encrypter.addRecipient(recipient);
      const theirs = Buffer.from(await encrypter.encrypt(plain));
      const split = [theirs.subarray(0, 50), theirs.subarray(50, 51), theirs.subarray(51)];
      const back = await buffer(await decryptStream(Readable.from(split), identity));
      expect(back.equals(plain)).toBe(true);
      // Ours back through ours, in pieces that cut chunks and their tags anywhere.
      for (const step of [7_777, 65_551, 5]) {
        const cut = [];
        for (let i = 0; i < ours.length; i += step) cut.push(ours.subarray(i, i + step));
        expect((await buffer(await decryptStream(Readable.from(cut), identity))).equals(plain)).toBe(true);
      }
    },
  );

  it('encrypts to every recipient', async () => {
    const [a, b] = [await generateIdentity(), await generateIdentity()];
    const stored = await buffer(
      await encryptStream(Readable.from([Buffer.from('x')]), [
        await identityToRecipient(a),
        await identityToRecipient(b),
      ]),
    );
    for (const identity of [a, b]) {
      expect((await buffer(await decryptStream(Readable.from([stored]), identity))).toString()).toBe('x');
    }
  });

  it('refuses a dropped final chunk, a flipped byte and a chunk boundary cut', async () => {
    const identity = await generateIdentity();
    const plain = randomBytes(3 * 65_536);
    const stored = await buffer(
      await encryptStream(Readable.from([plain]), [await identityToRecipient(identity)]),
    );
    const open = async (data: Buffer) => buffer(await decryptStream(Readable.from([data]), identity));
    // Exactly the last chunk (65536 + 16 bytes) cut off: the one before is not marked last.
    await expect(open(stored.subarray(0, stored.length - 65_552))).rejects.toThrow(/truncated or altered/);
    const flipped = Buffer.from(stored);
    flipped[flipped.length - 70_000] = flipped[flipped.length - 70_000]! ^ 1;
    await expect(open(flipped)).rejects.toThrow(/fails authentication/);
    await expect(open(stored.subarray(0, 40))).rejects.toThrow(/truncated in its header/);
  });
});

describe('age compatibility with the reference age CLI', () => {
  const hasAge = spawnSync('age', ['--version']).status === 0;

  it.skipIf(!hasAge)('`age -d` opens what we write, and we open what `age -r` writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-age-cli-'));
    try {
      const identity = await generateIdentity();
      const recipient = await identityToRecipient(identity);
      writeFileSync(join(dir, 'key.txt'), `${identity}\n`, { mode: 0o600 });
      const plain = randomBytes(300_000);
      const ours = await buffer(await encryptStream(Readable.from([plain]), [recipient]));
      const opened = execFileSync('age', ['-d', '-i', join(dir, 'key.txt')], { input: ours });
      expect(opened.equals(plain)).toBe(true);
      const theirs = execFileSync('age', ['-r', recipient], { input: plain });
      expect((await buffer(await decryptStream(Readable.from([theirs]), identity))).equals(plain)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

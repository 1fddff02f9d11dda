// Streams the runner puts between the hosts: sha256 and byte counts of what passes, and age
// encryption/decryption (age-encryption, the TypeScript implementation of age) as data flows.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';

/** A pass-through that hashes and counts what goes through it. */
export class Digest extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private hex: string | undefined;

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** The sha256 (hex) of everything that went through; call once the stream has ended. */
  sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

type WebBytes = WebReadableStream<Uint8Array>;
const toWeb = (source: Readable): WebBytes => Readable.toWeb(source) as unknown as WebBytes;
const fromWeb = (stream: unknown): Readable => Readable.fromWeb(stream as WebBytes);

/** `source` encrypted to every recipient, as age's binary format. */
export async function encryptStream(source: Readable, recipients: readonly string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return fromWeb(await encrypter.encrypt(toWeb(source) as unknown as ReadableStream<Uint8Array>));
}

/** Thrown when no identity of `decryption-key` opens an archive. */
export class WrongKeyError extends Error {}

/**
 * `source` decrypted with the identities (AGE-SECRET-KEY-1... lines). A wrong key fails at once, before
 * any plaintext flows; a truncated or altered ciphertext makes the returned stream error.
 */
export async function decryptStream(source: Readable, identities: string): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const line of identities.split('\n').map((l) => l.trim())) {
    if (line && !line.startsWith('#')) decrypter.addIdentity(line);
  }
  try {
    return fromWeb(await decrypter.decrypt(toWeb(source) as unknown as ReadableStream<Uint8Array>));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/no identity matched|identity/i.test(message)) throw new WrongKeyError(message);
    throw error;
  }
}

/** The public recipient of an identity, for messages and tests. */
export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

// age encryption and decryption of the streams the runner puts between the hosts, as data flows.
//
// age's header (recipient stanzas, the file key's wrapping and unwrapping, the header MAC) is made
// and checked by age-encryption, the TypeScript implementation of age, through its public API: the
// Recipient interface (a recipient that takes part in encrypt() sees the file key) and
// Decrypter.decryptHeader() ("for delegated decryption logic"). The payload, age's STREAM of
// ChaCha20-Poly1305 chunks (64 KiB each, nonce = 11-byte counter || last-chunk flag, key =
// HKDF-SHA-256(file key, 16-byte nonce, "payload")), is encrypted and decrypted with node:crypto
// (OpenSSL), which is many times faster than the pure-JS cipher age-encryption uses for it. The
// output is ordinary age (crypto.test.ts checks it both ways against age-encryption's own
// encrypt/decrypt).
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { Decrypter, Encrypter, type Recipient } from 'age-encryption';

const CHUNK = 64 * 1024;
const TAG = 16;
const NONCE = 16;
/** Headers with post-quantum stanzas are a few KiB; anything this long is not an age header. */
const MAX_HEADER = 1024 * 1024;

// A KeyObject, not a Buffer: a cipher is made per 64 KiB chunk, and from a Buffer that costs
// several times more (16,384 of them per GiB).
const payloadKey = (fileKey: Uint8Array, nonce: Uint8Array): KeyObject =>
  createSecretKey(Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32)));

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6); // 11-byte big-endian counter (2^48 chunks is plenty)
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Collects bytes and hands out the front of them, as the parts they arrived in (no copy). */
class Pending {
  private parts: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer[] {
    const front: Buffer[] = [];
    let wanted = n;
    while (wanted > 0) {
      const part = this.parts[0]!;
      if (part.length <= wanted) {
        front.push(part);
        this.parts.shift();
        wanted -= part.length;
      } else {
        front.push(part.subarray(0, wanted));
        this.parts[0] = part.subarray(wanted);
        wanted = 0;
      }
    }
    this.length -= n;
    return front;
  }
}

/** The last `n` bytes of `parts` split off: [the rest, those n bytes]. */
function splitTail(parts: Buffer[], n: number): [Buffer[], Buffer] {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const keep = Math.max(total - n, 0);
  const head: Buffer[] = [];
  const tail: Buffer[] = [];
  let seen = 0;
  for (const p of parts) {
    const cut = Math.min(Math.max(keep - seen, 0), p.length);
    if (cut > 0) head.push(p.subarray(0, cut));
    if (cut < p.length) tail.push(p.subarray(cut));
    seen += p.length;
  }
  return [head, tail.length === 1 ? tail[0]! : Buffer.concat(tail)];
}

/**
 * Cuts a stream into age's STREAM units; a unit is handled as non-final only once more data follows
 * it. Units are passed on as the parts they arrived in and pushed out in pieces: the ciphers take
 * data in several updates, so nothing is copied just to be contiguous.
 */
abstract class StreamChunks extends Transform {
  private readonly pending = new Pending();
  protected counter = 0;

  constructor(
    protected readonly key: KeyObject,
    private readonly unit: number,
  ) {
    // Larger buffers than the 64 KiB default: fewer pauses between the ssh pipes and the cipher.
    super({ highWaterMark: 1024 * 1024 });
  }

  /** One unit (the last one with `last`), transformed; its output pushed. */
  protected abstract chunk(data: Buffer[], last: boolean): void;

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(data);
    try {
      while (this.pending.length > this.unit) this.chunk(this.pending.take(this.unit), false);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.chunk(this.pending.take(this.pending.length), true);
      done();
    } catch (error) {
      done(error as Error);
    }
  }
}

/** age's STREAM encryption of the payload. */
class PayloadEncrypt extends StreamChunks {
  constructor(key: KeyObject) {
    super(key, CHUNK);
  }

  protected chunk(plain: Buffer[], last: boolean): void {
    const cipher = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter++, last), {
      authTagLength: TAG,
    });
    for (const part of plain) this.push(cipher.update(part));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
}

/** age's STREAM decryption; every chunk is authenticated, and a missing final chunk is an error. */
class PayloadDecrypt extends StreamChunks {
  constructor(key: KeyObject) {
    super(key, CHUNK + TAG);
  }

  protected chunk(sealedParts: Buffer[], last: boolean): void {
    const [sealed, tag] = splitTail(sealedParts, TAG);
    if (tag.length < TAG) throw new Error('the age payload is truncated');
    const decipher = createDecipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter, last), {
      authTagLength: TAG,
    });
    decipher.setAuthTag(tag);
    // Held back until the tag is checked: no unauthenticated byte leaves.
    const plain = sealed.map((part) => decipher.update(part));
    try {
      decipher.final();
    } catch {
      throw new Error(
        last
          ? `age payload chunk ${this.counter} (the last) fails authentication: the archive is truncated or altered`
          : `age payload chunk ${this.counter} fails authentication: the archive is altered`,
      );
    }
    this.counter += 1;
    const bytes = plain.reduce((sum, p) => sum + p.length, 0);
    if (last && bytes === 0 && this.counter > 1) throw new Error('the age payload ends with an empty chunk');
    for (const p of plain) this.push(p);
  }
}

/** `source` encrypted to every recipient, as age's binary format. */
export async function encryptStream(source: Readable, recipients: readonly string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  // Takes part in the encryption to learn the file key; adds no stanza of its own.
  let fileKey: Uint8Array | undefined;
  const keyTap: Recipient = {
    wrapFileKey: (key) => {
      fileKey = key;
      return [];
    },
  };
  encrypter.addRecipient(keyTap);
  // An empty file: header || payload nonce || the sealed empty final chunk (16 bytes).
  const empty = Buffer.from(await encrypter.encrypt(new Uint8Array(0)));
  const prefix = empty.subarray(0, empty.length - TAG);
  const nonce = prefix.subarray(prefix.length - NONCE);
  if (!fileKey) throw new Error('age-encryption did not wrap a file key');
  const payload = new PayloadEncrypt(payloadKey(fileKey, nonce));
  payload.push(prefix);
  source.on('error', (error) => payload.destroy(error));
  return source.pipe(payload);
}

/** The identity lines of an age key file (as age-keygen writes it: `#` comments, blank lines ignored). */
export function identityLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Thrown when no identity of `decryption-key` opens an archive. */
export class WrongKeyError extends Error {}

/** Where the header ends (after the `--- <MAC>` line), or -1 if not yet in `data`. */
function headerEnd(data: Buffer): number {
  const mac = data.indexOf('\n--- ');
  if (mac < 0) return -1;
  const eol = data.indexOf('\n', mac + 1);
  return eol < 0 ? -1 : eol + 1;
}

/** Reads the header and the payload nonce off `source`; the rest is handed back, the source paused. */
function readHeader(source: Readable): Promise<{ header: Buffer; nonce: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let data: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      const end = headerEnd(data);
      if (end >= 0 && data.length >= end + NONCE) {
        cleanup();
        source.pause();
        resolve({
          header: data.subarray(0, end),
          nonce: data.subarray(end, end + NONCE),
          rest: data.subarray(end + NONCE),
        });
      } else if (data.length > MAX_HEADER) {
        cleanup();
        reject(new Error('not an age file: no header end in its first MiB'));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('the age file is truncated in its header'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
  });
}

/**
 * `source` decrypted with the identities (AGE-SECRET-KEY-1... lines). A wrong key fails at once, before
 * any plaintext flows; a truncated or altered ciphertext makes the returned stream error.
 */
export async function decryptStream(source: Readable, identities: string): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const line of identityLines(identities)) decrypter.addIdentity(line);
  const { header, nonce, rest } = await readHeader(source);
  if (!header.subarray(0, 22).equals(Buffer.from('age-encryption.org/v1\n')))
    throw new Error('not an age file (binary age-encryption.org/v1 expected)');
  let fileKey: Uint8Array;
  try {
    fileKey = await decrypter.decryptHeader(header);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/no identity matched/i.test(message)) throw new WrongKeyError(message);
    throw error;
  }
  const payload = new PayloadDecrypt(payloadKey(fileKey, nonce));
  if (rest.length > 0) payload.write(rest);
  source.on('error', (error) => payload.destroy(error));
  return source.pipe(payload);
}

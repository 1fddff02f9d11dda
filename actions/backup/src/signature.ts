// Signed manifests: an Ed25519 key that no destination holds signs each manifest.json as a detached
// SSHSIG signature (what `ssh-keygen -Y sign -n berth-backup` writes), so anyone with write access to
// a destination can put files there but cannot make Berth restore them. The key formats are parsed
// here (OpenSSH's own unencrypted format, PKCS8 PEM) and the signature is made and checked with
// node:crypto, so the runner needs no ssh-keygen.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { inputError } from '../../../lib/action/inputs.js';

/** The SSHSIG namespace: a Berth signature cannot be replayed as a signature of something else. */
export const SIGNATURE_NAMESPACE = 'berth-backup';
/** The detached signature of manifest.json, written before it. */
export const SIGNATURE_FILE = 'manifest.json.sig';

const MAGIC = Buffer.from('SSHSIG');
const KEY_TYPE = 'ssh-ed25519';
const HASH = 'sha512';
const ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';
/** DER prefixes of an Ed25519 PKCS8 private key and SPKI public key, before the 32 key bytes. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The public half, as the 32 raw bytes and as its `ssh-ed25519 AAAA...` line. */
export interface SigningPublicKey {
  key: KeyObject;
  raw: Buffer;
  line: string;
}

/** Reads SSH wire format (RFC 4251 strings and uint32s); throws when the data ends early. */
class Wire {
  private at = 0;
  constructor(private readonly data: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.data.length) throw new Error('truncated');
    const n = this.data.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }
  bytes(n: number): Buffer {
    if (this.at + n > this.data.length) throw new Error('truncated');
    const out = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString('latin1');
  }
  get done(): boolean {
    return this.at === this.data.length;
  }
}

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

const publicBlob = (raw: Buffer): Buffer => Buffer.concat([sshString(KEY_TYPE), sshString(raw)]);

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX.length);
}

function publicKeyOf(raw: Buffer, comment = ''): SigningPublicKey {
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  const line = `${KEY_TYPE} ${publicBlob(raw).toString('base64')}${comment ? ` ${comment}` : ''}`;
  return { key, raw, line };
}

/** The 32-byte seed of an unencrypted openssh-key-v1 Ed25519 key; a reason string otherwise. */
function openSshSeed(body: Buffer): Buffer | string {
  const w = new Wire(body);
  if (!w.bytes(15).equals(Buffer.from('openssh-key-v1\0'))) return 'is not an openssh-key-v1 key';
  const cipher = w.text();
  w.string(); // kdf name
  w.string(); // kdf options
  if (cipher !== 'none') return 'is encrypted with a passphrase (make one with -N "")';
  if (w.uint32() !== 1) return 'holds more than one key';
  w.string(); // public key
  const priv = new Wire(w.string());
  if (priv.uint32() !== priv.uint32()) return 'is damaged (check bytes differ)';
  const type = priv.text();
  if (type !== KEY_TYPE) return `is a ${type.slice(0, 40)} key, not Ed25519`;
  const pub = priv.string();
  const secret = priv.string();
  if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub))
    return 'is damaged (not an Ed25519 key pair)';
  return Buffer.from(secret.subarray(0, 32));
}

/** Why `text` is not a usable key, or the key. */
function readPrivateKey(text: string): KeyObject | string {
  const trimmed = text.trim();
  const openssh = /^-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*)-----END OPENSSH PRIVATE KEY-----$/.exec(
    trimmed,
  );
  if (openssh) {
    const seed = openSshSeed(Buffer.from(openssh[1]!.replace(/\s+/g, ''), 'base64'));
    if (typeof seed === 'string') return `an OpenSSH key that ${seed}`;
    return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }
  if (/^-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(trimmed)) return 'an encrypted PKCS8 key';
  if (!/^-----BEGIN PRIVATE KEY-----/.test(trimmed)) return 'neither OpenSSH nor PKCS8 PEM';
  const key = createPrivateKey({ key: trimmed, format: 'pem' });
  return key.asymmetricKeyType === 'ed25519' ? key : `a ${key.asymmetricKeyType ?? 'unknown'} key`;
}

/** `signing-key`'s text as a private key; errors name `input`, never show the content. */
export function parseSigningKey(input: string, text: string): KeyObject {
  let key: KeyObject | string;
  try {
    key = readPrivateKey(text);
  } catch {
    key = 'not readable';
  }
  if (typeof key === 'string') {
    throw inputError(
      input,
      `is ${key}; an unencrypted Ed25519 key is needed, as \`ssh-keygen -t ed25519 -N '' -f berth-backup\` writes (content not shown)`,
    );
  }
  return key;
}

/** The public key of a signing key. */
export function signingPublicKey(key: KeyObject): SigningPublicKey {
  return publicKeyOf(rawPublicKey(createPublicKey(key)));
}

/** `signing-public-key`: an `ssh-ed25519 AAAA... [comment]` line with a 32-byte key. */
export function parseSigningPublicKey(input: string, text: string): SigningPublicKey {
  const m = /^ssh-ed25519 ([A-Za-z0-9+/]+={0,2})(?: +(.*))?$/.exec(text.trim());
  const fail = (why: string) =>
    inputError(input, `${why}; the one line of the .pub file ssh-keygen -t ed25519 writes is needed`);
  if (!m) throw fail('is not an `ssh-ed25519 AAAA...` line');
  try {
    const w = new Wire(Buffer.from(m[1]!, 'base64'));
    const type = w.text();
    const raw = w.string();
    if (type !== KEY_TYPE || raw.length !== 32 || !w.done) throw new Error('not Ed25519');
    return publicKeyOf(Buffer.from(raw), m[2]?.trim());
  } catch {
    throw fail('does not hold a 32-byte Ed25519 key');
  }
}

/** What SSHSIG signs: the namespace and the message's hash. */
function signedData(message: Buffer | string): Buffer {
  const digest = createHash(HASH).update(message).digest();
  return Buffer.concat([
    MAGIC,
    sshString(SIGNATURE_NAMESPACE),
    sshString(''),
    sshString(HASH),
    sshString(digest),
  ]);
}

/** The armored SSHSIG signature of `message`, as `ssh-keygen -Y sign -n berth-backup` makes it. */
export function signMessage(key: KeyObject, message: Buffer | string): string {
  const raw = rawPublicKey(createPublicKey(key));
  const signature = sign(null, signedData(message), key);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    MAGIC,
    version,
    sshString(publicBlob(raw)),
    sshString(SIGNATURE_NAMESPACE),
    sshString(''),
    sshString(HASH),
    sshString(Buffer.concat([sshString(KEY_TYPE), sshString(signature)])),
  ]);
  const lines = blob.toString('base64').match(/.{1,70}/g)!;
  return `${ARMOR_BEGIN}\n${lines.join('\n')}\n${ARMOR_END}\n`;
}

/** Why `armored` is not a valid signature of `message` by `publicKey`, or undefined when it is. */
export function signatureProblem(
  publicKey: SigningPublicKey,
  message: Buffer | string,
  armored: string,
): string | undefined {
  const m = new RegExp(`^${ARMOR_BEGIN}([A-Za-z0-9+/=\\s]*)${ARMOR_END}$`).exec(armored.trim());
  if (!m) return 'the signature is not an armored SSH signature';
  try {
    const w = new Wire(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
    if (!w.bytes(6).equals(MAGIC) || w.uint32() !== 1) return 'the signature is not SSHSIG version 1';
    const signer = w.string();
    if (w.text() !== SIGNATURE_NAMESPACE) return `the signature is not in namespace ${SIGNATURE_NAMESPACE}`;
    w.string(); // reserved
    if (w.text() !== HASH) return `the signature does not use ${HASH}`;
    const sig = new Wire(w.string());
    if (sig.text() !== KEY_TYPE) return 'the signature is not Ed25519';
    const bytes = sig.string();
    if (!signer.equals(publicBlob(publicKey.raw)))
      return 'the signature is made by another key than signing-public-key';
    if (!verify(null, signedData(message), publicKey.key, bytes))
      return 'the signature does not match the manifest (it was changed after signing)';
    return undefined;
  } catch {
    return 'the signature is damaged';
  }
}

// Input `deploy-public-keys`: the key lines the deploy user will accept. Each must be a plain public
// key line (type, base64 key, optional comment) whose key really is of its type: no authorized_keys
// options (command=, from=, environment=) can be smuggled in front of it, nothing spans two lines.
// host/bootstrap.sh checks the same on the host (key_line_problem), for manual runs.
import { inputError } from '../../../../lib/action/inputs.js';

export const KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

const MIN_RSA_BITS = 2048;

/** The SSH wire format's strings (uint32 length, bytes), as many as the buffer holds whole. */
function wireStrings(buf: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) return undefined;
    const len = buf.readUInt32BE(at);
    if (at + 4 + len > buf.length) return undefined;
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Bits of an mpint (two's complement, big-endian, a leading 0 byte when the top bit is set). */
function mpintBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** Why `line` is not a plain public key line, or undefined when it is one. */
export function keyLineProblem(line: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(line)) return 'has a control character';
  const [type = '', blob = ''] = line.trim().split(/\s+/);
  if (!(KEY_TYPES as readonly string[]).includes(type))
    return `does not start with a key type (${KEY_TYPES.join(', ')}); options such as command= or from= are not accepted`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) return `has no base64 key after ${type}`;
  const fields = wireStrings(Buffer.from(blob, 'base64'));
  if (!fields || fields[0]?.toString('latin1') !== type)
    return `is not a ${type} key (its base64 holds another type)`;
  if (type === 'ssh-rsa') {
    const bits = fields.length === 3 ? mpintBits(fields[2]!) : 0;
    if (bits < MIN_RSA_BITS) return `is an RSA key of ${bits} bits (at least ${MIN_RSA_BITS})`;
  }
  if ((type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') && fields[1]?.length !== 32)
    return `is not a ${type} key (its key is not 32 bytes)`;
  return undefined;
}

/**
 * The key lines of `text` (blank and `#` lines skipped, whitespace trimmed, duplicates dropped); an
 * error naming `name` and the line for the first that is not a plain public key line, or when none.
 */
export function parseKeyLines(name: string, text: string): string[] {
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const problem = keyLineProblem(line);
    if (problem) throw inputError(name, `line ${i + 1} ${problem}`);
    if (!keys.includes(line)) keys.push(line);
  });
  if (keys.length === 0)
    throw inputError(name, 'has no key line: the deploy user needs at least one public key to log in with');
  return keys;
}

// The inputs that make backups authentic and private: `signing-key` / `signing-public-key` (signed
// manifests, signature.ts), `allow-unsigned`, and `allow-unencrypted` (off-host copies in the clear).
// Checked in getInputs, before any host is touched.
import type { KeyObject } from 'node:crypto';
import { getBooleanInput, getString, inputError } from '../../../lib/action/inputs.js';
import { maskSecret } from '../../../lib/action/secrets.js';
import { Inputs as I, type Mode } from './constants.js';
import {
  parseSigningKey,
  parseSigningPublicKey,
  signingPublicKey,
  type SigningPublicKey,
} from './signature.js';

/** The one-line command that makes a signing key pair, for the error that asks for one. */
export const KEYGEN_COMMAND = "ssh-keygen -t ed25519 -N '' -C berth-backup -f berth-backup";

export interface SigningInputs {
  /** signs the manifests of new backups */
  'signing-key'?: KeyObject;
  /** checks manifests (derived from `signing-key` when not given) */
  'signing-public-key'?: SigningPublicKey;
  'allow-unsigned': boolean;
  'allow-unencrypted': boolean;
}

/** The signing inputs of `mode`: backup needs the key, restore and verify the public key. */
export function checkSigning(
  mode: Mode,
  key: KeyObject | undefined,
  given: SigningPublicKey | undefined,
  allowUnsigned: boolean,
): SigningPublicKey | undefined {
  const derived = key && signingPublicKey(key);
  if (derived && given && !derived.raw.equals(given.raw))
    throw inputError(I.SigningPublicKey, `is not the public key of ${I.SigningKey}`);
  if (mode === 'backup' && !key && !allowUnsigned) {
    throw inputError(
      I.SigningKey,
      `is required to sign the backup's manifest (make a key pair with \`${KEYGEN_COMMAND}\`; keep the private key in a secret, off every destination), or set allow-unsigned: true`,
    );
  }
  const publicKey = given ?? derived;
  if (mode !== 'backup' && !publicKey && !allowUnsigned) {
    throw inputError(
      I.SigningPublicKey,
      `is required to check the manifest's signature (the \`ssh-ed25519 AAAA...\` line of ${I.SigningKey}), or set allow-unsigned: true to accept unsigned backups`,
    );
  }
  return publicKey;
}

export interface Unencrypted {
  mode: Mode;
  recipients: readonly string[];
  /** the destinations' kinds */
  kinds: readonly string[];
  allowUnencrypted: boolean;
}

/** A backup without recipients may stay on the app's host; a copy anywhere else must be encrypted. */
export function checkEncryption({ mode, recipients, kinds, allowUnencrypted }: Unencrypted): void {
  if (mode !== 'backup' || recipients.length > 0 || allowUnencrypted) return;
  const away = kinds.filter((k) => k === 'artifact' || k === 'ssh');
  if (away.length === 0) return;
  throw inputError(
    I.EncryptionRecipients,
    `is required for ${[...new Set(away)].map((k) => (k === 'ssh' ? 'ssh://' : k)).join(' and ')} destinations (anyone who can read them would read the data in the clear); set encryption-recipients, drop those destinations, or set allow-unencrypted: true`,
  );
}

export function getSigningInputs(mode: Mode): SigningInputs {
  const keyText = getString(I.SigningKey) || undefined;
  maskSecret(keyText);
  const key = keyText === undefined ? undefined : parseSigningKey(I.SigningKey, keyText);
  const publicText = getString(I.SigningPublicKey) || undefined;
  const given = publicText === undefined ? undefined : parseSigningPublicKey(I.SigningPublicKey, publicText);
  const allowUnsigned = getBooleanInput(I.AllowUnsigned, { default: false });
  return {
    'signing-key': key,
    'signing-public-key': checkSigning(mode, key, given, allowUnsigned),
    'allow-unsigned': allowUnsigned,
    'allow-unencrypted': getBooleanInput(I.AllowUnencrypted, { default: false }),
  };
}

// cosign, as Berth's actions use it: install it (cosign-install.ts), sign an image digest and attest a
// predicate for it (actions/build), and verify both before a deploy (actions/deploy), returning who built
// the image from the verified provenance. The private key is written to a 0600 file in a private
// temporary directory removed afterwards, its password reaches cosign's environment only
// (COSIGN_PASSWORD), both masked; cosign's output is untrusted and never echoed as it came.
import * as core from '@actions/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../action/exec.js';
import { maskSecret } from '../action/secrets.js';
import { oneLine } from '../action/untrusted.js';
import {
  attestArgs,
  PREDICATE_TYPES,
  pinnedRef,
  signArgs,
  verifyArgs,
  verifyAttestationArgs,
  type AttestationType,
  type SignerKey,
  type SignerPolicy,
} from './cosign-args.js';
import type { Cosign } from './cosign-install.js';
import { builtBy, parseAttestations, type BuiltBy } from './provenance.js';

export { installCosign, type Cosign, type CosignInstallOptions } from './cosign-install.js';
export type { AttestationType } from './cosign-args.js';
export type { BuiltBy } from './provenance.js';

export interface SignOptions {
  cosign: Cosign;
  /** a private key from `cosign generate-key-pair` and its password; none: keyless (the job's OIDC token) */
  key?: { privateKey: string; password?: string };
  /** upload to the transparency log (Rekor); default true */
  transparencyLog?: boolean;
  /** a DOCKER_CONFIG directory with the registry's login (docker-config.ts); default the runner's */
  dockerConfig?: string;
}

export interface VerifyPolicy {
  cosign: Cosign;
  /** who must have signed: a cosign public key (PEM), or a keyless certificate identity and its issuer */
  signer: { publicKey: string } | { identity: string; issuer: string };
  /** check the transparency log (Rekor); default true */
  transparencyLog?: boolean;
  /** the attestation that must be there, signed by the same signer; default slsaprovenance */
  attestation?: AttestationType;
  dockerConfig?: string;
}

export interface VerifiedImage {
  ref: string;
  /** the verified statement's predicate type */
  predicateType: string;
  builtBy: BuiltBy;
}

/** A failure of cosign's: what it means for the image, then cosign's own words on one line. */
export class CosignError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'CosignError';
  }
}

/** What cosign's stderr says went wrong, in Berth's words where it is a known case, as one line. */
export function cosignFailureReason(stderr: string, exitCode: number): string {
  const errors = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^Error:/.test(l));
  const said = errors.at(-1) ?? stderr.trim().split(/\r?\n/).at(-1) ?? '';
  const quoted =
    said === '' ? `exit code ${exitCode}` : oneLine(said.length > 400 ? `${said.slice(0, 400)}…` : said);
  const known: [RegExp, string][] = [
    [/no signatures found/i, 'it is not signed'],
    [/no matching signatures/i, 'no signature on it is by the expected signer'],
    [
      /none of the attestations matched the predicate type|no matching attestations/i,
      'it has no such attestation by the expected signer',
    ],
    [/MANIFEST_UNKNOWN|manifest unknown|NAME_UNKNOWN/i, 'the registry does not have it'],
    [/UNAUTHORIZED|DENIED|authentication required/i, 'the registry refused the credentials'],
  ];
  const meaning = known.find(([pattern]) => pattern.test(stderr))?.[1];
  return meaning ? `${meaning} (cosign: ${quoted})` : `cosign: ${quoted}`;
}

/** A private 0700 directory under RUNNER_TEMP for cosign's key files; removed by the caller. */
function privateDir(): string {
  return mkdtempSync(join(process.env['RUNNER_TEMP'] || tmpdir(), 'berth-cosign-'));
}

/** Runs cosign with `env` added to its environment only; its output is kept out of the log. */
async function cosign(
  c: Cosign,
  args: string[],
  what: string,
  env: Record<string, string | undefined> = {},
): Promise<string> {
  core.info(oneLine(`cosign ${args.join(' ')}`));
  const result = await run(c.path, args, { env, silent: true, ignoreReturnCode: true });
  if (result.exitCode !== 0) {
    const reason = cosignFailureReason(result.stderr, result.exitCode);
    throw new CosignError(`${what}: ${reason}`, reason);
  }
  return result.stdout;
}

/** Registry access for cosign: a docker config of the caller's, else the runner's. */
const registryEnv = (dockerConfig?: string): Record<string, string> =>
  dockerConfig ? { DOCKER_CONFIG: dockerConfig } : {};

/** Why keyless signatures cannot do without Rekor; the build's and deploy's input checks say it too. */
export const KEYLESS_NEEDS_TLOG =
  'keyless signing needs the transparency log (its short-lived certificate is checked there)';

/**
 * Keyless signing needs the job's OIDC token (cosign reads SIGSTORE_ID_TOKEN, or asks the runner at
 * ACTIONS_ID_TOKEN_REQUEST_URL): why it cannot happen here, or undefined.
 */
export function keylessProblem(env: NodeJS.ProcessEnv, transparencyLog: boolean): string | undefined {
  if (!transparencyLog) return `${KEYLESS_NEEDS_TLOG}: keep transparency-log true, or sign with a key`;
  if (env['SIGSTORE_ID_TOKEN']) return undefined;
  if (env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) return undefined;
  return "keyless signing needs the job's OIDC token: give the job `permissions: id-token: write` (or set a signing key)";
}

/** Runs `build(signerKey)` with the private key in a 0600 file (removed after), or keyless. */
async function withSigner<T>(
  o: SignOptions,
  use: (key: SignerKey, env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const env = registryEnv(o.dockerConfig);
  if (o.key === undefined) {
    const problem = keylessProblem(process.env, o.transparencyLog ?? true);
    if (problem) throw new Error(problem);
    return use({ keyless: true }, env);
  }
  maskSecret(o.key.privateKey);
  maskSecret(o.key.password);
  const dir = privateDir();
  try {
    const keyFile = join(dir, 'cosign.key');
    writeFileSync(keyFile, o.key.privateKey.endsWith('\n') ? o.key.privateKey : `${o.key.privateKey}\n`, {
      mode: 0o600,
    });
    // Always set: an empty password is cosign's for a key without one, never a prompt.
    return await use({ keyFile }, { ...env, COSIGN_PASSWORD: o.key.password ?? '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs the image digest `ref` (repo@sha256:...) and pushes the signature beside it. */
export async function signImage(ref: string, o: SignOptions): Promise<void> {
  pinnedRef(ref);
  await withSigner(o, (key, env) =>
    cosign(o.cosign, signArgs(ref, key, o.transparencyLog ?? true), `Signing ${ref} failed`, env),
  );
}

/** Attests `predicateFile` (e.g. BuildKit's provenance predicate) as `type` for the image digest `ref`. */
export async function attestImage(
  ref: string,
  predicateFile: string,
  type: AttestationType,
  o: SignOptions,
): Promise<void> {
  pinnedRef(ref);
  await withSigner(o, (key, env) =>
    cosign(
      o.cosign,
      attestArgs(ref, predicateFile, type, key, o.transparencyLog ?? true),
      `Attesting ${type} for ${ref} failed`,
      env,
    ),
  );
}

/**
 * Verifies the image digest `ref`: a signature by the policy's signer, and an attestation of the
 * required type by the same signer whose statement names this digest. Returns who built it, from that
 * attestation's predicate (validated; see provenance.ts). Throws a CosignError saying what is missing.
 */
export async function verifyImage(ref: string, policy: VerifyPolicy): Promise<VerifiedImage> {
  const image = pinnedRef(ref);
  const tlog = policy.transparencyLog ?? true;
  const type = policy.attestation ?? 'slsaprovenance';
  const env = registryEnv(policy.dockerConfig);
  const dir = privateDir();
  try {
    let signer: SignerPolicy;
    if ('publicKey' in policy.signer) {
      const keyFile = join(dir, 'cosign.pub');
      writeFileSync(keyFile, `${policy.signer.publicKey.trim()}\n`, { mode: 0o600 });
      signer = { kind: 'key', keyFile };
    } else {
      signer = { kind: 'keyless', ...policy.signer };
    }
    await cosign(policy.cosign, verifyArgs(ref, signer, tlog), 'signature check', env);
    const stdout = await cosign(
      policy.cosign,
      verifyAttestationArgs(ref, type, signer, tlog),
      `${type} attestation check`,
      env,
    );
    const predicateType = PREDICATE_TYPES[type];
    const statement = parseAttestations(stdout).find(
      (s) => s.predicateType === predicateType && s.subjectDigests.includes(image.digest),
    );
    if (statement === undefined) {
      const reason = `no verified ${type} statement names ${image.digest}`;
      throw new CosignError(`${type} attestation check: ${reason}`, reason);
    }
    return { ref, predicateType, builtBy: builtBy(statement.predicate) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

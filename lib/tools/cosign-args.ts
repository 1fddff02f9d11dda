// cosign's command lines, built by pure functions: sign (with a key file, or keyless with the runner's
// OIDC token), attest a predicate, verify a signature and verify an attestation, with the transparency
// log on (Rekor, the default) or off, and plain-HTTP access for a registry on this machine only.
// Every value goes in `--flag=value` form and the image after `--`, so nothing is read as an option.
import { parseImageRef } from './docker.js';

/** The attestation types Berth signs and verifies, as cosign's `--type` names them. */
export const ATTESTATION_TYPES = ['slsaprovenance', 'slsaprovenance1', 'cyclonedx', 'spdxjson'] as const;
export type AttestationType = (typeof ATTESTATION_TYPES)[number];

/** The in-toto predicateType each `--type` stands for (what a verified statement must carry). */
export const PREDICATE_TYPES: Readonly<Record<AttestationType, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  spdxjson: 'https://spdx.dev/Document',
};

/** Who must have signed: the holder of a key pair, or (keyless) a certificate identity and its issuer. */
export type SignerPolicy =
  | { kind: 'key'; /** the public key's file */ keyFile: string }
  | { kind: 'keyless'; identity: string; issuer: string };

/** How a signature is made: with the private key's file, or keyless (no file). */
export type SignerKey = { keyFile: string } | { keyless: true };

/**
 * Whether `registry` (host[:port]) is this machine: the only registries cosign may reach over plain
 * HTTP and without checking TLS (`--allow-http-registry --allow-insecure-registry`), as the engine
 * itself trusts localhost registries. Everything else is HTTPS with a verified certificate.
 */
export function isLocalRegistry(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The image reference cosign gets: `repo@sha256:...` only (a tag can move between sign and verify). */
export function pinnedRef(ref: string): { ref: string; registry: string; digest: string } {
  const parsed = parseImageRef(ref);
  if (!parsed?.digest || ref.trim() !== ref || ref.startsWith('-')) {
    throw new Error(`${JSON.stringify(ref)} is not an image pinned by digest (repo@sha256:...)`);
  }
  return { ref, registry: parsed.registry, digest: parsed.digest };
}

function registryFlags(registry: string): string[] {
  return isLocalRegistry(registry) ? ['--allow-insecure-registry', '--allow-http-registry'] : [];
}

function signerFlags(key: SignerKey): string[] {
  return 'keyFile' in key ? [`--key=${key.keyFile}`] : [];
}

function policyFlags(policy: SignerPolicy): string[] {
  return policy.kind === 'key'
    ? [`--key=${policy.keyFile}`]
    : [`--certificate-identity=${policy.identity}`, `--certificate-oidc-issuer=${policy.issuer}`];
}

/** `cosign sign`: a signature of the digest pushed beside the image. */
export function signArgs(ref: string, key: SignerKey, transparencyLog: boolean): string[] {
  const image = pinnedRef(ref);
  return [
    'sign',
    ...signerFlags(key),
    ...(transparencyLog ? [] : ['--tlog-upload=false']),
    ...registryFlags(image.registry),
    '--yes',
    '--',
    image.ref,
  ];
}

/** `cosign attest`: the predicate in `predicateFile`, as an in-toto statement of `type`, signed. */
export function attestArgs(
  ref: string,
  predicateFile: string,
  type: AttestationType,
  key: SignerKey,
  transparencyLog: boolean,
): string[] {
  const image = pinnedRef(ref);
  return [
    'attest',
    ...signerFlags(key),
    `--type=${type}`,
    `--predicate=${predicateFile}`,
    ...(transparencyLog ? [] : ['--tlog-upload=false']),
    ...registryFlags(image.registry),
    '--yes',
    '--',
    image.ref,
  ];
}

/** `cosign verify`: a signature by the policy's signer over this very digest. */
export function verifyArgs(ref: string, policy: SignerPolicy, transparencyLog: boolean): string[] {
  const image = pinnedRef(ref);
  return [
    'verify',
    ...policyFlags(policy),
    ...(transparencyLog ? [] : ['--insecure-ignore-tlog=true']),
    ...registryFlags(image.registry),
    '--',
    image.ref,
  ];
}

/** `cosign verify-attestation`: an attestation of `type` signed by the policy's signer. */
export function verifyAttestationArgs(
  ref: string,
  type: AttestationType,
  policy: SignerPolicy,
  transparencyLog: boolean,
): string[] {
  const image = pinnedRef(ref);
  return [
    'verify-attestation',
    ...policyFlags(policy),
    `--type=${type}`,
    ...(transparencyLog ? [] : ['--insecure-ignore-tlog=true']),
    ...registryFlags(image.registry),
    '--',
    image.ref,
  ];
}

// Verification of the pinned images on the runner, before anything reaches the host: the inputs
// (verify-key, or verify-identity + verify-issuer; transparency-log; allowed-registries; cosign-version,
// cosign-download-url), the registries a pin may name, and `cosign verify` + `cosign verify-attestation
// --type slsaprovenance` of every pinned image. A failure names the service and the image; who built
// each image (from its verified provenance) goes to the summary.
import * as core from '@actions/core';
import { getBooleanInput, getListInput, getString, inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { installCosign, KEYLESS_NEEDS_TLOG, verifyImage, type BuiltBy } from '../../../lib/tools/cosign.js';
import { parseCosignDownloadUrl, parseCosignVersion } from '../../../lib/tools/cosign-install.js';
import { isRegistryHost, parseImageRef } from '../../../lib/tools/docker.js';
import { privateDockerConfig } from '../../../lib/tools/docker-config.js';
import { builtByText } from '../../../lib/tools/provenance.js';
import { Inputs as I } from './constants.js';
import { deploysNewRelease, type Mode } from './modes/mode.js';

/** Who must have signed every pinned image, and how cosign is had and run. */
export interface VerifyConfig {
  signer: { publicKey: string } | { identity: string; issuer: string };
  'transparency-log': boolean;
  'cosign-version': string;
  'cosign-download-url': string;
}

export interface VerifyInputs {
  /** unset: pins are not verified */
  verify?: VerifyConfig;
  /** registry hosts (lower-case) every pin must name; empty: any */
  'allowed-registries': string[];
}

const PUBLIC_KEY = /^-----BEGIN PUBLIC KEY-----\n(?:[A-Za-z0-9+/=]{1,76}\n){1,40}-----END PUBLIC KEY-----$/;

/** A cosign public key (cosign.pub): one PEM `PUBLIC KEY` block, nothing else. */
export function parseVerifyKey(value: string): string {
  const pem = value.replace(/\r\n/g, '\n').trim();
  if (/PRIVATE KEY-----/.test(pem)) {
    throw inputError(
      I.VerifyKey,
      'is a private key: give the public key (cosign.pub); the private key stays with the build',
    );
  }
  if (!PUBLIC_KEY.test(pem)) {
    throw inputError(
      I.VerifyKey,
      'is not a cosign public key (one "-----BEGIN PUBLIC KEY-----" PEM block, as cosign generate-key-pair writes cosign.pub)',
    );
  }
  return pem;
}

/** A keyless certificate identity: one line of printable text (it reaches cosign as one argument). */
export function parseIdentity(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.length > 1000 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw inputError(I.VerifyIdentity, 'must be one line of printable text (a certificate identity)');
  }
  return value;
}

/** An OIDC issuer: an https URL such as https://token.actions.githubusercontent.com. */
export function parseIssuer(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || /\s/.test(value) || url.username || url.password) {
    throw inputError(
      I.VerifyIssuer,
      `${JSON.stringify(oneLine(value))} is not an https OIDC issuer URL (GitHub's is https://token.actions.githubusercontent.com)`,
    );
  }
  return value;
}

/** Registry hosts, lower-cased: each a host[:port]. */
export function parseAllowedRegistries(items: string[]): string[] {
  return items.map((item) => {
    if (!isRegistryHost(item)) {
      throw inputError(I.AllowedRegistries, `${JSON.stringify(oneLine(item))} is not a registry host[:port]`);
    }
    return item.toLowerCase();
  });
}

/** Every pin must name one of the allowed registries (when any are listed). */
export function checkAllowedRegistries(images: Record<string, string>, allowed: string[]): void {
  if (allowed.length === 0) return;
  for (const [service, ref] of Object.entries(images)) {
    const registry = parseImageRef(ref)?.registry.toLowerCase();
    if (registry === undefined || !allowed.includes(registry)) {
      throw inputError(
        I.Images,
        `service ${service}: image ${ref} is from registry ${registry ?? '(none)'}, which is not in ${I.AllowedRegistries} (${allowed.join(', ')})`,
      );
    }
  }
}

/** The signer the inputs describe: a key pair, keyless, or none (no verification). */
export function signerFrom(
  key: string,
  identity: string,
  issuer: string,
): VerifyConfig['signer'] | undefined {
  if (key && (identity || issuer)) {
    throw inputError(
      I.VerifyKey,
      `set either ${I.VerifyKey} (a key pair) or ${I.VerifyIdentity} and ${I.VerifyIssuer} (keyless), not both`,
    );
  }
  if (key) return { publicKey: parseVerifyKey(key) };
  if (identity && !issuer) throw inputError(I.VerifyIssuer, `is required with ${I.VerifyIdentity}`);
  if (issuer && !identity) throw inputError(I.VerifyIdentity, `is required with ${I.VerifyIssuer}`);
  if (!identity) return undefined;
  return { identity: parseIdentity(identity), issuer: parseIssuer(issuer) };
}

export function getVerifyInputs(images: Record<string, string>): VerifyInputs {
  const allowed = parseAllowedRegistries(getListInput(I.AllowedRegistries));
  checkAllowedRegistries(images, allowed);
  const signer = signerFrom(
    getString(I.VerifyKey) ?? '',
    getString(I.VerifyIdentity) ?? '',
    getString(I.VerifyIssuer) ?? '',
  );
  const tlog = getBooleanInput(I.TransparencyLog, { default: true });
  if (signer && 'identity' in signer && !tlog) {
    throw inputError(I.TransparencyLog, `${KEYLESS_NEEDS_TLOG}: keep it true, or verify with ${I.VerifyKey}`);
  }
  if (!signer) return { 'allowed-registries': allowed };
  return {
    'allowed-registries': allowed,
    verify: {
      signer,
      'transparency-log': tlog,
      'cosign-version': parseCosignVersion(getString(I.CosignVersion) ?? '', I.CosignVersion),
      'cosign-download-url': parseCosignDownloadUrl(
        getString(I.CosignDownloadUrl) ?? '',
        I.CosignDownloadUrl,
      ),
    },
  };
}

export interface VerifiedPin {
  service: string;
  ref: string;
  builtBy: BuiltBy;
}

/** What the deploy needs here: the pins, the verification, and the registry login it has. */
export interface VerifyTarget {
  images: Record<string, string>;
  verify: VerifyConfig;
  registry?: string;
  'registry-username'?: string;
  'registry-password'?: string;
}

/**
 * Verifies every pinned image on the runner (a signature by the signer and a slsaprovenance
 * attestation by the same signer) and returns who built each. Every image is checked; one error names
 * each service and image that failed, and why.
 */
export async function verifyPins(inputs: VerifyTarget): Promise<VerifiedPin[]> {
  const v = inputs.verify;
  const cosign = await installCosign({ version: v['cosign-version'], downloadUrl: v['cosign-download-url'] });
  const login =
    inputs.registry && inputs['registry-username'] && inputs['registry-password']
      ? privateDockerConfig(inputs.registry, inputs['registry-username'], inputs['registry-password'])
      : undefined;
  try {
    const results = await Promise.allSettled(
      Object.entries(inputs.images).map(async ([service, ref]) => {
        const verified = await verifyImage(ref, {
          cosign,
          signer: v.signer,
          transparencyLog: v['transparency-log'],
          attestation: 'slsaprovenance',
          dockerConfig: login?.dir,
        });
        return { service, ref, builtBy: verified.builtBy };
      }),
    );
    const services = Object.entries(inputs.images);
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [`service ${services[i]![0]}: image ${services[i]![1]} failed its ${reasonOf(r.reason)}`]
        : [],
    );
    if (failures.length) {
      throw new Error(
        `Image verification refused the release (nothing on the host changed): ${failures.join('; ')}`,
      );
    }
    const verified = results.map((r) => (r as PromiseFulfilledResult<VerifiedPin>).value);
    for (const pin of verified)
      core.info(`Verified ${pin.service} (${pin.ref}): built by ${builtByText(pin.builtBy)}`);
    return verified;
  } finally {
    login?.remove();
  }
}

/**
 * Modes deploy and swarm, with a signer set: the pins verified in a log group (verifyPins); undefined
 * when nothing is to be verified (a warning when a signer is set and nothing is pinned).
 */
export async function verifyRelease(
  inputs: VerifyInputs & Omit<VerifyTarget, 'verify'> & { mode: Mode },
): Promise<VerifiedPin[] | undefined> {
  const { verify } = inputs;
  if (!verify || !deploysNewRelease(inputs.mode)) return undefined;
  if (Object.keys(inputs.images).length === 0) {
    core.warning(
      `${I.VerifyKey}/${I.VerifyIdentity} is set, but ${I.Images} pins nothing: no image was verified`,
    );
    return undefined;
  }
  return core.group('Verify images', () => verifyPins({ ...inputs, verify }));
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The summary's rows: who built each verified image. */
export function builtByRows(verified: readonly VerifiedPin[] | undefined): [string, string][] {
  return (verified ?? []).map((pin) => [`Built by (${pin.service})`, builtByText(pin.builtBy)]);
}

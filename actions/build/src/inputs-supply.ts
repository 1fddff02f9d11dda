// berth/build's supply-chain inputs: the builder, attestations and cosign signing, each checked
// here and named in its error.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { contextFromEnv } from '../../../lib/action/github.js';
import {
  getBooleanInput,
  getEnumInput,
  getListInput,
  getString,
  inputError,
} from '../../../lib/action/inputs.js';
import { maskSecret } from '../../../lib/action/secrets.js';
import { KEYLESS_NEEDS_TLOG } from '../../../lib/tools/cosign.js';
import { parseCosignDownloadUrl, parseCosignVersion } from '../../../lib/tools/cosign-install.js';
import { parseImageRef } from '../../../lib/tools/docker.js';
import { Inputs as I, PROVENANCE_MODES, type ProvenanceMode, type PushMode } from './constants.js';

/** The builder inputs (part of Inputs). */
export interface BuilderInputs {
  /** an existing buildx builder to use; undefined: the current one, or one created for this step */
  builder?: string;
  'driver-opts': string[];
  'buildkitd-config'?: string;
}

/** The attestation and signing inputs (part of Inputs). */
export interface SigningInputs {
  provenance: ProvenanceMode;
  sbom: boolean;
  'sbom-generator'?: string;
  /** a cosign private key (PEM, masked); undefined: no signing with a key */
  'cosign-key'?: string;
  'cosign-password'?: string;
  /** sign without a key: the job's OIDC token, Fulcio and Rekor */
  keyless: boolean;
  'transparency-log': boolean;
  'cosign-version': string;
  'cosign-download-url': string;
}

/** A builder name as buildx accepts it. */
const BUILDER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A docker-container driver option: `key=value`, nothing buildx's comma-separated reader splits. */
const DRIVER_OPT = /^[a-z][a-z0-9-]*=[^,\s"']+$/;
/** The PEM types `cosign generate-key-pair` writes (and the older name). */
const COSIGN_KEY =
  /^-----BEGIN ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY-----\s*$/;

export function getBuilderInputs(workspace: string): BuilderInputs {
  const builder = getString(I.Builder) || undefined;
  if (builder && !BUILDER.test(builder))
    throw inputError(I.Builder, `${JSON.stringify(builder)} is not a buildx builder name`);
  const driverOpts = getListInput(I.DriverOpts);
  for (const opt of driverOpts) {
    if (!DRIVER_OPT.test(opt))
      throw inputError(
        I.DriverOpts,
        `${JSON.stringify(opt)} is not key=value (one option per line or comma)`,
      );
  }
  const configInput = getString(I.BuildkitdConfig);
  const config = configInput ? resolve(workspace, configInput) : undefined;
  if (config && (!existsSync(config) || !statSync(config).isFile()))
    throw inputError(I.BuildkitdConfig, `file ${config} does not exist`);
  if (builder && (driverOpts.length > 0 || config))
    throw inputError(
      I.Builder,
      `an existing builder is used as it is: ${I.DriverOpts} and ${I.BuildkitdConfig} only shape a builder this step creates`,
    );
  return { builder, 'driver-opts': driverOpts, 'buildkitd-config': config };
}

/**
 * Provenance defaults to `min` (source and build parameters stay private), `max` for a public
 * repository, as docker/build-push-action does.
 */
export function defaultProvenance(payload: Record<string, unknown>): ProvenanceMode {
  const repository = payload.repository as { private?: unknown } | undefined;
  return repository?.private === false ? 'max' : 'min';
}

export function getSigningInputs(push: PushMode, env: Record<string, string | undefined>): SigningInputs {
  const pushed = push !== 'false';
  const provenanceInput = getString(I.Provenance);
  const provenance = provenanceInput
    ? getEnumInput(I.Provenance, PROVENANCE_MODES, { required: true })
    : defaultProvenance(contextFromEnv(env).payload);
  const sbom = getBooleanInput(I.Sbom, { default: false });
  const generator = getString(I.SbomGenerator) || undefined;
  if (generator && !parseImageRef(generator))
    throw inputError(I.SbomGenerator, `${JSON.stringify(generator)} is not an image reference`);
  if (generator && !sbom) throw inputError(I.SbomGenerator, `is set but ${I.Sbom} is not true`);
  if (sbom && !pushed)
    throw inputError(
      I.Sbom,
      `attestations are stored with the pushed image: set ${I.Push} to true or digest`,
    );

  // The key and its password are secrets from their first read: masked line by line.
  const key = getString(I.CosignKey) || undefined;
  maskSecret(key);
  const password = getString(I.CosignPassword) || undefined;
  maskSecret(password);
  if (key && !COSIGN_KEY.test(key.trim()))
    throw inputError(
      I.CosignKey,
      'is not a cosign private key (the PEM text of cosign.key from `cosign generate-key-pair`)',
    );
  if (password && !key) throw inputError(I.CosignPassword, `is set but ${I.CosignKey} is not`);
  if (key && !pushed)
    throw inputError(I.CosignKey, `signing needs a pushed image: set ${I.Push} to true or digest`);
  const keyless = getBooleanInput(I.Keyless, { default: false });
  if (keyless && key)
    throw inputError(I.Keyless, `is true but ${I.CosignKey} is set: sign with one or the other`);
  if (keyless && !pushed)
    throw inputError(I.Keyless, `signing needs a pushed image: set ${I.Push} to true or digest`);
  const transparencyLog = getBooleanInput(I.TransparencyLog, { default: true });
  if (keyless && !transparencyLog) throw inputError(I.TransparencyLog, KEYLESS_NEEDS_TLOG);
  return {
    provenance: pushed ? provenance : 'false',
    sbom,
    'sbom-generator': generator,
    'cosign-key': key,
    'cosign-password': password,
    keyless,
    'transparency-log': transparencyLog,
    'cosign-version': parseCosignVersion(getString(I.CosignVersion) ?? ''),
    'cosign-download-url': parseCosignDownloadUrl(getString(I.CosignDownloadUrl) ?? ''),
  };
}

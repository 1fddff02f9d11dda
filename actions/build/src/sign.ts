// Signing with cosign once the checks passed: the pushed digest (an index's digest commits to every
// platform image and to BuildKit's attestation manifests, so one signature covers them all), and
// BuildKit's provenance as a signed cosign attestation, which deploy verifies before it pulls.
import { writeProvenancePredicates } from '../../../lib/tools/buildkit-provenance.js';
import { attestImage, installCosign, signImage, type SignOptions } from '../../../lib/tools/cosign.js';
import type { Inputs } from './inputs.js';
import type { PushedImage } from './pushed.js';

export interface Signed {
  /** the digest cosign signed */
  digest: string;
  /** cosign attestation types attached, e.g. slsaprovenance */
  attestations: string[];
  transparencyLog: boolean;
}

/** The provenance BuildKit attaches (asked for as v0.2: see buildx.ts), which deploy verifies. */
const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

export async function signPushed(inputs: Inputs, work: string, pushed: PushedImage): Promise<Signed> {
  const ref = `${inputs.image}@${pushed.digest}`;
  const cosign = await installCosign({
    version: inputs['cosign-version'],
    downloadUrl: inputs['cosign-download-url'],
  });
  const signer: SignOptions = {
    cosign,
    key: inputs['cosign-key']
      ? { privateKey: inputs['cosign-key'], password: inputs['cosign-password'] }
      : undefined,
    transparencyLog: inputs['transparency-log'],
  };
  await signImage(ref, signer);
  const attestations: string[] = [];
  if (pushed.attestations.includes(SLSA_V02)) {
    // One signed statement per platform's predicate, each naming the index digest.
    const files = await writeProvenancePredicates(ref, work);
    for (const file of Object.values(files)) await attestImage(ref, file, 'slsaprovenance', signer);
    attestations.push('slsaprovenance');
  }
  return { digest: pushed.digest, attestations, transparencyLog: inputs['transparency-log'] };
}

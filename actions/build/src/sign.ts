// Signing with cosign once the checks passed: the pushed digest (an index's digest commits to every
// platform image and to BuildKit's attestation manifests, so one signature covers them all), and
// BuildKit's provenance as a signed cosign attestation, which deploy verifies before it pulls.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/action/exec.js';
import { attestImage, installCosign, signImage, type SignOptions } from '../../../lib/tools/cosign.js';
import type { Inputs } from './inputs.js';
import { provenancePredicate, type PushedImage } from './pushed.js';

export interface Signed {
  /** the digest cosign signed */
  digest: string;
  /** cosign attestation types attached, e.g. slsaprovenance */
  attestations: string[];
  transparencyLog: boolean;
}

const SLSA_TYPES: Record<string, 'slsaprovenance' | 'slsaprovenance1'> = {
  'https://slsa.dev/provenance/v0.2': 'slsaprovenance',
  'https://slsa.dev/provenance/v1': 'slsaprovenance1',
};

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
  const slsa = pushed.attestations.map((t) => SLSA_TYPES[t]).find((t) => t !== undefined);
  if (slsa) {
    const r = await run(
      'docker',
      ['buildx', 'imagetools', 'inspect', '--format', '{{json .Provenance}}', '--', ref],
      {
        silent: true,
      },
    );
    const predicate = provenancePredicate(r.stdout);
    if (!predicate) throw new Error(`${ref} lists a provenance attestation that imagetools cannot read`);
    const file = join(work, 'provenance.json');
    writeFileSync(file, JSON.stringify(predicate), { mode: 0o600 });
    await attestImage(ref, file, slsa, signer);
    attestations.push(slsa);
  }
  return { digest: pushed.digest, attestations, transparencyLog: inputs['transparency-log'] };
}

// The step's outputs: the image's as soon as it is built, the push's once it is decided.
import * as core from '@actions/core';
import type { BuiltImage } from './build.js';
import { Outputs } from './constants.js';
import type { Signed } from './sign.js';

export function setImageOutputs(image: string, refs: string[], built: BuiltImage): void {
  core.setOutput(Outputs.Image, image);
  core.setOutput(Outputs.Tags, refs.join('\n'));
  core.setOutput(Outputs.ImageId, built.imageId);
  core.setOutput(Outputs.Size, String(built.size));
  core.setOutput(Outputs.CacheHitRatio, String(Math.round(built.steps.ratio * 1000) / 1000));
  core.setOutput(Outputs.Platforms, (built.pushed?.platforms.map((p) => p.platform) ?? []).join(','));
}

/** Attestations as the `attestations` output lists them: BuildKit's predicate types, then cosign's. */
export function attestationList(built: BuiltImage, signed: Signed | undefined): string[] {
  return [
    ...(built.pushed?.attestations ?? []),
    ...(signed ? ['cosign-signature', ...signed.attestations.map((t) => `cosign-attestation:${t}`)] : []),
  ];
}

export function setPushOutputs(
  image: string,
  refs: string[],
  built: BuiltImage,
  digest: string | undefined,
  signed: Signed | undefined,
): void {
  core.setOutput(Outputs.Digest, digest ?? '');
  core.setOutput(Outputs.Ref, digest ? `${image}@${digest}` : refs[0]!);
  const attestations = attestationList(built, signed);
  core.setOutput(Outputs.Attestations, attestations.join('\n'));
  core.setOutput(
    Outputs.Metadata,
    JSON.stringify({
      ...built.metadata,
      image,
      tags: refs,
      digest,
      size: built.size,
      platforms: built.pushed?.platforms ?? [],
      attestations,
      'cache-hit-ratio': built.steps.ratio,
      steps: built.steps,
    }),
  );
}

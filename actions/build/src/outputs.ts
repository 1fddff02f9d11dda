// The step's outputs: the image's as soon as it is built, the push's once it is decided.
import * as core from '@actions/core';
import type { BuiltImage } from './build.js';
import { Outputs } from './constants.js';

export function setImageOutputs(image: string, refs: string[], built: BuiltImage): void {
  core.setOutput(Outputs.Image, image);
  core.setOutput(Outputs.Tags, refs.join('\n'));
  core.setOutput(Outputs.ImageId, built.local.id);
  core.setOutput(Outputs.Size, String(built.size));
  core.setOutput(Outputs.CacheHitRatio, String(Math.round(built.steps.ratio * 1000) / 1000));
}

export function setPushOutputs(
  image: string,
  refs: string[],
  built: BuiltImage,
  digest: string | undefined,
): void {
  core.setOutput(Outputs.Digest, digest ?? '');
  core.setOutput(Outputs.Ref, digest ? `${image}@${digest}` : refs[0]!);
  core.setOutput(
    Outputs.Metadata,
    JSON.stringify({
      ...built.metadata,
      image,
      tags: refs,
      digest,
      size: built.size,
      'cache-hit-ratio': built.steps.ratio,
      steps: built.steps,
    }),
  );
}

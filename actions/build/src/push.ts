// The push: every tag of the one image, which the registry must report under one digest.
import { push, remoteCompressedSize } from '../../../lib/tools/docker.js';

export interface Pushed {
  digest: string;
  /** bytes in the registry, when it says */
  compressedSize?: number;
}

export async function pushTags(image: string, refs: string[]): Promise<Pushed> {
  const digests = new Set<string>();
  for (const ref of refs) digests.add(await push(ref));
  if (digests.size !== 1)
    throw new Error(`the registry reports different digests for one image: ${[...digests].join(', ')}`);
  const digest = [...digests][0]!;
  return { digest, compressedSize: await remoteCompressedSize(`${image}@${digest}`) };
}

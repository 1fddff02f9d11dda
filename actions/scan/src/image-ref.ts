// What may be placed in docker's or Trivy's command line as an image (or DB) reference: a reference
// by docker's grammar (whose registry parseImageRef already requires to be a host[:port]), so nothing
// that starts with `-` (an option to the tool) or holds a space or line break gets there.
import { parseImageRef, type ImageRef } from '../../../lib/tools/docker.js';

/** The reference's parts, when `value` is an image reference that is safe in a command line. */
export function safeImageRef(value: string): ImageRef | undefined {
  if (value === '' || value.startsWith('-') || /[\s\p{Cc}]/u.test(value)) return undefined;
  return parseImageRef(value);
}

export function isImageReference(value: string): boolean {
  return safeImageRef(value) !== undefined;
}

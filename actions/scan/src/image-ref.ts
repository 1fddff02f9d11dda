// What may be placed in docker's or Trivy's command line as an image (or DB) reference: a reference
// by docker's grammar whose registry is a host name, so nothing that starts with `-` (an option to
// the tool) or holds a space or line break gets there.
import { parseImageRef, type ImageRef } from '../../../lib/tools/docker.js';

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);

/** The reference's parts, when `value` is an image reference that is safe in a command line. */
export function safeImageRef(value: string): ImageRef | undefined {
  if (value === '' || value.startsWith('-') || /[\s\p{Cc}]/u.test(value)) return undefined;
  const ref = parseImageRef(value);
  if (ref === undefined || !HOST.test(ref.registry)) return undefined;
  return ref;
}

export function isImageReference(value: string): boolean {
  return safeImageRef(value) !== undefined;
}

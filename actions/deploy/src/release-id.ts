// Release ids: what a release directory is called on the host, made here and checked everywhere a
// name comes back as a release (an input, a host's directory, a report line).
import { randomBytes } from 'node:crypto';

/** Sortable by time, traceable to the commit, unique across concurrent runs. */
export function releaseId(now: Date, sha: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${(sha || 'nocommit').slice(0, 7)}-${randomBytes(2).toString('hex')}`;
}

/** What releaseId makes; anything else named as a release (an input, a host's directory) is refused. */
export const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-z]{1,7}-[0-9a-f]{4}$/;

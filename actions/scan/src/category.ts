// Names derived from what was scanned, shared by the SARIF file (its code-scanning category and
// artifact URIs) and the outputs (file names): one place, so they cannot drift apart.
import { parseImageRef } from '../../../lib/tools/docker.js';

export type ScanTarget =
  /** an image reference; tag and digest do not change its name */
  | { kind: 'image'; ref: string }
  /** a directory of the repository (secrets and misconfigurations) */
  | { kind: 'fs'; path: string }
  /** a directory of the repository scanned for misconfigurations only (`trivy config`) */
  | { kind: 'config'; path: string }
  /** the compose audit of one stack, named by its project (or its first compose file) */
  | { kind: 'compose'; name: string }
  /** the monitoring configs checked, named by the stack's project (or the first config's directory) */
  | { kind: 'monitoring'; name: string };

const UNSAFE = /[^A-Za-z0-9._/-]+/g;

function clean(text: string): string {
  const cleaned = text
    .replace(/\\/g, '/')
    .replace(UNSAFE, '-')
    .replace(/\/{2,}/g, '/')
    .replace(/^[./-]+|[/-]+$/g, '');
  return cleaned === '' ? 'root' : cleaned;
}

/**
 * An image's repository path without registry, tag or digest (`ghcr.io/acme/api:1.2` ->
 * `acme/api`, `postgres:16` -> `library/postgres`), the way Trivy names images in SARIF, so the
 * same image gets the same name whichever registry or version was scanned.
 */
export function imageRepository(ref: string): string {
  // Trivy's targets read `ref (debian 12.5)`.
  const bare = ref.replace(/\s*\(.*\)\s*$/, '').trim();
  return parseImageRef(bare)?.repository ?? bare;
}

/**
 * The code-scanning category (SARIF runAutomationDetails.id), unique per scanned thing and stable
 * across runs: `berth-scan/image/acme/api/`, `berth-scan/fs/services/api/`,
 * `berth-scan/config/services/api/`, `berth-scan/compose/shop/`. The trailing slash makes the
 * whole id the category.
 */
export function scanCategory(target: ScanTarget): string {
  switch (target.kind) {
    case 'image':
      return `berth-scan/image/${clean(imageRepository(target.ref).replace(/^library\//, ''))}/`;
    case 'fs':
      return `berth-scan/fs/${clean(target.path)}/`;
    case 'config':
      return `berth-scan/config/${clean(target.path)}/`;
    case 'compose':
      return `berth-scan/compose/${clean(target.name)}/`;
    case 'monitoring':
      return `berth-scan/monitoring/${clean(target.name)}/`;
  }
}

/** A file-name stem for the target's reports: `berth-scan-image-acme-api` (then `.json`, `.sarif`). */
export function reportBaseName(target: ScanTarget): string {
  return scanCategory(target).replace(/\/$/, '').replace(/[/.]+/g, '-');
}

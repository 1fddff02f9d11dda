// The release bundle: what goes to the host for one release, staged in a local directory and sent
// as one tar stream. Secrets travel inside it as files, never on a command line.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Inputs } from './inputs.js';

/** Sortable by time, traceable to the commit, unique across concurrent runs. */
export function releaseId(now: Date, sha: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${(sha || 'nocommit').slice(0, 7)}-${randomBytes(2).toString('hex')}`;
}

/** The override that pins service images by digest, added after the user's compose files. */
export const IMAGES_OVERRIDE = 'docker-compose.berth-images.yml';
export const CA_FILE = '.berth/ca.pem';

/**
 * A compose `.env` line whose value compose reads literally: double-quoted, with backslash,
 * quote and line breaks escaped, and `$` doubled so that nothing is interpolated.
 */
export function dotenvLine(key: string, value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$/g, '$$$$');
  return `${key}="${escaped}"`;
}

export function imagesOverride(images: Record<string, string>): string {
  const lines = ['# Written by berth/deploy: each service runs the image pinned by digest.', 'services:'];
  for (const [service, ref] of Object.entries(images))
    lines.push(`  ${JSON.stringify(service)}:`, `    image: ${JSON.stringify(ref)}`);
  return lines.join('\n') + '\n';
}

export interface ReleaseRecord {
  release: string;
  project: string;
  environment?: string;
  commit: string;
  ref: string;
  repository: string;
  actor: string;
  run: string;
  workflow: string;
  created: string;
  images: Record<string, string>;
  compose_files: string[];
}

export interface StagedBundle {
  dir: string;
  /** compose files as the host will use them, relative to the release directory */
  composeFiles: string[];
  caFile?: string;
}

export function stageBundle(inputs: Inputs, record: ReleaseRecord, tempRoot: string): StagedBundle {
  const dir = mkdtempSync(join(tempRoot, 'berth-release-'));
  chmodSync(dir, 0o700);
  const composeFiles = [...inputs['compose-files']];
  for (const file of composeFiles) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(inputs['working-directory'], file), join(dir, file));
  }
  if (Object.keys(inputs.images).length > 0) {
    writeFileSync(join(dir, IMAGES_OVERRIDE), imagesOverride(inputs.images));
    composeFiles.push(IMAGES_OVERRIDE);
  }
  const env = Object.entries(inputs.env).map(([k, v]) => dotenvLine(k, v));
  writeFileSync(join(dir, '.env'), env.length ? env.join('\n') + '\n' : '', { mode: 0o600 });
  mkdirSync(join(dir, '.berth'), { mode: 0o700 });
  if (Object.keys(inputs.secrets).length > 0) {
    // Compose (without swarm) bind-mounts secret files with their host owner and mode, and the
    // services run as their own non-root users: the files must be readable by them, so the
    // directory (0700, the deploy user's) is what keeps them from other users of the host.
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    for (const [name, value] of Object.entries(inputs.secrets)) {
      writeFileSync(join(secrets, name), value, { mode: 0o444 });
    }
  }
  if (inputs['registry-password']) {
    writeFileSync(join(dir, '.berth/registry-password'), inputs['registry-password'], { mode: 0o600 });
  }
  let caFile: string | undefined;
  if (inputs['ca-file']) {
    copyFileSync(join(inputs['working-directory'], inputs['ca-file']), join(dir, CA_FILE));
    caFile = CA_FILE;
  }
  writeFileSync(
    join(dir, 'release.json'),
    JSON.stringify({ ...record, compose_files: composeFiles }, null, 2) + '\n',
  );
  return { dir, composeFiles, caFile };
}

// Content-addressed project files. Compose puts a bind mount's source path in a service's config
// hash but not a config file's path nor its content: with every release in its own directory, a
// read-only bind mount would recreate its service at every deploy, a changed config file would not
// recreate its service at all, and a service left running would mount an old release's directory.
// So each read-only bind source and each `configs.*.file` is also stored on the host once, at
// `<remote-dir>/files/<id>/<name>` (id: a hash of the staged tree), which the override mounts: the
// same content keeps the same path, a new content gets a new one, and a label per service (a hash
// of its files' ids) recreates exactly the services whose files changed.
import { createHash, type Hash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ComposeVolume } from '../../../../lib/tools/compose.js';
import { inside } from './classify.js';
import type { ProjectModel } from './model.js';

/** The label whose value changes when a file a service reads changes (compose hashes labels). */
export const FILES_LABEL = 'berth.files';

/** Hex digits of an id: 128 bits, so that two contents never share a directory. */
const ID_LENGTH = 32;

export interface StoredEntry {
  id: string;
  /** relative to the release directory (and working-directory) */
  path: string;
}

export interface ContentPlan {
  /** each stored tree once */
  entries: StoredEntry[];
  /** read-only bind mounts, each to point at its entry */
  binds: { service: string; volume: ComposeVolume; id: string; path: string }[];
  /** top-level configs, each to point at its entry */
  configs: { key: string; id: string; path: string }[];
  /** service -> the label's value */
  labels: Record<string, string>;
}

function hashTree(hash: Hash, abs: string, name: string): void {
  const st = lstatSync(abs);
  if (st.isDirectory()) {
    hash.update(`d ${name}\0`);
    for (const entry of readdirSync(abs).sort()) hashTree(hash, join(abs, entry), `${name}/${entry}`);
  } else {
    // The staged copy holds only directories and regular files; of a file's mode only x matters
    // (readability is set by staging, the rest depends on the checkout's umask).
    hash.update(`f ${name} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\0`);
    hash.update(readFileSync(abs));
  }
}

/** The id of a staged file or directory: its name, its tree's names, kinds, x bits and bytes. */
export function contentId(abs: string): string {
  const hash = createHash('sha256');
  hashTree(hash, abs, basename(abs));
  return hash.digest('hex').slice(0, ID_LENGTH);
}

/** Where an entry lives on the host. */
export const storedPath = (remoteDir: string, e: { id: string; path: string }) =>
  `${remoteDir}/files/${e.id}/${basename(e.path)}`;

/** `secrets/` is where the `secrets` input is written (bundle.ts): mounted from the release, never hashed. */
const holdsSecrets = (path: string) => path === 'secrets' || path.startsWith('secrets/');

/**
 * The read-only bind mounts and config files of the model (already checked and staged), with ids.
 * Secrets are not among them: a hash of a secret's content must not be readable anywhere.
 */
export function contentPlan(
  model: Pick<ProjectModel, 'binds' | 'files'>,
  workingDirectory: string,
  stagedDir: string,
): ContentPlan {
  const ids = new Map<string, string>();
  const idOf = (path: string) => {
    if (!ids.has(path)) ids.set(path, contentId(join(stagedDir, path)));
    return ids.get(path)!;
  };
  const plan: ContentPlan = { entries: [], binds: [], configs: [], labels: {} };
  const used = new Map<string, Set<string>>();
  const use = (service: string, id: string) => used.set(service, (used.get(service) ?? new Set()).add(id));
  for (const mount of model.binds) {
    const path = inside(workingDirectory, mount.source);
    if (!mount.readOnly || path === undefined || holdsSecrets(path)) continue;
    const id = idOf(path);
    plan.binds.push({ service: mount.service, volume: mount.volume, id, path });
    use(mount.service, id);
  }
  for (const ref of model.files) {
    const path = inside(workingDirectory, ref.path);
    if (!ref.what.startsWith('configs.') || path === undefined) continue;
    const id = idOf(path);
    plan.configs.push({ key: ref.what.slice('configs.'.length), id, path });
    for (const service of ref.services ?? []) use(service, id);
  }
  plan.entries = [...ids].map(([path, id]) => ({ id, path })).sort((a, b) => a.path.localeCompare(b.path));
  for (const [service, set] of used) {
    plan.labels[service] = createHash('sha256')
      .update([...set].sort().join('\n'))
      .digest('hex')
      .slice(0, ID_LENGTH);
  }
  return plan;
}

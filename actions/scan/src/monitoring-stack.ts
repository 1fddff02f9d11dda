// Where a compose stack puts repository files into its containers (bind mounts and `configs:`), so
// that the scan finds the monitoring configs among them and maps a container path that a Prometheus
// config names in `rule_files` back to the repository file it is.
import { readdirSync, statSync } from 'node:fs';
import { posix, relative, resolve, sep } from 'node:path';
import type { ComposeConfig } from './compose-service.js';

export interface Mount {
  service: string;
  /** absolute path on the host */
  source: string;
  /** absolute path in the container */
  target: string;
}

/** Every bind mount and config file of every service, as the merged configuration gives them. */
export function stackMounts(config: ComposeConfig): Mount[] {
  const mounts: Mount[] = [];
  for (const [service, s] of Object.entries(config.services)) {
    for (const volume of s.volumes ?? []) {
      if (typeof volume !== 'object' || volume === null || volume.type !== 'bind') continue;
      if (volume.source && volume.target)
        mounts.push({ service, source: volume.source, target: volume.target });
    }
    for (const entry of s.configs ?? []) {
      const ref = typeof entry === 'string' ? { source: entry } : entry;
      const file = ref.source ? config.configs?.[ref.source]?.file : undefined;
      // Compose mounts a config without a target at /<name>.
      if (file && ref.source) mounts.push({ service, source: file, target: ref.target || `/${ref.source}` });
    }
  }
  return mounts;
}

/** `path` inside `root` (or `root` itself), `/`-separated and relative, else undefined. */
export function insideRoot(root: string, path: string): string | undefined {
  const rel = relative(resolve(root), resolve(path));
  if (rel.startsWith('..') || resolve(rel) === rel) return undefined;
  return rel.split(sep).join('/');
}

/** A file mounted into a service, with its path there. */
export interface MountedFile {
  service: string;
  /** absolute path on the host, inside the repository */
  absolute: string;
  containerPath: string;
}

const YAML_FILE = /\.ya?ml$/i;
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
/** A mounted directory is looked through this deep and for this many YAML files at most. */
const MAX_DEPTH = 3;
const MAX_FILES = 200;

function yamlFilesUnder(dir: string, depth = 0, found: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (found.length >= MAX_FILES) break;
    const path = resolve(dir, entry.name);
    if (entry.isFile() && YAML_FILE.test(entry.name)) found.push(path);
    else if (entry.isDirectory() && depth < MAX_DEPTH && !SKIPPED_DIRS.has(entry.name)) {
      yamlFilesUnder(path, depth + 1, found);
    }
  }
  return found;
}

/**
 * The repository files the stack mounts: a mounted file, or the YAML files in a mounted directory.
 * Mounts from outside the repository (host directories) are never read.
 */
export function mountedFiles(mounts: readonly Mount[], root: string): MountedFile[] {
  const out: MountedFile[] = [];
  for (const mount of mounts) {
    if (insideRoot(root, mount.source) === undefined) continue;
    let isDir: boolean;
    try {
      isDir = statSync(mount.source).isDirectory();
    } catch {
      continue;
    }
    const files = isDir ? yamlFilesUnder(mount.source) : [mount.source];
    for (const absolute of files) {
      const inside = relative(mount.source, absolute).split(sep).join('/');
      const containerPath = isDir ? posix.join(mount.target, inside) : mount.target;
      out.push({ service: mount.service, absolute, containerPath });
    }
  }
  return out;
}

/**
 * The host path a container path of `service` comes from: through the mount with the longest
 * target that holds it. Undefined when no mount of the service holds it.
 */
export function hostPath(
  mounts: readonly Mount[],
  service: string,
  containerPath: string,
): string | undefined {
  let best: Mount | undefined;
  for (const mount of mounts) {
    if (mount.service !== service) continue;
    const target = mount.target.replace(/\/+$/, '') || '/';
    const holds = containerPath === target || containerPath.startsWith(target === '/' ? '/' : `${target}/`);
    if (holds && (!best || target.length > best.target.length)) best = mount;
  }
  if (!best) return undefined;
  const rest = posix.relative(best.target, containerPath);
  return rest === '' ? best.source : resolve(best.source, ...rest.split('/'));
}

const GLOB_CHARS = /[*?[]/;

function componentRegex(component: string): RegExp {
  let source = '';
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      // Go's classes read like a regular expression's: `[a-z]`, `[^a-z]`.
      const end = component.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        source += `[${component.slice(i + 1, end)}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * The files a `rule_files` pattern (an absolute host path that may hold `*`, `?` and `[...]` in any
 * component, as Go's filepath.Glob reads it) matches, sorted. A pattern without glob characters
 * matches its file when it exists.
 */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split('/');
  let paths = [parts[0] === '' ? '/' : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of paths) {
      if (!GLOB_CHARS.test(part)) {
        next.push(resolve(dir, part));
        continue;
      }
      const regex = componentRegex(part);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        // not a directory: nothing under it
      }
      next.push(...names.filter((n) => regex.test(n)).map((n) => resolve(dir, n)));
    }
    paths = next;
  }
  return paths
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

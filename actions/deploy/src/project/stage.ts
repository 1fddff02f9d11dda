// Copying the project's files into the staged release, each checked on the way (a symlink must
// stay inside working-directory, no sockets, fifos or devices), readable by the services' non-root
// users; the data override; and the bundle's size as tar will send it.
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ComposeVolume } from '../../../../lib/tools/compose.js';
import type { Copy, DataDir } from './classify.js';
import { inside } from './classify.js';
import { FILES_LABEL, storedPath, type ContentPlan } from './content.js';

export interface CopyResult {
  /** relative paths of the regular files copied */
  files: string[];
  errors: string[];
}

/** a+r for files (a+x when the owner may run them), a+rx for directories: containers read them as their own users. */
function readable(path: string, dir: boolean): void {
  const mode = statSync(path).mode;
  chmodSync(path, mode | (dir || mode & 0o100 ? 0o555 : 0o444));
}

function ensureDir(stagedDir: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = join(stagedDir, ...parts.slice(0, i));
    try {
      lstatSync(dir);
    } catch {
      mkdirSync(dir);
      readable(dir, true);
    }
  }
}

/** Copies one path (a file or a whole directory) from `wd` into `stagedDir`, following safe symlinks. */
function copyPath(
  wd: string,
  realWd: string,
  stagedDir: string,
  copy: Copy,
  rel: string,
  out: CopyResult,
  seen: Set<string>,
): void {
  const src = join(wd, rel);
  const st = lstatSync(src);
  let real = src;
  if (st.isSymbolicLink()) {
    real = realpathSync(src);
    if (inside(realWd, real) === undefined) {
      out.errors.push(`${copy.origin}: ${rel} is a symlink to ${real}, outside working-directory`);
      return;
    }
  }
  const target = st.isSymbolicLink() ? statSync(real) : st;
  if (target.isDirectory()) {
    if (seen.has(real)) return; // a symlink loop
    seen.add(real);
    ensureDir(stagedDir, `${rel}/x`);
    for (const name of readdirSync(src)) copyPath(wd, realWd, stagedDir, copy, `${rel}/${name}`, out, seen);
  } else if (target.isFile()) {
    ensureDir(stagedDir, rel);
    copyFileSync(real, join(stagedDir, rel));
    readable(join(stagedDir, rel), false);
    out.files.push(rel);
  } else {
    out.errors.push(`${copy.origin}: ${rel} is a socket, fifo or device`);
  }
}

export function copyProjectFiles(wd: string, stagedDir: string, copies: Copy[]): CopyResult {
  const out: CopyResult = { files: [], errors: [] };
  const realWd = realpathSync(wd);
  for (const copy of copies) copyPath(wd, realWd, stagedDir, copy, copy.path, out, new Set());
  return out;
}

/** The size of `tar -cf -` of a directory: a 512-byte header per entry, data in 512-byte blocks, padding. */
export function tarSize(dir: string): { bytes: number; largest: [string, number][] } {
  let bytes = 1024 + 512;
  const sizes: [string, number][] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      bytes += 512;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const size = statSync(join(dir, path)).size;
        bytes += Math.ceil(size / 512) * 512;
        sizes.push([path, size]);
      }
    }
  };
  walk('');
  return { bytes: Math.ceil(bytes / 10240) * 10240, largest: sizes.sort((a, b) => b[1] - a[1]).slice(0, 3) };
}

/** The override that points data mounts at shared/ and read-only project files at files/ (content.ts). */
export const SHARED_OVERRIDE = 'docker-compose.berth-shared.yml';

export function sharedOverride(
  data: DataDir[],
  remoteDir: string,
  content: ContentPlan = { entries: [], binds: [], configs: [], labels: {} },
  /** mode swarm versions configs by content itself, from the release's copy */
  withConfigs = true,
): string {
  const lines = [
    '# Written by berth/deploy: data directories live outside the releases, in shared/;',
    '# read-only project files are mounted from files/<content id>/ (the release keeps a copy).',
    'services:',
  ];
  const volumes = new Map<string, ComposeVolume[]>();
  const add = (service: string, v: ComposeVolume) =>
    volumes.set(service, [...(volumes.get(service) ?? []), v]);
  for (const d of data) add(d.service, { ...d.mount.volume, source: `${remoteDir}/shared/${d.path}` });
  for (const b of content.binds) add(b.service, { ...b.volume, source: storedPath(remoteDir, b) });
  const services = [...new Set([...volumes.keys(), ...Object.keys(content.labels)])].sort();
  for (const service of services) {
    lines.push(`  ${JSON.stringify(service)}:`);
    const label = content.labels[service];
    if (label) lines.push(`    labels: ${JSON.stringify({ [FILES_LABEL]: label })}`);
    // Compose merges mounts by target: each replaces the user's mount of the same target.
    if (volumes.has(service))
      lines.push('    volumes:', ...volumes.get(service)!.map((v) => `      - ${JSON.stringify(v)}`));
  }
  if (withConfigs && content.configs.length) {
    lines.push('configs:');
    for (const c of content.configs)
      lines.push(`  ${JSON.stringify(c.key)}:`, `    file: ${JSON.stringify(storedPath(remoteDir, c))}`);
  }
  return lines.join('\n') + '\n';
}

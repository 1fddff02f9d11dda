// The `files` input: newline globs relative to working-directory for what compose cannot see
// (scripts for hooks, certificates nginx reads). Matched with minimatch against the directory's
// files and directories (`.git` skipped); a matched directory goes whole.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Minimatch } from 'minimatch';

/** Every path under `dir` (relative, `/`-separated), directories included; `.git` is skipped. */
export function listTree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...listTree(dir, rel));
  }
  return out;
}

export interface FilesMatch {
  /** each matched path with the entry that matched it */
  paths: { path: string; glob: string }[];
  /** entries that match nothing, or reach outside */
  errors: string[];
}

/** The paths each glob matches among `tree`; an entry that matches nothing is an error. */
export function matchFiles(globs: string[], tree: string[]): FilesMatch {
  const result: FilesMatch = { paths: [], errors: [] };
  for (const glob of globs) {
    const pattern = glob.replace(/^\.\//, '').replace(/\/+$/, '');
    if (pattern.startsWith('/') || pattern.split('/').includes('..')) {
      result.errors.push(`${glob}: not a path inside working-directory`);
      continue;
    }
    const mm = new Minimatch(pattern, { dot: true });
    const hits = tree.filter((p) => mm.match(p));
    if (hits.length === 0) result.errors.push(`${glob}: matches nothing in working-directory`);
    result.paths.push(...hits.map((path) => ({ path, glob })));
  }
  return result;
}

// How the step names what it scanned: in the summary and log, as a SARIF category, and as the
// repository path Trivy's file names are relative to.
import { statSync } from 'node:fs';
import { basename, dirname, posix, relative, sep } from 'node:path';
import type { ScanTarget } from './category.js';
import type { TrivyTarget } from './command.js';
import type { Finding } from './finding.js';

/** `path` relative to the workspace with `/` separators, `.` for the workspace itself; absolute when outside it. */
export function workspacePath(path: string, workspace: string): string {
  const rel = relative(workspace, path).split(sep).join('/');
  if (rel === '') return '.';
  return rel === '..' || rel.startsWith('../') || posix.isAbsolute(rel) ? path : rel;
}

/**
 * The repository path that Trivy's file names (relative to the directory it scanned) need in front
 * of them: `dir` relative to the workspace, `''` for the workspace itself or a directory outside it.
 */
export function repoPrefix(dir: string, workspace: string): string {
  const rel = workspacePath(dir, workspace);
  return rel === '.' || rel === dir ? '' : rel;
}

/**
 * The repository path Trivy's file names need in front of them for this target: the directory an fs
 * or config scan read (a file's directory), `''` for images.
 */
export function targetRepoPrefix(target: TrivyTarget, workspace: string): string {
  if (target.kind !== 'fs' && target.kind !== 'config') return '';
  return repoPrefix(statSync(target.path).isDirectory() ? target.path : dirname(target.path), workspace);
}

/** What the SARIF category and the file names are derived from. */
export function categoryTarget(
  target: TrivyTarget,
  workspace: string,
  repoTags: readonly string[] | null | undefined,
): ScanTarget {
  switch (target.kind) {
    case 'image':
      return { kind: 'image', ref: target.ref };
    case 'archive':
      // `docker save` archives name their image; an OCI layout may not.
      return {
        kind: 'image',
        ref: repoTags?.[0] ?? basename(target.path).replace(/\.(tar|tar\.gz|tgz|oci)$/i, ''),
      };
    case 'fs':
    case 'config':
      return { kind: target.kind, path: workspacePath(target.path, workspace) };
  }
}

/** The summary's title and the scan's log group: the image reference, the archive, `fs <path>`. */
export function describeTarget(target: TrivyTarget, workspace: string): string {
  switch (target.kind) {
    case 'image':
      return target.ref;
    case 'archive':
      return workspacePath(target.path, workspace);
    case 'fs':
    case 'config':
      return `${target.kind} ${workspacePath(target.path, workspace)}`;
  }
}

/** How the target was read and for what, for the summary's last lines. */
export function describeSource(target: TrivyTarget, scanners: readonly string[]): string {
  const what = `scanners ${scanners.join(', ')}`;
  switch (target.kind) {
    case 'image':
      return `image read from ${target.source === 'docker' ? 'the local Docker engine' : 'its registry'} · ${what}`;
    case 'archive':
      return `image read from the archive · ${what}`;
    case 'fs':
      return `files · ${what}`;
    case 'config':
      return 'files · scanner misconfig';
  }
}

/**
 * Whether an annotation may point at the finding's file: audit findings and what fs and config scans
 * find in files are in the repository; what an image scan finds is in the image.
 */
export function inRepository(target: TrivyTarget): (finding: Finding) => boolean {
  const files = target.kind === 'fs' || target.kind === 'config';
  return (f) => f.kind === 'audit' || (files && f.kind !== 'vuln');
}

/** The audit rules' documentation in the action's own repository, when the runner says which it is. */
export function docsUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const repo = env.GITHUB_ACTION_REPOSITORY;
  const ref = env.GITHUB_ACTION_REF;
  if (!repo || !ref) return undefined;
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  return `${server}/${repo}/blob/${ref}/actions/scan/README.md#compose-audit`;
}

/**
 * Findings with their file as a repository path: Trivy names files relative to the directory it
 * scanned, code scanning and annotations want them relative to the repository root. `prefix` is the
 * scanned directory's path in the repository (`''` for the root). Vulnerabilities are left alone.
 */
export function withRepoPaths(findings: readonly Finding[], prefix: string): Finding[] {
  if (prefix === '' || prefix === '.') return [...findings];
  return findings.map((f) =>
    f.kind === 'vuln' || f.file === undefined ? f : { ...f, file: posix.join(prefix, f.file) },
  );
}

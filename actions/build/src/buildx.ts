// The `docker buildx build` command line, built from typed inputs by pure functions.
import { repositoryUrl, type GitHubContext } from '../../../lib/action/github.js';
import { cacheArgs, type CacheSettings } from './cache.js';
import type { Inputs } from './inputs.js';

/** OCI labels every image gets, so it can be traced to its source; user labels override them. */
export function ociLabels(
  ctx: GitHubContext,
  image: string,
  version: string,
  created: Date,
): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': image.split('/').pop()!,
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.created': created.toISOString(),
  };
  if (ctx.repository) labels['org.opencontainers.image.source'] = repositoryUrl(ctx);
  const revision = ctx.headSha ?? ctx.sha;
  if (revision) labels['org.opencontainers.image.revision'] = revision;
  return labels;
}

export function mergeLabels(oci: Record<string, string>, user: string[]): Record<string, string> {
  const merged = { ...oci };
  for (const item of user) {
    const eq = item.indexOf('=');
    merged[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return merged;
}

export interface BuildPlan {
  /** full references, image:tag */
  refs: string[];
  labels: Record<string, string>;
  metadataFile: string;
  /** secret id -> path of a 0600 file holding it */
  secretFiles: Record<string, string>;
  cache: CacheSettings;
}

/**
 * Arguments after `docker`. The image is always loaded into the local store and pushed only after
 * the size and user checks pass, so a failing image never reaches the registry.
 */
export function buildxArgs(inputs: Inputs, plan: BuildPlan): string[] {
  const args = [
    'buildx',
    'build',
    '--progress',
    'plain',
    '--file',
    inputs.file,
    '--metadata-file',
    plan.metadataFile,
  ];
  if (inputs.target) args.push('--target', inputs.target);
  if (inputs.platforms.length > 0) args.push('--platform', inputs.platforms.join(','));
  for (const arg of inputs['build-args']) args.push('--build-arg', arg);
  for (const [key, value] of Object.entries(plan.labels)) args.push('--label', `${key}=${value}`);
  for (const ref of plan.refs) args.push('--tag', ref);
  for (const [id, path] of Object.entries(plan.secretFiles)) args.push('--secret', `id=${id},src=${path}`);
  args.push(...cacheArgs(plan.cache));
  // `--`: the context is an absolute path, and nothing in that position is ever read as an option.
  args.push('--load', '--', inputs.context);
  return args;
}

/** What buildx writes to --metadata-file that the action reads. */
export interface BuildMetadata {
  'containerimage.digest'?: string;
  'containerimage.config.digest'?: string;
  'containerimage.descriptor'?: { digest: string; size: number; mediaType: string };
  'buildx.build.ref'?: string;
  'image.name'?: string;
}

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
  /** the buildx builder to run on; undefined: buildx's current one */
  builder?: string;
  /** full references, image:tag (tagged here only when the image is loaded, not pushed) */
  refs: string[];
  labels: Record<string, string>;
  metadataFile: string;
  /** secret id -> path of a 0600 file holding it */
  secretFiles: Record<string, string>;
  cache: CacheSettings;
  /** provenance's builder id: the workflow (or run) that built the image */
  builderId?: string;
}

/**
 * Where the image goes: pushed by digest (no tag yet), or loaded into the engine under its tags. (A
 * second, docker exporter beside the push would make buildx report that exporter's digest, not the
 * pushed one: a pushed image the step also loads is pulled back by digest instead.)
 */
export function outputArgs(inputs: Pick<Inputs, 'image' | 'push'>, refs: string[]): string[] {
  if (inputs.push === 'false') return ['--load', ...refs.flatMap((ref) => ['--tag', ref])];
  return ['--output', `type=image,name=${inputs.image},push-by-digest=true,name-canonical=true,push=true`];
}

/** Provenance and SBOM attestations; explicitly off when nothing is pushed. */
export function attestationArgs(
  inputs: Pick<Inputs, 'provenance' | 'sbom' | 'sbom-generator'>,
  builderId: string | undefined,
): string[] {
  const provenance =
    inputs.provenance === 'false'
      ? 'false'
      : // SLSA v0.2, what `cosign attest/verify-attestation --type slsaprovenance` reads (BuildKit
        // 0.34 writes v1 unless asked; older BuildKit ignores the key).
        `mode=${inputs.provenance},version=v0.2${builderId ? `,builder-id=${builderId}` : ''}`;
  const sbom = !inputs.sbom
    ? 'false'
    : inputs['sbom-generator']
      ? `generator=${inputs['sbom-generator']}`
      : 'true';
  return ['--provenance', provenance, '--sbom', sbom];
}

/**
 * Arguments after `docker`. A pushed image goes to the registry by digest only: its tags are added
 * after the size and user checks pass, so a refused image leaves no tag behind.
 */
export function buildxArgs(inputs: Inputs, plan: BuildPlan): string[] {
  const args = [
    'buildx',
    'build',
    ...(plan.builder ? ['--builder', plan.builder] : []),
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
  for (const [id, path] of Object.entries(plan.secretFiles)) args.push('--secret', `id=${id},src=${path}`);
  args.push(...cacheArgs(plan.cache));
  args.push(...attestationArgs(inputs, plan.builderId));
  args.push(...outputArgs(inputs, plan.refs));
  // `--`: the context is an absolute path, and nothing in that position is ever read as an option.
  args.push('--', inputs.context);
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

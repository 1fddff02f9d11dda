// BuildKit's provenance of a pushed image, as `cosign attest --type slsaprovenance --predicate FILE`
// takes it: the SLSA v0.2 predicate(s) `docker buildx imagetools inspect --format '{{json .Provenance}}'`
// prints (one `{SLSA}` for a single-platform image, a map of platform to `{SLSA}` for an index), with
// the GitHub Actions facts of the build added to `invocation.environment` as `github_*` where BuildKit
// left them out. cosign's slsaprovenance type keeps `invocation.environment` and `builder` but drops
// BuildKit's own metadata key (its `vcs` source and revision), so without these a verified attestation
// could not say which repository, workflow and commit built the image (provenance.ts reads them).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../action/exec.js';

type Predicate = Record<string, unknown>;

const object = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/**
 * The SLSA predicates in imagetools' `.Provenance` JSON, by platform (`''` for a single-platform
 * image). Throws when there is none: the image was pushed without provenance.
 */
export function provenancePredicates(json: string): Record<string, Predicate> {
  const parsed = object(JSON.parse(json === '' ? 'null' : json));
  const single = object(parsed?.['SLSA']);
  if (single) return { '': single };
  const byPlatform: Record<string, Predicate> = {};
  for (const [platform, stub] of Object.entries(parsed ?? {})) {
    const slsa = object(object(stub)?.['SLSA']);
    if (slsa) byPlatform[platform] = slsa;
  }
  if (Object.keys(byPlatform).length === 0) {
    throw new Error('the image has no provenance attestation (build it with --provenance)');
  }
  return byPlatform;
}

/** The build's GitHub Actions facts, from the runner's variables, under BuildKit's `github_*` names. */
export function githubFacts(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const facts: Record<string, string> = {};
  const names: [string, string][] = [
    ['github_repository', 'GITHUB_REPOSITORY'],
    ['github_workflow_ref', 'GITHUB_WORKFLOW_REF'],
    ['github_sha', 'GITHUB_SHA'],
    ['github_ref', 'GITHUB_REF'],
    ['github_run_id', 'GITHUB_RUN_ID'],
    ['github_run_attempt', 'GITHUB_RUN_ATTEMPT'],
    ['github_server_url', 'GITHUB_SERVER_URL'],
  ];
  for (const [key, variable] of names) if (env[variable]) facts[key] = env[variable];
  return facts;
}

/** A copy of the predicate whose `invocation.environment` has `facts` where it lacks them. */
export function withGitHubFacts(predicate: Predicate, facts: Record<string, string>): Predicate {
  const copy = structuredClone(predicate);
  const invocation = object(copy['invocation']) ?? {};
  const environment = object(invocation['environment']) ?? {};
  copy['invocation'] = { ...invocation, environment: { ...facts, ...environment } };
  return copy;
}

/**
 * BuildKit's provenance predicates of the pushed `ref` (by platform, `''` for one), with `facts`
 * (default: this runner's GitHub variables) added, each written to `dir` as a predicate file for
 * `cosign attest --type slsaprovenance`. Returns the files by platform.
 */
export async function writeProvenancePredicates(
  ref: string,
  dir: string,
  facts: Record<string, string> = githubFacts(),
): Promise<Record<string, string>> {
  const { stdout } = await run(
    'docker',
    ['buildx', 'imagetools', 'inspect', '--format', '{{json .Provenance}}', ref],
    {
      silent: true,
    },
  );
  const files: Record<string, string> = {};
  for (const [platform, predicate] of Object.entries(provenancePredicates(stdout.trim()))) {
    const file = join(dir, `provenance${platform ? `-${platform.replace(/[^A-Za-z0-9]+/g, '-')}` : ''}.json`);
    writeFileSync(file, JSON.stringify(withGitHubFacts(predicate, facts)));
    files[platform] = file;
  }
  return files;
}

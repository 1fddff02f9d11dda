// What `cosign verify-attestation` printed, read as untrusted data: one DSSE envelope a line, its payload
// an in-toto statement whose subject must be the verified digest and whose predicate is SLSA provenance
// as BuildKit writes it (v0.2: `invocation.environment.github_*`, the BuildKit metadata's `vcs`, and
// `builder.id`; v1: `buildDefinition.externalParameters` / `internalParameters`, `runDetails.builder`).
// Who built the image (repository, workflow, commit) comes from there, and every value must look like
// what it claims to be or it is left out: a predicate is signed by whoever holds the key, no more.

/** Who built an image, each value validated; absent when the provenance does not say (or says nonsense). */
export interface BuiltBy {
  /** `owner/name` on the source host, or the source's URL */
  repository?: string;
  /** `owner/name/.github/workflows/file.yml@ref`, or the run's URL */
  workflow?: string;
  /** the commit (40 or 64 hex digits) */
  commit?: string;
}

export interface Statement {
  predicateType: string;
  subjectDigests: string[];
  predicate: Record<string, unknown>;
}

const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\/[A-Za-z0-9_.-]{1,100}$/;
const WORKFLOW_REF =
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\/[A-Za-z0-9_.-]{1,100}\/\.github\/workflows\/[A-Za-z0-9_.-]{1,200}\.ya?ml@refs\/[A-Za-z0-9_./-]{1,250}$/;
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** https URLs of a plain shape only: host, a path of safe characters, no query, credentials or spaces. */
const URL_SHAPE = /^https:\/\/[A-Za-z0-9.-]{1,253}(?::\d{1,5})?(?:\/[A-Za-z0-9_.~%+-]{1,200}){0,12}\/?$/;

const object = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const matching = (value: unknown, pattern: RegExp): string | undefined => {
  const s = text(value);
  return s !== undefined && pattern.test(s) ? s : undefined;
};

/**
 * The in-toto statements in cosign's output (one DSSE envelope a line). Lines that are not envelopes
 * of in-toto statements are skipped; what is returned still has to be checked against the digest.
 */
export function parseAttestations(stdout: string): Statement[] {
  const statements: Statement[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let envelope: Record<string, unknown> | undefined;
    let statement: Record<string, unknown> | undefined;
    try {
      envelope = object(JSON.parse(line));
      if (envelope?.['payloadType'] !== 'application/vnd.in-toto+json') continue;
      const payload = Buffer.from(text(envelope['payload']) ?? '', 'base64').toString('utf8');
      statement = object(JSON.parse(payload));
    } catch {
      continue;
    }
    const predicateType = text(statement?.['predicateType']);
    const predicate = object(statement?.['predicate']);
    const subjects = Array.isArray(statement?.['subject']) ? (statement['subject'] as unknown[]) : [];
    if (predicateType === undefined || predicate === undefined) continue;
    const subjectDigests = subjects
      .map((s) => matching(object(object(s)?.['digest'])?.['sha256'], /^[0-9a-f]{64}$/))
      .filter((d): d is string => d !== undefined)
      .map((d) => `sha256:${d}`);
    statements.push({ predicateType, subjectDigests, predicate });
  }
  return statements;
}

/** `owner/name` from a source URL such as https://github.com/owner/name(.git), or the URL itself. */
function repositoryFromUrl(url: string | undefined): string | undefined {
  if (url === undefined || !URL_SHAPE.test(url)) return undefined;
  const match = /^https:\/\/github\.com\/([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(url);
  return match && REPOSITORY.test(match[1]!) ? match[1] : url.replace(/\.git$/, '');
}

/** `owner/name` of a GitHub Actions run URL (https://github.com/owner/name/actions/runs/N). */
function runUrlRepository(url: string | undefined): string | undefined {
  const match =
    url === undefined ? null : /^https:\/\/github\.com\/([^/]+\/[^/]+)\/actions\/runs\/\d+/.exec(url);
  return match && REPOSITORY.test(match[1]!) ? match[1] : undefined;
}

/** Who built the image, from a SLSA provenance predicate (v0.2 or v1) as BuildKit writes it. */
export function builtBy(predicate: Record<string, unknown>): BuiltBy {
  const invocation = object(predicate['invocation']);
  const definition = object(predicate['buildDefinition']);
  const env = {
    ...object(object(definition?.['internalParameters'])?.['github']),
    ...object(invocation?.['environment']),
  };
  const metadata = object(predicate['metadata']);
  const vcs = object(object(metadata?.['https://mobyproject.org/buildkit@v1#metadata'])?.['vcs']);
  const builder = object(predicate['builder']) ?? object(object(predicate['runDetails'])?.['builder']);
  const runUrl = matching(builder?.['id'], URL_SHAPE);
  const repository =
    matching(env['github_repository'], REPOSITORY) ??
    repositoryFromUrl(text(vcs?.['source'])) ??
    runUrlRepository(runUrl);
  const workflow = matching(env['github_workflow_ref'], WORKFLOW_REF) ?? runUrl;
  const commit = matching(env['github_sha'], COMMIT) ?? matching(vcs?.['revision'], COMMIT);
  return {
    ...(repository !== undefined ? { repository } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...(commit !== undefined ? { commit } : {}),
  };
}

/** One line for the summary: `acme/shop, workflow ..., commit 0123abc...`, or a note that nothing is known. */
export function builtByText(b: BuiltBy): string {
  const parts = [
    b.repository !== undefined ? `\`${b.repository}\`` : undefined,
    b.workflow !== undefined ? `workflow \`${b.workflow}\`` : undefined,
    b.commit !== undefined ? `commit \`${b.commit}\`` : undefined,
  ].filter((p) => p !== undefined);
  return parts.length ? parts.join(', ') : 'the verified provenance names no repository, workflow or commit';
}

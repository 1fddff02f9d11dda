// Tags from the git context, the way docker/metadata-action's defaults do it, so every tag can be
// traced back to a commit: branch pushes get `sha-<7>` and the sanitized branch (plus `latest` on
// the default branch), `v1.2.3` tags get `1.2.3`, `1.2`, `1`, pull requests get `pr-<n>`.
import type { GitHubContext } from '../../../lib/action/github.js';

const MAX_TAG = 128;

/** A valid docker tag from any ref name: lower-cased, invalid runs to `-`, at most 128 chars. */
export function sanitizeTag(name: string): string {
  let tag = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  tag = tag.replace(/^[.-]+/, ''); // a tag must start with [a-z0-9_]
  return tag.slice(0, MAX_TAG).replace(/[-.]+$/, '');
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Tags for a semver git tag; prereleases get only their full version, and major 0 gets no `0`. */
export function semverTags(gitTag: string): string[] | undefined {
  const m = SEMVER.exec(gitTag);
  if (!m) return undefined;
  const [, major, minor, patch, pre] = m;
  const version = `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}`;
  if (pre) return [sanitizeTag(version)];
  const tags = [version, `${major}.${minor}`];
  if (major !== '0') tags.push(major!);
  return tags;
}

export interface ComputedTags {
  tags: string[];
  /** the most specific tag, used for the OCI version label */
  version: string;
}

export function computeTags(ctx: GitHubContext): ComputedTags {
  const sha = (ctx.headSha ?? ctx.sha).slice(0, 7);
  const shaTag = sha ? `sha-${sha}` : undefined;
  const tags: string[] = [];
  let version: string | undefined;

  if (ctx.pullRequest !== undefined) {
    version = `pr-${ctx.pullRequest}`;
    tags.push(version);
  } else if (ctx.ref.startsWith('refs/tags/')) {
    const gitTag = ctx.ref.slice('refs/tags/'.length);
    const semver = semverTags(gitTag);
    tags.push(...(semver ?? [sanitizeTag(gitTag)]));
    version = tags[0];
  } else if (ctx.ref.startsWith('refs/heads/')) {
    const branch = ctx.ref.slice('refs/heads/'.length);
    version = sanitizeTag(branch);
    tags.push(version);
    if (ctx.defaultBranch !== undefined && branch === ctx.defaultBranch) tags.push('latest');
  }
  if (shaTag) tags.push(shaTag);
  if (tags.length === 0)
    throw new Error(
      `cannot compute tags from ref "${ctx.ref}" (event ${ctx.eventName}): set the "tags" input`,
    );
  return { tags: [...new Set(tags.filter(Boolean))], version: version ?? tags[0]! };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubFacts, provenancePredicates, withGitHubFacts } from './buildkit-provenance.js';
import { builtBy } from './provenance.js';

const slsa = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/cosign/buildkit-provenance-v02.json'), 'utf8'),
) as Record<string, unknown>;

describe('provenancePredicates', () => {
  it("reads a single-platform image's {SLSA} and an index's map of platforms", () => {
    expect(provenancePredicates(JSON.stringify({ SLSA: slsa }))).toEqual({ '': slsa });
    expect(
      provenancePredicates(
        JSON.stringify({ 'linux/amd64': { SLSA: slsa }, 'linux/arm64': { SLSA: { a: 1 } } }),
      ),
    ).toEqual({ 'linux/amd64': slsa, 'linux/arm64': { a: 1 } });
  });

  it('says when the image has no provenance', () => {
    for (const json of ['', 'null', '{}', '{"linux/amd64":{}}'])
      expect(() => provenancePredicates(json), json).toThrow(/has no provenance attestation/);
  });
});

describe('GitHub facts', () => {
  const env = {
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_WORKFLOW_REF: 'acme/shop/.github/workflows/build.yml@refs/heads/main',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_RUN_ID: '42',
    HOME: '/root',
  };

  it("takes the runner's GITHUB_* variables under BuildKit's names", () => {
    expect(githubFacts(env)).toEqual({
      github_repository: 'acme/shop',
      github_workflow_ref: 'acme/shop/.github/workflows/build.yml@refs/heads/main',
      github_sha: 'a'.repeat(40),
      github_run_id: '42',
    });
    expect(githubFacts({})).toEqual({});
  });

  it('adds them to invocation.environment where BuildKit left them out, on a copy', () => {
    const before = JSON.stringify(slsa);
    const p = withGitHubFacts(slsa, { ...githubFacts(env), platform: 'not/this' });
    expect(JSON.stringify(slsa)).toBe(before);
    expect((p['invocation'] as { environment: Record<string, string> }).environment).toMatchObject({
      platform: 'linux/amd64',
      github_repository: 'acme/shop',
    });
    expect(builtBy(p)).toEqual({
      repository: 'acme/shop',
      workflow: 'acme/shop/.github/workflows/build.yml@refs/heads/main',
      commit: 'a'.repeat(40),
    });
    expect(withGitHubFacts({}, { github_sha: 'x' })).toEqual({
      invocation: { environment: { github_sha: 'x' } },
    });
  });
});

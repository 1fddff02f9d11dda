import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtBy, builtByText, parseAttestations } from './provenance.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures/cosign');
const buildkit = JSON.parse(readFileSync(join(fixtures, 'buildkit-provenance-v02.json'), 'utf8')) as Record<
  string,
  unknown
>;
const verified = readFileSync(join(fixtures, 'verify-attestation-slsaprovenance.jsonl'), 'utf8');
const sha = '17d1440a549598450436fa586f6f257792461882';

const envelope = (statement: unknown): string =>
  JSON.stringify({
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    signatures: [{ keyid: '', sig: 'x' }],
  });

describe('parseAttestations', () => {
  it("reads cosign's real verify-attestation output: the statement, its subject digest and predicate", () => {
    const [s, ...rest] = parseAttestations(verified);
    expect(rest).toEqual([]);
    expect(s!.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    expect(s!.subjectDigests).toEqual([
      'sha256:6b3e9ed782d883e7794670755952467b43771eab54ab41d5bbae141b61d2e091',
    ]);
    expect(builtBy(s!.predicate)).toEqual({
      repository: 'acme/shop',
      workflow: 'acme/shop/.github/workflows/build.yml@refs/heads/main',
      commit: sha,
    });
  });

  it('skips lines that are not in-toto envelopes, bad base64 or JSON, and statements without a predicate', () => {
    const text = [
      'Verification for x --',
      '{"payloadType":"text/plain","payload":"e30="}',
      '{"payloadType":"application/vnd.in-toto+json","payload":"!!!"}',
      envelope({ predicateType: 'p', subject: [] }),
      envelope({ predicateType: 'p', predicate: [1], subject: [] }),
      '{not json',
      envelope({ predicateType: 'p', predicate: {}, subject: [{ digest: { sha256: 'zz' } }, 'x', null] }),
    ].join('\n');
    expect(parseAttestations(text)).toEqual([{ predicateType: 'p', subjectDigests: [], predicate: {} }]);
  });
});

describe('builtBy', () => {
  it("reads BuildKit's own v0.2 predicate: the vcs source and revision of its metadata", () => {
    expect(builtBy(buildkit)).toEqual({ repository: 'acme/shop', commit: sha });
  });

  it('takes the workflow run from builder.id when there is no workflow ref, and its repository', () => {
    const run = 'https://github.com/acme/shop/actions/runs/42';
    expect(builtBy({ builder: { id: run } })).toEqual({ repository: 'acme/shop', workflow: run });
  });

  it('prefers invocation.environment.github_* to the metadata', () => {
    const p = structuredClone(buildkit) as { invocation: { environment: Record<string, string> } };
    p.invocation.environment.github_repository = 'other/repo';
    p.invocation.environment.github_sha = 'f'.repeat(40);
    p.invocation.environment.github_workflow_ref = 'other/repo/.github/workflows/ci.yaml@refs/tags/v1';
    expect(builtBy(p)).toEqual({
      repository: 'other/repo',
      workflow: 'other/repo/.github/workflows/ci.yaml@refs/tags/v1',
      commit: 'f'.repeat(40),
    });
  });

  it('reads a v1 predicate (internalParameters.github, runDetails.builder)', () => {
    const p = {
      buildDefinition: {
        internalParameters: { github: { github_repository: 'acme/shop', github_sha: sha } },
      },
      runDetails: { builder: { id: 'https://github.com/acme/shop/actions/runs/7' } },
    };
    expect(builtBy(p)).toEqual({
      repository: 'acme/shop',
      workflow: 'https://github.com/acme/shop/actions/runs/7',
      commit: sha,
    });
  });

  it('leaves out every value that is not what it claims to be', () => {
    const hostile = {
      invocation: {
        environment: {
          github_repository: 'acme/shop\n::error::pwned',
          github_workflow_ref: 'acme/shop/.github/workflows/x.yml@refs/heads/main`|<img>',
          github_sha: 'not-a-sha',
        },
      },
      builder: { id: 'javascript:alert(1)' },
      metadata: {
        'https://mobyproject.org/buildkit@v1#metadata': {
          vcs: { source: 'https://user:pw@github.com/acme/shop.git', revision: 42 },
        },
      },
    };
    expect(builtBy(hostile)).toEqual({});
    expect(builtBy({ invocation: { environment: { github_repository: ['a/b'] } }, builder: 'x' })).toEqual(
      {},
    );
    expect(builtByText({})).toBe('the verified provenance names no repository, workflow or commit');
  });

  it('keeps a non-GitHub source URL of a plain shape as it is', () => {
    const p = {
      metadata: {
        'https://mobyproject.org/buildkit@v1#metadata': {
          vcs: { source: 'https://git.example.com/team/app.git' },
        },
      },
    };
    expect(builtBy(p)).toEqual({ repository: 'https://git.example.com/team/app' });
  });

  it('says who built it in one line of inline code', () => {
    expect(builtByText({ repository: 'acme/shop', workflow: 'w', commit: sha })).toBe(
      `\`acme/shop\`, workflow \`w\`, commit \`${sha}\``,
    );
  });
});

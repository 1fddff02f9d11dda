import { describe, expect, it } from 'vitest';
import { contextFromEnv } from '../../../lib/action/github.js';
import { computeTags, sanitizeTag, semverTags } from './tags.js';

const SHA = '8f3a2b1c9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70';
const repo = { default_branch: 'main', full_name: 'acme/shop' };

function ctx(eventName: string, ref: string, payload: object) {
  return contextFromEnv(
    { GITHUB_EVENT_NAME: eventName, GITHUB_REF: ref, GITHUB_SHA: SHA },
    JSON.stringify(payload),
  );
}

describe('computeTags', () => {
  it('push to the default branch: branch, latest and sha', () => {
    expect(computeTags(ctx('push', 'refs/heads/main', { ref: 'refs/heads/main', repository: repo }))).toEqual(
      {
        tags: ['main', 'latest', 'sha-8f3a2b1'],
        version: 'main',
      },
    );
  });

  it('push to a feature branch: sanitized branch and sha, no latest', () => {
    const r = computeTags(
      ctx('push', 'refs/heads/feature/Foo', { ref: 'refs/heads/feature/Foo', repository: repo }),
    );
    expect(r.tags).toEqual(['feature-foo', 'sha-8f3a2b1']);
  });

  it('workflow_dispatch and schedule on a branch behave like a push', () => {
    expect(computeTags(ctx('workflow_dispatch', 'refs/heads/main', { repository: repo })).tags).toContain(
      'latest',
    );
    expect(computeTags(ctx('schedule', 'refs/heads/main', {})).tags).toEqual(['main', 'sha-8f3a2b1']);
  });

  it('a v1.2.3 tag: 1.2.3, 1.2, 1', () => {
    const r = computeTags(ctx('push', 'refs/tags/v1.2.3', { ref: 'refs/tags/v1.2.3', repository: repo }));
    expect(r).toEqual({ tags: ['1.2.3', '1.2', '1', 'sha-8f3a2b1'], version: '1.2.3' });
  });

  it('a prerelease tag gets only its full version', () => {
    expect(computeTags(ctx('push', 'refs/tags/v2.0.0-rc.1', { repository: repo })).tags).toEqual([
      '2.0.0-rc.1',
      'sha-8f3a2b1',
    ]);
  });

  it('a non-semver tag is sanitized', () => {
    expect(computeTags(ctx('push', 'refs/tags/Release_2024/Q1', { repository: repo })).tags[0]).toBe(
      'release_2024-q1',
    );
  });

  it('a pull request: pr-<n> and the head commit, not the merge commit', () => {
    const payload = {
      number: 42,
      pull_request: { number: 42, head: { sha: 'abcdef0123456789' } },
      repository: repo,
    };
    expect(computeTags(ctx('pull_request', 'refs/pull/42/merge', payload))).toEqual({
      tags: ['pr-42', 'sha-abcdef0'],
      version: 'pr-42',
    });
  });

  it('an unknown ref with no sha cannot be tagged and says to set tags', () => {
    expect(() => computeTags(contextFromEnv({ GITHUB_REF: 'refs/notes/x' }, '{}'))).toThrow(
      /set the "tags" input/,
    );
  });
});

describe('sanitizeTag', () => {
  it('replaces invalid runs, trims leading separators and caps at 128 characters', () => {
    expect(sanitizeTag('Feature//Ünïcode  name')).toBe('feature-n-code-name');
    expect(sanitizeTag('-.lead')).toBe('lead');
    expect(sanitizeTag('x'.repeat(200))).toHaveLength(128);
  });
});

describe('semverTags', () => {
  it('skips the major tag for 0.x and rejects non-semver', () => {
    expect(semverTags('v0.4.1')).toEqual(['0.4.1', '0.4']);
    expect(semverTags('1.2')).toBeUndefined();
    expect(semverTags('v1.2.3+build.5')).toEqual(['1.2.3', '1.2', '1']);
  });
});

import { describe, expect, it } from 'vitest';
import { parseReleaseInput } from './mode.js';

describe('parseReleaseInput', () => {
  it('takes an id or previous with mode rollback', () => {
    expect(parseReleaseInput('rollback', ' previous ')).toBe('previous');
    expect(parseReleaseInput('rollback', '20260101T120000Z-0123abc-1a2b')).toBe(
      '20260101T120000Z-0123abc-1a2b',
    );
  });

  it('refuses a malformed id, naming the input', () => {
    for (const bad of [
      '../x',
      '20260101T120000Z-0123abc-1a2b/..',
      'latest',
      '20260101T120000Z-0123abc-1a2b\n',
    ]) {
      expect(() => parseReleaseInput('rollback', `${bad}x`)).toThrow(
        /^Input "release": .* is not a release id/,
      );
    }
  });

  it('is required with mode rollback, and refused with the other modes', () => {
    expect(() => parseReleaseInput('rollback', '')).toThrow(
      /^Input "release": is required with mode rollback/,
    );
    expect(() => parseReleaseInput('deploy', 'previous')).toThrow(
      /^Input "release": is only used with mode rollback/,
    );
    expect(parseReleaseInput('status', '')).toBeUndefined();
  });
});

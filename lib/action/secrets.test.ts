import { describe, expect, it } from 'vitest';
import { maskSecret } from './secrets.js';
import { maskedValues } from './testing.js';

const masked = (value: string | undefined): string[] => maskedValues(() => maskSecret(value));

describe('maskSecret', () => {
  it('masks a one-line value once', () => {
    expect(masked('s3cret')).toEqual(['s3cret']);
  });

  it('masks a multi-line value whole and each non-empty line, trimmed', () => {
    const key = '-----BEGIN KEY-----\r\n  MIIEvQIBADANBgkq  \n\nhkiG9w0BAQEFAASC\n-----END KEY-----\n';
    expect(masked(key)).toEqual([
      key,
      '-----BEGIN KEY-----',
      'MIIEvQIBADANBgkq',
      'hkiG9w0BAQEFAASC',
      '-----END KEY-----',
    ]);
  });

  it("leaves out lines without a letter or digit (a JSON key file's braces)", () => {
    const json = '{\n  "private_key": "k3y"\n}';
    expect(masked(json)).toEqual([json, '"private_key": "k3y"']);
  });

  it('ignores empty values', () => {
    expect(masked('')).toEqual([]);
    expect(masked(undefined)).toEqual([]);
  });
});

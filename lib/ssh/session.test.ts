import { describe, expect, it } from 'vitest';
import { sftpQuote } from './session.js';

describe('sftpQuote', () => {
  it('double-quotes a path, escaping backslashes and quotes; refuses line breaks', () => {
    expect(sftpQuote('/srv/b ackups/x')).toBe('"/srv/b ackups/x"');
    expect(sftpQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(() => sftpQuote('a\nb')).toThrow(/line break/);
  });
});

// oneLine: untrusted text in log lines cannot start a line of its own (a workflow command).
import { describe, expect, it } from 'vitest';
import { oneLine } from './untrusted.js';

describe('oneLine', () => {
  it('leaves ordinary text as it is', () => {
    expect(oneLine('ghcr.io/acme/api:1.2 — ok\tтекст ::notice:: inline')).toBe(
      'ghcr.io/acme/api:1.2 — ok\tтекст ::notice:: inline',
    );
  });

  it('turns line breaks into visible escapes, so no workflow command starts a line', () => {
    for (const command of [
      '::error::pwned',
      '::add-mask::x',
      '::stop-commands::tok',
      '::set-output name=a::b',
    ]) {
      for (const sep of ['\n', '\r\n', '\r', '\u2028', '\u2029', '\u0085']) {
        const line = oneLine(`x${sep}${command}`);
        expect(line.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/)).toEqual([line]);
        expect(line).toMatch(/^x\\/);
      }
    }
    expect(oneLine('a\nb\r\nc')).toBe('a\\nb\\r\\nc');
  });

  it('takes away a leading :: and every ##[ (the older syntax, obeyed anywhere in a line)', () => {
    expect(oneLine('::error::pwned')).toBe('\\u003a:error::pwned');
    expect(oneLine('  ::add-mask::x')).toBe('  \\u003a:add-mask::x');
    expect(oneLine('x\n::error::y')).toBe('x\\n::error::y');
    expect(oneLine('a ##[error]b ###[set-output name=x]c')).toBe(
      'a \\u0023#[error]b #\\u0023#[set-output name=x]c',
    );
    for (const text of ['##[add-mask]x', 'a###[error]b', ' ::warning::w', '\t::error::e']) {
      const line = oneLine(text);
      expect(line).not.toContain('##[');
      expect(line.trimStart().startsWith('::')).toBe(false);
    }
  });

  it('escapes other control characters (terminal escapes, NUL, DEL)', () => {
    expect(oneLine('\u001b[2Kred\u0000\u007f\u0008')).toBe('\\u001b[2Kred\\u0000\\u007f\\u0008');
  });
});

import { describe, expect, it } from 'vitest';
import { inlineCode, keyValueTable, markdownTable, tableCell } from './summary.js';

describe('tableCell', () => {
  it('escapes pipes and folds line breaks so a hostile value stays in its cell', () => {
    expect(tableCell('a|b\n  c\r\nd')).toBe('a\\|b c d');
    expect(tableCell(undefined)).toBe('');
    expect(tableCell(3)).toBe('3');
  });
});

describe('inlineCode', () => {
  it('replaces backticks and line breaks; empty text is no code span', () => {
    expect(inlineCode('a`b\nc')).toBe("`a'b c`");
    expect(inlineCode('')).toBe('');
  });
});

describe('markdownTable', () => {
  it('renders headers, the rule and rows, escaping every cell', () => {
    expect(markdownTable(['a', 'b'], [[inlineCode('x|y'), 'z\nw']])).toBe(
      '| a | b |\n| --- | --- |\n| `x\\|y` | z w |',
    );
  });
  it('keeps empty cells one space wide, as the key/value tables open', () => {
    expect(keyValueTable([['Status', 'ok']])).toBe('| | |\n| --- | --- |\n| Status | ok |');
  });
  it('cannot be broken into a new row or a workflow command by a value', () => {
    const table = markdownTable(['k'], [['x |\n::error::pwned']]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).not.toMatch(/^::/m);
  });
});

// Runs every quoted value through a real `sh -c` and compares the bytes the shell hands to printf.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './shell.js';

const run = promisify(execFile);
const marker = `/tmp/berth-shell-pwned-${randomBytes(6).toString('hex')}`;

/** Values that would run, expand, split or glob if they reached the shell unquoted. */
const HOSTILE_VALUES: readonly string[] = [
  `x; touch ${marker}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `$(id)`,
  '`id`',
  "'",
  '"',
  `a'b"c`,
  "''",
  `'; touch ${marker}; '`,
  '\n',
  `line1\ntouch ${marker}\n`,
  '\t',
  '  two  spaces  ',
  '*',
  '/*',
  '-rf',
  '--',
  '~',
  'A=b',
  '$HOME ${HOME} $1 $@',
  '\\',
  'back\\slash\\',
  '!!',
  '#not a comment',
  'ünïcødé ✓ 日本語 🚀',
  '',
];

async function shellOutput(command: string): Promise<Buffer> {
  const { stdout } = await run('sh', ['-c', command], { encoding: 'buffer' });
  return stdout;
}

afterAll(() => {
  expect(existsSync(marker)).toBe(false);
});

describe('shellQuote', () => {
  it.each(HOSTILE_VALUES.map((value) => [JSON.stringify(value), value]))(
    'round-trips %s through sh byte for byte',
    async (_label, value) => {
      const output = await shellOutput(`printf %s ${shellQuote(value)}`);
      expect(output.equals(Buffer.from(value))).toBe(true);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it('quotes the empty string as an empty word, not as nothing', async () => {
    expect(shellQuote('')).toBe("''");
    const output = await shellOutput(`printf '[%s]' ${shellQuote('')}`);
    expect(output.toString()).toBe('[]');
  });

  it('escapes single quotes the POSIX way', () => {
    expect(shellQuote(`a'b`)).toBe(`'a'\\''b'`);
    expect(shellQuote('plain')).toBe(`'plain'`);
  });

  it('refuses a NUL, which no command line can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('shellJoin', () => {
  it('keeps every value one word, in order', async () => {
    const output = await shellOutput(`printf '[%s]' ${shellJoin(HOSTILE_VALUES)}`);
    expect(output.toString()).toBe(HOSTILE_VALUES.map((value) => `[${value}]`).join(''));
    expect(existsSync(marker)).toBe(false);
  });

  it('joins nothing into an empty string', () => {
    expect(shellJoin([])).toBe('');
  });
});

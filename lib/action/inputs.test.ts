import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  InputError,
  formatBytes,
  getBooleanInput,
  getByteSizeInput,
  getDurationInput,
  getEnumInput,
  getKeyValueInput,
  getListInput,
  getString,
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseEnum,
  parseKeyValueLines,
  parseList,
} from './inputs.js';

/** How the runner passes input `name` to the action. */
function setInput(name: string, value: string): void {
  vi.stubEnv(`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parseBoolean', () => {
  it.each(['true', 'TRUE', 'Yes', 'YES', '1', 'on', ' On '])('reads %j as true', (value) => {
    expect(parseBoolean('push', value)).toBe(true);
  });

  it.each(['false', 'False', 'NO', '0', 'off'])('reads %j as false', (value) => {
    expect(parseBoolean('push', value)).toBe(false);
  });

  it('rejects anything else, naming the input and the value', () => {
    expect(() => parseBoolean('push', 'maybe')).toThrow(
      'Input "push": "maybe" is not a boolean (use true/false, yes/no, on/off or 1/0)',
    );
    expect(() => parseBoolean('push', '')).toThrow(InputError);
  });
});

describe('parseList', () => {
  it('splits on newlines and commas, trims, drops blanks and comment lines', () => {
    const value = 'web, worker\n\n  # the database is managed elsewhere\n  db  \nproxy,,\n';
    expect(parseList(value)).toEqual(['web', 'worker', 'db', 'proxy']);
  });

  it('keeps commas inside items when splitting on newlines only', () => {
    const value = 'type=gha,mode=max\r\ntype=registry,ref=r/cache\n# off: type=local\n';
    expect(parseList(value, { newlinesOnly: true })).toEqual([
      'type=gha,mode=max',
      'type=registry,ref=r/cache',
    ]);
  });

  it('returns [] for an empty or comment-only value', () => {
    expect(parseList('')).toEqual([]);
    expect(parseList('# nothing\n  \n')).toEqual([]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1h 30m 15s', 5_415_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
    ['1M', 60_000],
  ])('parses %j as %d ms', (value, ms) => {
    expect(parseDuration('timeout', value)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '-5s', '5m5m', '30s1h', '1h30', 'ms', '1.5', '5w'])(
    'rejects %j',
    (value) => {
      expect(() => parseDuration('timeout', value)).toThrow(
        `Input "timeout": ${JSON.stringify(value)} is not a duration (examples: 90, 500ms, 30s, 5m, 1h30m, 7d; a plain number is seconds)`,
      );
    },
  );
});

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1_048_576],
    ['0', 0],
    ['512B', 512],
    ['250MB', 250_000_000],
    ['250mb', 250_000_000],
    ['1KB', 1000],
    ['1 GB', 1_000_000_000],
    ['2TB', 2_000_000_000_000],
    ['1KiB', 1024],
    ['1.2GiB', Math.round(1.2 * 1024 ** 3)],
    ['3mib', 3 * 1024 ** 2],
    ['1TiB', 1024 ** 4],
    ['1.5KB', 1500],
  ])('parses %j as %d bytes', (value, bytes) => {
    expect(parseByteSize('max-size', value)).toBe(bytes);
  });

  it('names the input and gives examples', () => {
    expect(() => parseByteSize('max-size', '12XB')).toThrow(
      'Input "max-size": "12XB" is not a byte size (examples: 250MB, 1.2GiB, 1048576)',
    );
  });

  it.each(['', 'MB', '-1MB', '1.5', '1.5B', '1e6', '10 M', '1,5GB'])('rejects %j', (value) => {
    expect(() => parseByteSize('max-size', value)).toThrow(/^Input "max-size": .* is not a byte size/);
  });

  it('rejects sizes too large to count exactly', () => {
    expect(() => parseByteSize('max-size', '99999999TiB')).toThrow('Input "max-size"');
  });
});

describe('parseEnum', () => {
  const modes = ['compose', 'swarm'] as const;

  it('matches case-insensitively and returns the canonical spelling', () => {
    expect(parseEnum('mode', ' Swarm ', modes)).toBe('swarm');
    expectTypeOf(parseEnum('mode', 'compose', modes)).toEqualTypeOf<'compose' | 'swarm'>();
  });

  it('lists the allowed values', () => {
    expect(() => parseEnum('mode', 'k8s', modes)).toThrow(
      'Input "mode": "k8s" is not one of: compose, swarm',
    );
  });
});

describe('parseKeyValueLines', () => {
  it('reads KEY=VALUE lines, keeping "=" and spaces inside values verbatim', () => {
    const value = 'DB_URL=postgres://u:p@db/app?sslmode=require\n\n# comment\n  TOKEN=a=b= \nEMPTY=\r\n';
    expect(parseKeyValueLines('env', value)).toEqual({
      DB_URL: 'postgres://u:p@db/app?sslmode=require',
      TOKEN: 'a=b= ',
      EMPTY: '',
    });
  });

  it('allows label-style keys', () => {
    expect(parseKeyValueLines('labels', 'org.opencontainers.image.title=web\nx-team=ops')).toEqual({
      'org.opencontainers.image.title': 'web',
      'x-team': 'ops',
    });
  });

  it('rejects a line without "=" by number, without echoing it', () => {
    const run = () => parseKeyValueLines('secrets', 'A=1\n\nhunter2-is-my-password\n');
    expect(run).toThrow(
      'Input "secrets": line 3 is not KEY=VALUE or KEY<<DELIMITER (content not shown: it may be secret)',
    );
    expect(run).not.toThrow(/hunter2/);
  });

  it('rejects an invalid key without echoing it', () => {
    const run = () => parseKeyValueLines('secrets', 'c2VjcmV0+/x==');
    expect(run).toThrow(/^Input "secrets": line 1 has an invalid key/);
    expect(run).not.toThrow(/c2VjcmV0/);
  });

  it('rejects a key set twice', () => {
    expect(() => parseKeyValueLines('env', 'A=1\nB=2\nA=3')).toThrow(
      'Input "env": key A is set twice (lines 1 and 3)',
    );
  });

  it('reads multi-line values in heredoc form, as GitHub file commands write them', () => {
    const value = 'A=1\nTLS_KEY<<EOF\n-----BEGIN KEY-----\nabc=\n\n-----END KEY-----\nEOF\nB=2\n';
    expect(parseKeyValueLines('secrets', value)).toEqual({
      A: '1',
      TLS_KEY: '-----BEGIN KEY-----\nabc=\n\n-----END KEY-----',
      B: '2',
    });
  });

  it('rejects an unclosed heredoc without echoing the value', () => {
    const run = () => parseKeyValueLines('secrets', 'K<<END\nhunter2\n');
    expect(run).toThrow('Input "secrets": line 1: the value of K has no closing END line');
    expect(run).not.toThrow(/hunter2/);
  });

  it('stores __proto__ as a plain entry', () => {
    const pairs = parseKeyValueLines('env', '__proto__=x');
    expect(Object.keys(pairs)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(pairs)).toBe(Object.prototype);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [231_400_000, '231.4 MB'],
    [999_960, '1.0 MB'],
    [1.5e9, '1.5 GB'],
    [2e12, '2.0 TB'],
    [-2048, '-2.0 KB'],
  ])('formats %d as %j', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('getters', () => {
  it('getString: trims, and returns the default or undefined when empty', () => {
    setInput('registry', '  ghcr.io  ');
    expect(getString('registry')).toBe('ghcr.io');
    expect(getString('context')).toBeUndefined();
    expect(getString('context', { default: '.' })).toBe('.');
    expectTypeOf(() => getString('context')).returns.toEqualTypeOf<string | undefined>();
    expectTypeOf(() => getString('context', { default: '.' })).returns.toEqualTypeOf<string>();
    expectTypeOf(() => getString('context', { required: true })).returns.toEqualTypeOf<string>();
  });

  it('required inputs name themselves when missing', () => {
    expect(() => getString('host', { required: true })).toThrow('Input "host" is required but was not set');
    setInput('host', '   ');
    expect(() => getString('host', { required: true })).toThrow('Input "host" is required');
  });

  it('getBooleanInput', () => {
    setInput('push', 'yes');
    expect(getBooleanInput('push')).toBe(true);
    expect(getBooleanInput('load', { default: false })).toBe(false);
    expectTypeOf(() => getBooleanInput('load', { default: false })).returns.toEqualTypeOf<boolean>();
    expectTypeOf(() => getBooleanInput('load')).returns.toEqualTypeOf<boolean | undefined>();
    setInput('push', 'sure');
    expect(() => getBooleanInput('push')).toThrow('Input "push": "sure" is not a boolean');
  });

  it('getListInput: empty and comment-only mean the default, or []', () => {
    expect(getListInput('services')).toEqual([]);
    expect(getListInput('services', { default: ['web'] })).toEqual(['web']);
    setInput('services', '# none\n');
    expect(getListInput('services', { default: ['web'] })).toEqual(['web']);
    expect(() => getListInput('services', { required: true })).toThrow('Input "services" is required');
    setInput('cache-to', 'type=gha,mode=max\ntype=inline');
    expect(getListInput('cache-to', { newlinesOnly: true })).toEqual(['type=gha,mode=max', 'type=inline']);
  });

  it('getDurationInput and getByteSizeInput parse units and name the input', () => {
    setInput('timeout', '2m');
    expect(getDurationInput('timeout')).toBe(120_000);
    expect(getDurationInput('probe-interval', { default: 5000 })).toBe(5000);
    setInput('max-size', '1.2GiB');
    expect(getByteSizeInput('max-size')).toBe(Math.round(1.2 * 1024 ** 3));
    setInput('max-size', '12XB');
    expect(() => getByteSizeInput('max-size')).toThrow(
      'Input "max-size": "12XB" is not a byte size (examples: 250MB, 1.2GiB, 1048576)',
    );
  });

  it('getEnumInput', () => {
    setInput('mode', 'SWARM');
    expect(getEnumInput('mode', ['compose', 'swarm'])).toBe('swarm');
    expect(getEnumInput('format', ['table', 'sarif'], { default: 'table' })).toBe('table');
    expectTypeOf(() =>
      getEnumInput('format', ['table', 'sarif'], { default: 'table' }),
    ).returns.toEqualTypeOf<'table' | 'sarif'>();
    expectTypeOf(() => getEnumInput('format', ['table', 'sarif'])).returns.toEqualTypeOf<
      'table' | 'sarif' | undefined
    >();
  });

  it('getKeyValueInput keeps surrounding whitespace of values and returns {} when empty', () => {
    expect(getKeyValueInput('env')).toEqual({});
    setInput('env', 'PASSWORD=  spaced  \nMODE=prod\n');
    expect(getKeyValueInput('env')).toEqual({ PASSWORD: '  spaced  ', MODE: 'prod' });
    setInput('env', 'PASSWORD=x\nnot-a-pair\n');
    expect(() => getKeyValueInput('env')).toThrow('Input "env": line 2 is not KEY=VALUE');
  });
});

import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  findValue,
  formatValue,
  parseExposition,
  parseLabels,
  renderExposition,
  type Family,
} from './textfile-metrics.js';

const gauge = (name: string, samples: Family['samples'], help = `${name} help`): Family => ({
  name,
  help,
  type: 'gauge',
  samples,
});

describe('escapeLabelValue', () => {
  it('escapes backslash, double quote and line feed as the format says', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('drops other control characters and bounds the length', () => {
    expect(escapeLabelValue('a\rb\tc\u0000d\u001be')).toBe('abcde');
    expect(escapeLabelValue('x'.repeat(1000))).toHaveLength(256);
  });
});

describe('renderExposition', () => {
  it('writes HELP and TYPE once per family, then its samples, and leaves empty families out', () => {
    const text = renderExposition([
      gauge('berth_a', [
        { name: 'berth_a', labels: { project: 'p', result: 'success' }, value: 1700000000 },
        { name: 'berth_a', labels: { project: 'p', result: 'failure' }, value: 1.5 },
      ]),
      gauge('berth_empty', []),
      gauge('berth_b', [{ name: 'berth_b', labels: {}, value: 2 }], 'line\nbreak \\ in help'),
    ]);
    expect(text).toBe(
      [
        '# HELP berth_a berth_a help',
        '# TYPE berth_a gauge',
        'berth_a{project="p",result="success"} 1700000000',
        'berth_a{project="p",result="failure"} 1.5',
        '# HELP berth_b line\\nbreak \\\\ in help',
        '# TYPE berth_b gauge',
        'berth_b 2',
        '',
      ].join('\n'),
    );
    expect(renderExposition([gauge('berth_empty', [])])).toBe('');
  });

  it('refuses names that are not metric or label names (a programming error, not data)', () => {
    expect(() => renderExposition([gauge('bad-name', [{ name: 'bad-name', labels: {}, value: 1 }])])).toThrow(
      /not a metric name/,
    );
    expect(() =>
      renderExposition([gauge('berth_x', [{ name: 'berth_x', labels: { 'a-b': 'x' }, value: 1 }])]),
    ).toThrow(/not a label name/);
  });

  it('keeps a hostile label value inside its quotes: one line per sample, read back exactly', () => {
    const hostile = 'abc"} evil_metric 1\n# TYPE x counter\\';
    const text = renderExposition([
      gauge('berth_release_info', [{ name: 'berth_release_info', labels: { commit: hostile }, value: 1 }]),
    ]);
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(1);
    expect(parseExposition(text, new Set(['berth_release_info', 'evil_metric']))).toEqual([
      { name: 'berth_release_info', labels: { commit: hostile }, value: 1 },
    ]);
  });

  it('formats non-finite values by name', () => {
    expect([NaN, Infinity, -Infinity, 0.25].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0.25']);
  });
});

describe('parseExposition', () => {
  const names = new Set(['berth_t']);

  it('reads the samples of the named metrics and skips everything else', () => {
    const text = [
      '# HELP berth_t x',
      'berth_t{result="success",project="p"} 1700000000',
      'berth_t{result="failure",project="p"} 1.7e9 1700000000000',
      'other_metric{project="p"} 5',
      'berth_t 3',
      'garbage line',
      '',
    ].join('\n');
    expect(parseExposition(text, names)).toEqual([
      { name: 'berth_t', labels: { result: 'success', project: 'p' }, value: 1700000000 },
      { name: 'berth_t', labels: { result: 'failure', project: 'p' }, value: 1.7e9 },
      { name: 'berth_t', labels: {}, value: 3 },
    ]);
  });

  it('skips malformed and hostile lines instead of failing', () => {
    const bad = [
      'berth_t{result="x} 1',
      'berth_t{result=x} 1',
      'berth_t{result="a",result="b"} 1',
      'berth_t{1a="x"} 1',
      'berth_t{a="x"}b="y"} 1',
      'berth_t{a="x"} NaN',
      'berth_t{a="x"} +Inf',
      'berth_t{a="x"} 0x10',
      'berth_t{a="x"} 1e999',
      `berth_t{a="${'x'.repeat(5000)}"} 1`,
      'berth_t{a="\\q"} 1',
    ];
    expect(parseExposition(bad.join('\n'), names)).toEqual([]);
    expect(parseExposition('\u0000\u00ff binary \r\n', names)).toEqual([]);
  });

  it('reads only the first 1000 lines', () => {
    const text = Array.from({ length: 1500 }, (_, i) => `berth_t{i="${i}"} ${i}`).join('\n');
    expect(parseExposition(text, names)).toHaveLength(1000);
  });

  it('reads escaped label values back', () => {
    expect(parseLabels('{a="x\\"y\\\\z\\n",b=""}')).toEqual({ a: 'x"y\\z\n', b: '' });
    expect(parseLabels('{a="x",}')).toEqual({ a: 'x' });
    expect(parseLabels('{}')).toEqual({});
  });
});

describe('findValue', () => {
  it('is the last sample of the name whose labels match', () => {
    const samples = [
      { name: 'm', labels: { r: 'a', p: 'x' }, value: 1 },
      { name: 'm', labels: { r: 'b', p: 'x' }, value: 2 },
      { name: 'm', labels: { r: 'a', p: 'x' }, value: 3 },
    ];
    expect(findValue(samples, 'm', { r: 'a' })).toBe(3);
    expect(findValue(samples, 'm', { r: 'c' })).toBeUndefined();
    expect(findValue(samples, 'n')).toBeUndefined();
  });
});

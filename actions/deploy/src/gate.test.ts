import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import {
  alertsQuery,
  defaultFilter,
  formatFilter,
  gateValues,
  getGateInputs,
  parseAlertmanagerUrl,
  parseBakeSeconds,
  parseFilter,
} from './gate.js';

afterEach(() => vi.unstubAllEnvs());

function withInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs)) vi.stubEnv(`INPUT_${name.toUpperCase()}`, value);
}

describe('parseFilter', () => {
  it('reads the four operators, quoted and bare values, braces, commas and lines', () => {
    expect(parseFilter('{severity="critical", project=~"shop|api", env!=dev\nteam !~ "ops.*"}')).toEqual([
      { name: 'severity', op: '=', value: 'critical' },
      { name: 'project', op: '=~', value: 'shop|api' },
      { name: 'env', op: '!=', value: 'dev' },
      { name: 'team', op: '!~', value: 'ops.*' },
    ]);
  });

  it('unescapes quoted values, keeps commas and braces inside them, and allows an empty value', () => {
    expect(parseFilter('summary="a, \\"b\\" {c}\\\\\\n", missing=""')).toEqual([
      { name: 'summary', op: '=', value: 'a, "b" {c}\\\n' },
      { name: 'missing', op: '=', value: '' },
    ]);
  });

  it('refuses what is not a matcher, naming alert-filter', () => {
    for (const [bad, why] of [
      ['severity', /"severity" is not a matcher/],
      ['1abc="x"', /"1abc=\\"x\\"" is not a matcher/],
      ['a="x" b="y"', /unexpected "b=\\"y\\"" after a=/],
      ['a="unterminated', /unterminated quoted value/],
      ['a="\\t"', /unknown escape \\t/],
      ['a=b"c', /unexpected/],
      [',,', /holds no matcher/],
      ['a="x\u0007"', /control character/],
    ] as const) {
      const error = inputErrorOf(() => parseFilter(bad));
      expect(error.message, bad).toMatch(/^Input "alert-filter": /);
      expect(error.message, bad).toMatch(why);
    }
    expect(inputErrorOf(() => parseFilter(Array(33).fill('a="b"').join(','))).message).toMatch(/over 32/);
  });

  it('formats matchers back as Alertmanager reads them, so that parsing the text gives them again', () => {
    const matchers = parseFilter('a="x\\"y", b=~"\\\\d+", c!=plain text');
    expect(formatFilter(matchers)).toBe('a="x\\"y",b=~"\\\\d+",c!="plain text"');
    expect(parseFilter(formatFilter(matchers))).toEqual(matchers);
  });
});

describe('alertsQuery', () => {
  it('asks for firing alerts that are neither silenced nor inhibited, one encoded filter per matcher', () => {
    expect(alertsQuery(defaultFilter('shop'))).toBe(
      'active=true&silenced=false&inhibited=false&filter=severity%3D%22critical%22&filter=project%3D%22shop%22',
    );
    expect(alertsQuery(parseFilter('job=~"a&b|c d"'))).toBe(
      'active=true&silenced=false&inhibited=false&filter=job%3D~%22a%26b%7Cc%20d%22',
    );
  });
});

describe('parseAlertmanagerUrl', () => {
  it('takes an http(s) URL with a path prefix, without its trailing slash', () => {
    expect(parseAlertmanagerUrl('http://127.0.0.1:9093')).toBe('http://127.0.0.1:9093');
    expect(parseAlertmanagerUrl(' https://am.internal/alertmanager/ ')).toBe(
      'https://am.internal/alertmanager',
    );
    expect(parseAlertmanagerUrl('http://[::1]:9093/')).toBe('http://[::1]:9093');
  });

  it('refuses other schemes, credentials, a query or fragment, and non-URLs, naming alertmanager-url', () => {
    for (const [bad, why] of [
      ['127.0.0.1:9093', /not an http or https URL|not a URL/],
      ['ftp://am', /not an http or https URL/],
      ['http://admin:secret@am:9093', /credentials in the URL/],
      ['http://am:9093/?x=1', /no query or fragment/],
      ['http://am:9093/#top', /no query or fragment/],
      ['not a url', /not a URL/],
    ] as const) {
      const error = inputErrorOf(() => parseAlertmanagerUrl(bad));
      expect(error.message, bad).toMatch(/^Input "alertmanager-url": /);
      expect(error.message, bad).toMatch(why);
      expect(error.message).not.toContain('secret');
    }
  });
});

describe('parseBakeSeconds', () => {
  it('takes whole seconds from 0 to 3600, 60 by default', () => {
    expect(parseBakeSeconds('')).toBe(60);
    expect(parseBakeSeconds('0')).toBe(0);
    expect(parseBakeSeconds('3600')).toBe(3600);
    for (const bad of ['3601', '-1', '1.5', '1m', 'x'])
      expect(inputErrorOf(() => parseBakeSeconds(bad)).message).toMatch(
        /^Input "bake-seconds": .* 0 to 3600/,
      );
  });
});

describe('getGateInputs', () => {
  it('is off without alertmanager-url, and then refuses alert-filter', () => {
    expect(getGateInputs('shop', 'deploy')['alertmanager-url']).toBeUndefined();
    expect(gateValues(getGateInputs('shop', 'deploy')).AM_URL).toBe('');
    withInputs({ 'alert-filter': 'a="b"' });
    expect(inputErrorOf(() => getGateInputs('shop', 'deploy')).message).toBe(
      'Input "alert-filter": is only used with "alertmanager-url"',
    );
  });

  it("defaults the filter to the project's critical alerts, in modes deploy and swarm", () => {
    withInputs({ 'alertmanager-url': 'http://127.0.0.1:9093/', 'bake-seconds': '8' });
    for (const mode of ['deploy', 'swarm'] as const) {
      const gate = getGateInputs('shop', mode);
      expect(gate).toEqual({
        'alertmanager-url': 'http://127.0.0.1:9093',
        'alert-filter': defaultFilter('shop'),
        'bake-seconds': 8,
      });
      expect(gateValues(gate)).toMatchObject({ AM_URL: 'http://127.0.0.1:9093', BAKE_SECONDS: 8 });
    }
  });

  it('checks but does not gate a rollback, which must go out while alerts fire', () => {
    withInputs({ 'alertmanager-url': 'http://127.0.0.1:9093' });
    expect(getGateInputs('shop', 'rollback')['alertmanager-url']).toBeUndefined();
    withInputs({ 'alertmanager-url': 'http://u:p@127.0.0.1:9093' });
    expect(inputErrorOf(() => getGateInputs('shop', 'rollback')).message).toMatch(/alertmanager-url/);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskedValues } from '../../../lib/action/testing.js';
import {
  certificateText,
  parseHeaders,
  parseProbes,
  parseServedCertificate,
  probeCurlConfig,
  redactUrl,
} from './probes.js';

describe('served certificates', () => {
  it('reads `<https url> <epoch>` and nothing else', () => {
    expect(parseServedCertificate('https://x.test/healthz?t=*** 1800000000')).toEqual({
      url: 'https://x.test/healthz?t=***',
      expiresAt: 1800000000,
    });
    for (const bad of ['http://x.test/ 1', 'https://x.test/ soon', 'https://x.test/ 1 2', 'https://x.test/'])
      expect(parseServedCertificate(bad)).toBeUndefined();
  });

  it('says the date and the whole days left', () => {
    const now = Date.UTC(2026, 11, 6, 12);
    const cert = { url: 'https://x.test/', expiresAt: Date.UTC(2026, 11, 7, 11) / 1000 };
    expect(certificateText(cert, now)).toBe('`https://x.test/` expires 2026-12-07 (0 days)');
    expect(certificateText({ ...cert, expiresAt: cert.expiresAt + 86400 * 2 }, now)).toBe(
      '`https://x.test/` expires 2026-12-09 (2 days)',
    );
  });
});

describe('parseProbes', () => {
  it('reads URL, status and latency budget', () => {
    expect(parseProbes('health-urls', ['https://x.test/healthz', 'http://x.test/ 204 500'])).toEqual([
      { url: 'https://x.test/healthz', status: 200, maxLatencyMs: undefined },
      { url: 'http://x.test/', status: 204, maxLatencyMs: 500 },
    ]);
  });

  it('refuses credentials in the URL, pointing to health-headers', () => {
    for (const url of ['https://user:pass@x.test/', 'https://token@x.test/']) {
      expect(() => parseProbes('health-urls', [url])).toThrow(
        /^Input "health-urls": line 1: credentials in the URL .* "health-headers"/,
      );
    }
  });

  it('masks every query value, and drops the fragment', () => {
    let probes: ReturnType<typeof parseProbes> = [];
    const masks = maskedValues(() => {
      probes = parseProbes('health-urls', ['https://x.test/h?token=s3cr%2Ft&plain#frag']);
    });
    expect(masks).toEqual(expect.arrayContaining(['s3cr%2Ft', 's3cr/t', 'plain']));
    expect(probes[0]!.url).toBe('https://x.test/h?token=s3cr%2Ft&plain');
  });

  it('refuses what is not an http(s) probe', () => {
    expect(() => parseProbes('health-urls', ['ftp://x/ 200'])).toThrow(/line 1: only http and https/);
    expect(() => parseProbes('health-urls', ['nope'])).toThrow(/line 1: "nope" is not a URL/);
    expect(() => parseProbes('health-urls', ['https://x/ 99'])).toThrow(/99 is not an HTTP status/);
  });
});

describe('redactUrl', () => {
  it('hides query values and bare query items, keeps the rest', () => {
    expect(redactUrl('https://x.test/a|b')).toBe('https://x.test/a|b');
    expect(redactUrl('https://x.test/h?token=abc&empty=&flag&&x=1')).toBe(
      'https://x.test/h?token=***&empty=&***&&x=***',
    );
  });
});

describe('parseHeaders', () => {
  it('reads Name: value lines and masks each value', () => {
    let headers: string[] = [];
    const masks = maskedValues(() => {
      headers = parseHeaders('health-headers', ['Authorization:  Bearer abc.def ', 'X-Probe: 1']);
    });
    expect(headers).toEqual(['Authorization: Bearer abc.def', 'X-Probe: 1']);
    expect(masks).toEqual(['Bearer abc.def', '1']);
  });

  it('refuses lines that are not headers, naming the input', () => {
    for (const bad of ['no colon', ': empty name', 'Bad Name: x', '-x y: z']) {
      expect(() => parseHeaders('health-headers', [bad])).toThrow(
        /^Input "health-headers": line 1 is not "Name: value"/,
      );
    }
  });
});

describe('probeCurlConfig', () => {
  it('hands curl the exact URL and headers: quotes, backslashes and glob characters included', () => {
    const url = 'http://127.0.0.1:9/x?a={1,2}&b=[1-3]&c=\\"q';
    const config = probeCurlConfig({ url, status: 200 }, ['X-Token: a"b\\c']);
    expect(config).toBe(
      'url = "http://127.0.0.1:9/x?a={1,2}&b=[1-3]&c=\\\\\\"q"\nheader = "X-Token: a\\"b\\\\c"\n',
    );
    const file = join(mkdtempSync(join(tmpdir(), 'berth-curl-')), 'probe.curl');
    writeFileSync(file, config);
    // Port 9 refuses the connection: curl still says which URL it tried, once (no globbing).
    let out = '';
    try {
      execFileSync('curl', ['-sS', '--globoff', '-o', '/dev/null', '-w', '%{url_effective}\\n', '-K', file]);
    } catch (error) {
      out = String((error as { stdout: Buffer }).stdout);
    }
    expect(out).toBe(`${url}\n`);
  });
});

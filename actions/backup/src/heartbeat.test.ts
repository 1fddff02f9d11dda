import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeartbeatUrl, ping, pingFailure, pingUrl } from './heartbeat.js';

/** What `fn` printed on stdout (core.warning writes `::warning::` lines there), and its result. */
async function printed<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof write;
  try {
    return [await fn(), out.join('')];
  } finally {
    process.stdout.write = write;
  }
}

const SECRET = 'https://hc-ping.example/4f1c0e1e-secret-uuid';

describe('parseHeartbeatUrl', () => {
  it('takes an https URL, or http to a loopback address, or nothing', () => {
    expect(parseHeartbeatUrl('heartbeat-url', SECRET)?.href).toBe(SECRET);
    expect(parseHeartbeatUrl('heartbeat-url', 'http://127.0.0.1:8000/ping/x')?.port).toBe('8000');
    expect(parseHeartbeatUrl('heartbeat-url', 'http://[::1]/x')).toBeDefined();
    expect(parseHeartbeatUrl('heartbeat-url', 'http://localhost/x')).toBeDefined();
    expect(parseHeartbeatUrl('heartbeat-url', ' ')).toBeUndefined();
  });

  it.each([
    'http://hc-ping.example/secret-uuid',
    'http://127.0.0.1.example/secret-uuid',
    'ftp://hc-ping.example/secret-uuid',
    'https://user:secret-uuid@hc-ping.example/x',
    'not a url secret-uuid',
  ])('refuses %s naming the input, never showing the value', (value) => {
    let message = '';
    try {
      parseHeartbeatUrl('heartbeat-url', value);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Input "heartbeat-url": /);
    expect(message).not.toContain('secret-uuid');
  });
});

describe('pingUrl', () => {
  it('appends /fail to the path for a failure, keeping the query', () => {
    const url = new URL('https://hc-ping.example/abc/?rid=1');
    expect(pingUrl(url, 'success').href).toBe('https://hc-ping.example/abc/?rid=1');
    expect(pingUrl(url, 'fail').href).toBe('https://hc-ping.example/abc/fail?rid=1');
  });
});

describe('pingFailure', () => {
  it('says timed out or the error code, never the message (which may hold the URL)', () => {
    expect(pingFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('timed out');
    expect(pingFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(
      'ECONNREFUSED',
    );
    expect(pingFailure(new Error(SECRET))).toBe('network error');
  });
});

describe('ping', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(status).end('OK');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/secret-uuid`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('requests the URL on success and <url>/fail on failure', async () => {
    hits.length = 0;
    status = 200;
    expect(await ping(new URL(base), 'success')).toBe(true);
    expect(await ping(new URL(base), 'fail')).toBe(true);
    expect(hits).toEqual(['/ping/secret-uuid', '/ping/secret-uuid/fail']);
  });

  it('retries once, then warns without the URL and never throws', async () => {
    hits.length = 0;
    status = 500;
    const [ok, log] = await printed(() => ping(new URL(base), 'success', { pauseMs: 1 }));
    expect(ok).toBe(false);
    expect(hits).toHaveLength(2);
    expect(log).toMatch(/^::warning::heartbeat-url: the success ping failed \(HTTP 500, 2 attempts\)/m);
    expect(log).not.toContain('secret-uuid');
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/x`);
    const [ok, log] = await printed(() => ping(url, 'fail', { timeoutMs: 200, attempts: 1 }));
    expect(ok).toBe(false);
    expect(log).toMatch(/^::warning::heartbeat-url: the fail ping failed \(timed out, 1 attempt\)/m);
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

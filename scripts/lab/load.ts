// A bounded load client for zero-downtime tests, the demo and the bench: sequential HTTPS requests
// (a new connection each, like independent clients) to a loopback port, counting every request that
// did not answer with the expected status. Bounded three ways: a request budget, a time limit, and
// a per-request timeout; it only ever targets 127.0.0.1.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface LoadOptions {
  /** the CA the server's certificate chains to (the lab CA, or Pebble's root) */
  caFile: string;
  /** a loopback port */
  port: number;
  /** the name the client asks for and verifies the certificate against (default localhost) */
  servername?: string;
  path?: string;
  /** the status that counts as a success (default 200) */
  expectStatus?: number;
  /** pause between requests, ms (default 25: about 30 requests a second against the example) */
  intervalMs?: number;
  /** per-request timeout, ms (default 5000) */
  timeoutMs?: number;
  /** hard limits: the client stops by itself at whichever comes first */
  maxRequests?: number;
  maxSeconds?: number;
}

export interface LoadFailure {
  /** ms since the load started */
  at: number;
  error: string;
}

export interface LoadResult {
  total: number;
  failed: number;
  /** the first 20 failures */
  failures: LoadFailure[];
  /** the longest time between two successful answers (or the start and the first), ms */
  longestGapMs: number;
  /** response bodies' distinct first lines, in the order first seen (e.g. the versions served) */
  bodies: string[];
  /** the serial numbers of the distinct server certificates seen, in the order first seen */
  certificates: string[];
  seconds: number;
}

export interface Load {
  /** stops after the request in flight and returns the counts */
  stop(): Promise<LoadResult>;
}

function once(opts: Required<Pick<LoadOptions, 'port' | 'path' | 'timeoutMs' | 'servername'>>, ca: Buffer) {
  return new Promise<{ status: number; body: string; serial: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: opts.servername,
        port: opts.port,
        path: opts.path,
        ca,
        agent: false,
        timeout: opts.timeoutMs,
      },
      (res) => {
        let body = '';
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber ?? '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts the load; call stop() to end it and read the result. */
export function startLoad(options: LoadOptions): Load {
  const opts = {
    path: '/',
    servername: 'localhost',
    expectStatus: 200,
    intervalMs: 25,
    timeoutMs: 5000,
    maxRequests: 20_000,
    maxSeconds: 600,
    ...options,
  };
  const ca = readFileSync(opts.caFile);
  const started = Date.now();
  const result: LoadResult = {
    total: 0,
    failed: 0,
    failures: [],
    longestGapMs: 0,
    bodies: [],
    certificates: [],
    seconds: 0,
  };
  let stopping = false;
  let lastOk = started;
  const loop = (async () => {
    while (!stopping && result.total < opts.maxRequests && Date.now() - started < opts.maxSeconds * 1000) {
      result.total++;
      let error: string | undefined;
      try {
        const res = await once(opts, ca);
        if (res.status !== opts.expectStatus) error = `HTTP ${res.status}`;
        const first = res.body.split('\n')[0]!.slice(0, 200);
        if (!error && !result.bodies.includes(first)) result.bodies.push(first);
        if (!result.certificates.includes(res.serial)) result.certificates.push(res.serial);
      } catch (e) {
        error = (e as Error).message;
      }
      const now = Date.now();
      if (error) {
        result.failed++;
        if (result.failures.length < 20) result.failures.push({ at: now - started, error });
      } else {
        result.longestGapMs = Math.max(result.longestGapMs, now - lastOk);
        lastOk = now;
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      result.longestGapMs = Math.max(result.longestGapMs, Date.now() - lastOk);
      result.seconds = (Date.now() - started) / 1000;
      return result;
    },
  };
}

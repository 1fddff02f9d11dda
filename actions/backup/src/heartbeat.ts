// Input `heartbeat-url`: a dead man's switch in the healthchecks.io convention, called from the runner
// when a backup or verify run ends: the URL on success, `<url>/fail` on failure. The service raises
// the alarm when pings stop, which catches what no host-side metric can: a workflow that never ran.
// The URL is a secret (anyone holding it can ping): masked, never logged, never in an error; https
// only, except to a loopback address. A ping that fails is a warning: the run's own result stands.
import * as core from '@actions/core';
import { inputError } from '../../../lib/action/inputs.js';

export type PingKind = 'success' | 'fail';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** The URL, or undefined when empty; errors never show the value. */
export function parseHeartbeatUrl(name: string, value: string): URL | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw inputError(name, 'is not a URL (the value is a secret: not shown)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname)))
    throw inputError(name, 'must be an https:// URL (http:// only to a loopback address; value not shown)');
  if (url.username || url.password) throw inputError(name, 'must not carry user:password@ (value not shown)');
  return url;
}

/** Where a ping of `kind` goes: the URL itself, or `/fail` appended to its path (query kept). */
export function pingUrl(url: URL, kind: PingKind): URL {
  const target = new URL(url);
  if (kind === 'fail') target.pathname = `${target.pathname.replace(/\/+$/, '')}/fail`;
  return target;
}

/** Why a request failed, in words that never include the URL (fetch's messages may). */
export function pingFailure(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const code = e?.cause?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'network error';
}

export interface PingOptions {
  timeoutMs?: number;
  attempts?: number;
  pauseMs?: number;
}

/** GETs the ping URL: `attempts` tries, each bounded by `timeoutMs`; never throws. */
export async function ping(url: URL, kind: PingKind, options: PingOptions = {}): Promise<boolean> {
  const { timeoutMs = 10_000, attempts = 2, pauseMs = 2_000 } = options;
  let why = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, pauseMs));
    try {
      const res = await fetch(pingUrl(url, kind), {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      await res.body?.cancel();
      if (res.ok) {
        core.info(`Heartbeat: ${kind} ping sent`);
        return true;
      }
      why = `HTTP ${res.status}`;
    } catch (error) {
      why = pingFailure(error);
    }
  }
  core.warning(
    `heartbeat-url: the ${kind} ping failed (${why}, ${attempts} attempt${attempts === 1 ? '' : 's'}); the run's own result stands`,
  );
  return false;
}

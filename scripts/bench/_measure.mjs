// Timing helpers shared by the bench modules.
import { spawnSync } from 'node:child_process';

/** Wall time of one command in milliseconds; throws when it fails. */
export function timeCommand(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: opts.stdio ?? 'ignore',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== (opts.expectStatus ?? 0))
    throw new Error(`bench: ${cmd} ${args.join(' ')} exited ${r.status}`);
  return ms;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of n runs of fn (after one warm-up run). */
export function medianOf(n, fn) {
  fn();
  return median(Array.from({ length: n }, fn));
}

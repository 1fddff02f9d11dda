// What the summary says about how each service was updated (the host's `rollout` lines, from
// script/rollout.ts): start-first with its time to healthy and its drain, or recreated, created,
// unchanged, or a start-first that was aborted (its old containers kept serving).
import { inlineCode } from '../../../lib/action/summary.js';

export interface ServiceUpdate {
  service: string;
  how: 'start-first' | 'recreated' | 'created' | 'unchanged' | 'aborted';
  /** start-first and aborted: ms from the start to healthy (or to the abort); recreated, created: ms of the up */
  ms?: number;
  /** start-first in mode compose: seconds (mode swarm: none, swarm drains) */
  drainSeconds?: number;
  /** done by the automatic rollback to the previous release */
  rollback?: boolean;
}

const HOWS = new Set<ServiceUpdate['how']>(['start-first', 'recreated', 'created', 'unchanged', 'aborted']);

/** `api start-first 2345 10` as its parts; anything else (a host's garbage) is dropped. */
export function parseServiceUpdates(lines: readonly string[]): ServiceUpdate[] {
  const updates: ServiceUpdate[] = [];
  let rollback = false;
  for (const line of lines) {
    // The automatic rollback says so before it brings the previous release back.
    if (line === 'rollback') rollback = true;
    const [service, how, ms, drain] = line.split(' ');
    if (!service || !HOWS.has(how as ServiceUpdate['how'])) continue;
    const num = (v?: string) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
    const update = { service, how: how as ServiceUpdate['how'], ms: num(ms), drainSeconds: num(drain) };
    // What the rollback left as it was is no news.
    if (rollback && update.how === 'unchanged') continue;
    updates.push(rollback ? { ...update, rollback } : update);
  }
  return updates;
}

const sec = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

function describe(u: ServiceUpdate): string {
  switch (u.how) {
    case 'start-first':
      // Mode swarm says no drain: swarm itself takes the old tasks out of the service's address
      // before it stops them, with their stop_grace_period for the requests in flight.
      return u.drainSeconds === undefined
        ? `start-first (swarm): new tasks healthy after ${sec(u.ms)}, then the old ones left the service's address and were stopped gracefully`
        : `start-first: new containers healthy after ${sec(u.ms)}, the old ones drained ${u.drainSeconds} s, then removed`;
    case 'aborted':
      return `start-first aborted after ${sec(u.ms)}: the new containers were removed, the old ones kept serving`;
    case 'recreated':
      return `recreated (stopped, then started: not in \`zero-downtime\`, so its gap is your choice); up took ${sec(u.ms)}`;
    case 'created':
      return `created (nothing of it ran before); up took ${sec(u.ms)}`;
    default:
      return 'unchanged';
  }
}

/** One summary row per service, in the order the host updated them. */
export function rolloutRows(updates: readonly ServiceUpdate[]): [string, string][] {
  return updates.map((u): [string, string] => [
    `Service ${inlineCode(u.service)}${u.rollback ? ' (rollback)' : ''}`,
    describe(u),
  ]);
}

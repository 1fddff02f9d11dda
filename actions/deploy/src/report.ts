// What the host script reported (`::berth::key=value` lines), and the job summary made from it.
import { keyValueTable } from '../../../lib/action/summary.js';
import type { DeployStatus } from './constants.js';

export interface HealthCheck {
  ExitCode?: number;
  Output?: string;
  End?: string;
}

export interface DeployReport {
  status?: DeployStatus;
  previousRelease?: string;
  failedStage?: string;
  error?: string;
  lockHolder?: string;
  durationSeconds?: number;
  /** `service state`, e.g. `api exited` or `api running/unhealthy` */
  unhealthy: string[];
  /** the last health-check output of each unhealthy service */
  lastHealth: Record<string, string>;
  probes: string[];
  images: Record<string, string>;
  removedReleases: string[];
  prunedImages: string[];
  /** mode swarm: secret and config versions no kept release names any more */
  removedObjects: string[];
  /** seconds spent in each host-side stage, in order */
  stageSeconds: [string, number][];
}

export function parseReport(stdout: string): DeployReport {
  const r: DeployReport = {
    unhealthy: [],
    lastHealth: {},
    probes: [],
    images: {},
    removedReleases: [],
    prunedImages: [],
    removedObjects: [],
    stageSeconds: [],
  };
  const stageStarts: [string, number][] = [];
  for (const line of stdout.split('\n')) {
    const m = /^::berth::([a-z-]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    const space = value.indexOf(' ');
    const head = value.slice(0, space);
    const tail = value.slice(space + 1);
    switch (key) {
      case 'status':
        r.status = value as DeployStatus;
        break;
      case 'previous-release':
        r.previousRelease = value || undefined;
        break;
      case 'failed-stage':
        r.failedStage = value;
        break;
      case 'error':
        r.error = value;
        break;
      case 'lock-holder':
        r.lockHolder = value.trim();
        break;
      case 'duration-seconds':
        r.durationSeconds = Number(value);
        break;
      case 'unhealthy':
        r.unhealthy.push(value);
        break;
      case 'health': {
        const log = JSON.parse(Buffer.from(tail, 'base64').toString('utf8') || '[]') as HealthCheck[] | null;
        const last = log?.at(-1);
        if (last) r.lastHealth[head] = `exit ${last.ExitCode}: ${(last.Output ?? '').trim()}`;
        break;
      }
      case 'probe':
        r.probes.push(value);
        break;
      case 'image':
        r.images[head] = tail;
        break;
      case 'removed-release':
        r.removedReleases.push(value);
        break;
      case 'pruned-image':
        r.prunedImages.push(value);
        break;
      case 'removed-secret':
      case 'removed-config':
        r.removedObjects.push(`${key.slice('removed-'.length)} ${value}`);
        break;
      case 'stage':
        stageStarts.push([head, Number(tail)]);
        break;
    }
  }
  for (let i = 0; i + 1 < stageStarts.length; i++) {
    r.stageSeconds.push([stageStarts[i]![0], (stageStarts[i + 1]![1] - stageStarts[i]![1]) / 1000]);
  }
  return r;
}

/** One sentence that says why the step failed, naming the failing service. */
export function failureMessage(r: DeployReport, release: string): string {
  const what = r.unhealthy.length
    ? `; ${r.unhealthy
        .map((u) => {
          const service = u.split(' ')[0]!;
          const health = r.lastHealth[service];
          return `service ${u}${health ? ` (last health check: ${health})` : ''}`;
        })
        .join('; ')}`
    : '';
  const outcome =
    r.status === 'rolled-back'
      ? `rolled back to ${r.previousRelease}, which is serving again`
      : r.previousRelease
        ? `release ${r.previousRelease} is still current`
        : 'there was no earlier release to roll back to';
  return `release ${release} failed at ${r.failedStage ?? 'an unknown stage'}: ${r.error ?? 'no detail'}${what}; ${outcome}`;
}

export function summaryMarkdown(
  r: DeployReport,
  facts: { release: string; host: string; project: string; seconds: number; mode?: string },
): string {
  const icon = r.status === 'deployed' ? '✅' : r.status === 'rolled-back' ? '↩️' : '❌';
  const rows: [string, string][] = [
    ['Status', `${icon} ${r.status ?? 'failed'}`],
    ['Release', `\`${facts.release}\``],
    ['Previous release', r.previousRelease ? `\`${r.previousRelease}\`` : 'none'],
    [
      'Host',
      `\`${facts.host}\`, project \`${facts.project}\`${facts.mode === 'swarm' ? ' (swarm stack)' : ''}`,
    ],
    ['Duration', `${facts.seconds.toFixed(1)} s`],
  ];
  for (const [service, ref] of Object.entries(r.images)) rows.push([`Image ${service}`, `\`${ref}\``]);
  for (const probe of r.probes) rows.push(['Probe', `\`${probe}\``]);
  if (r.stageSeconds.length) {
    rows.push([
      'Time on the host',
      r.stageSeconds.map(([stage, sec]) => `${stage} ${sec.toFixed(1)} s`).join(', '),
    ]);
  }
  if (r.removedReleases.length)
    rows.push(['Removed releases', r.removedReleases.map((x) => `\`${x}\``).join(' ')]);
  if (r.removedObjects.length)
    rows.push(['Removed swarm objects', r.removedObjects.map((x) => `\`${x}\``).join(' ')]);
  const table = keyValueTable(rows);
  const why =
    r.status === 'deployed' ? '' : `\n\n**Why:** ${failureMessage(r, facts.release).replace(/\n/g, ' ')}`;
  return `### berth/deploy: \`${facts.project}\`\n\n${table}${why}\n`;
}

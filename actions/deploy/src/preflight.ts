// Preflight: before the upload, in the same SSH connection, one script (script/preflight.ts) that
// writes nothing reports what the host has; here every shortfall becomes one message naming the
// input or the command that fixes the host, and all of them fail the step together.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { oneLine } from '../../../lib/action/untrusted.js';
import { HostReport, runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { metricsDirError, textfileValues, type Textfile } from '../../../lib/ssh/textfile.js';
import { parsePlatform } from '../../../lib/tools/registry.js';
import { Inputs as I } from './constants.js';
import type { Inputs } from './inputs.js';
import { deployTextfile } from './metrics.js';
import { measurePull, pullSpaceProblem, type ImageSize } from './pull-space.js';
import { PREFLIGHT_BODY } from './script/preflight.js';
import { AM_FUNCTIONS, GATE_PREFLIGHT } from './script/gate.js';
import { gateValues } from './gate.js';
import { gatePreflightProblems } from './gate-report.js';

/** `docker compose up --wait-timeout`, which every deploy uses, came with Compose 2.17.0. */
export const MIN_COMPOSE: readonly [number, number, number] = [2, 17, 0];
/** Room beyond the bundle itself in remote-dir's filesystem: logs, pins, the audit line. */
export const BUNDLE_MARGIN_KB = 64 * 1024;

export interface PreflightFacts {
  remoteDir: string;
  mode: Inputs['mode'];
  /** the staged bundle's size */
  bundleKb: number;
  /** the registry's sizes of the images the host lacks; undefined: the floor (pull-space.ts) */
  pullSizes?: ImageSize[];
  /** input `metrics-dir`'s file, checked with the rest */
  metrics?: Textfile;
}

/** The bytes under `dir`, in KiB rounded up (what the upload will write on the host). */
export function bundleSizeKb(dir: string): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else bytes += statSync(path).size + 4096;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

function versionAtLeast(text: string, min: readonly number[]): boolean | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!m) return undefined;
  const got = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) if (got[i] !== min[i]) return got[i]! > min[i]!;
  return true;
}

const mib = (kb: number) => `${Math.ceil(kb / 1024)} MiB`;

function engineProblems(r: HostReport, user: string, facts: PreflightFacts): string[] {
  const missing = r.all('missing');
  if (missing.includes('docker')) {
    return [`the docker CLI is not installed on the host: sudo apt-get install docker.io docker-compose-v2`];
  }
  const out: string[] = [];
  const engineError = r.last('engine-error');
  if (engineError !== undefined) {
    out.push(
      /permission denied/i.test(engineError)
        ? `${user} may not use the Docker engine (${engineError}): sudo usermod -aG docker ${user}, then log in again`
        : `the Docker engine does not answer: ${engineError}`,
    );
  }
  const compose = r.last('compose-version');
  const ok = compose === undefined ? false : versionAtLeast(compose, MIN_COMPOSE);
  if (!ok) {
    const have = compose === undefined ? 'is not installed' : `is ${compose}`;
    out.push(
      `Docker Compose v2 ${have}; Berth needs ${MIN_COMPOSE.join('.')} or newer: sudo apt-get install docker-compose-v2`,
    );
  }
  const swarm = r.last('swarm');
  if (facts.mode === 'swarm' && swarm !== undefined && swarm !== 'active true') {
    out.push(
      `Input "${I.Mode}": swarm needs a swarm manager; this host's swarm state is "${swarm}" (docker swarm init)`,
    );
  }
  const dockerFree = r.int('docker-root-free-kb');
  const space =
    dockerFree === undefined
      ? undefined
      : pullSpaceProblem(r.last('docker-root') ?? '', dockerFree, r.all('missing-image'), facts.pullSizes);
  if (space !== undefined) out.push(space);
  return out;
}

function remoteDirProblems(r: HostReport, user: string, facts: PreflightFacts): string[] {
  const out: string[] = [];
  const dir = facts.remoteDir;
  const blocked = r.pairs('remote-dir-blocked');
  for (const [path, why] of blocked) {
    const fix =
      why === 'not-a-directory'
        ? `${path} is not a directory`
        : path === dir || path === '/' || dir.startsWith(`${path}/`)
          ? `${dir} is not writable by ${user}: sudo install -d -o ${user} ${dir}`
          : `${path} is not writable by ${user}: sudo chown -R ${user} ${dir}`;
    out.push(`Input "${I.RemoteDir}": ${fix}`);
  }
  const free = r.int('remote-dir-free-kb');
  const need = facts.bundleKb + BUNDLE_MARGIN_KB;
  if (blocked.length === 0 && free !== undefined && free < need) {
    out.push(
      `Input "${I.RemoteDir}": ${r.last('remote-dir-nearest')} has ${mib(free)} free, the release needs ${mib(need)}`,
    );
  }
  return out;
}

/** Every problem the preflight report shows, each one line (the host's words pass through oneLine). */
export function preflightProblems(report: HostReport, facts: PreflightFacts): string[] {
  const user = report.last('user') || 'the SSH user';
  const missing = report.all('missing');
  const out = engineProblems(report, user, facts);
  if (missing.includes('flock'))
    out.push('flock is not installed on the host (deploys take a lock): sudo apt-get install util-linux');
  if (missing.includes('curl'))
    out.push(`Input "${I.HealthUrls}": the probes need curl on the host: sudo apt-get install curl`);
  out.push(...remoteDirProblems(report, user, facts));
  const metrics = facts.metrics && metricsDirError(report, facts.metrics, user);
  if (metrics) out.push(metrics.message);
  return out.map(oneLine);
}

/** Runs the preflight script; throws one error listing every problem, before anything is written. */
export async function preflight(session: SshSession, inputs: Inputs, bundleKb: number): Promise<void> {
  // The Alertmanager gate's checks ride along (script/gate.ts): no connection of their own.
  const result = await runHostScript(session, `${PREFLIGHT_BODY}${AM_FUNCTIONS}${GATE_PREFLIGHT}`, {
    REMOTE_DIR: inputs['remote-dir'],
    NEED_CURL: inputs['health-urls'].length > 0,
    IMAGES: Object.values(inputs.images),
    ...textfileValues(deployTextfile(inputs)),
    ...gateValues(inputs),
  });
  const platform = parsePlatform(result.report.last('platform') ?? '');
  const log = (line: string) => core.info(oneLine(line));
  const pullSizes = await measurePull(result.report.all('missing-image'), platform, inputs, log);
  const problems = [
    ...preflightProblems(result.report, {
      remoteDir: inputs['remote-dir'],
      mode: inputs.mode,
      bundleKb,
      pullSizes,
      metrics: deployTextfile(inputs),
    }),
    ...gatePreflightProblems(result.report, inputs).map(oneLine),
  ];
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1) {
    throw new Error(`the host is not ready (${problems.length} problems): ${problems.join('; ')}`);
  }
}

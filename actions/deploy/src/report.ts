// What the deploy script reported (read through lib/ssh/host-script's HostReport), and the job
// summary made from it.
import { formatBytes } from '../../../lib/action/inputs.js';
import { keyValueTable } from '../../../lib/action/summary.js';
import { hookRows, postDeployError } from './hook-report.js';
import { parseServiceUpdates, rolloutRows, type ServiceUpdate } from './rollout-report.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { HostReport } from '../../../lib/ssh/host-script.js';
import { Inputs as I, type DeployStatus } from './constants.js';
import type { Inputs } from './inputs.js';
import { RELEASE_ID } from './release-id.js';
import type { GateInputs } from './gate.js';
import { certificateText, parseServedCertificate, type ServedCertificate } from './probes.js';
import { gateDetail, gateRows, readGateReport, type GateReport } from './gate-report.js';
import { builtByRows, type VerifiedPin } from './verify.js';

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
  /** the certificates https probes were served */
  certificates: ServedCertificate[];
  images: Record<string, string>;
  removedReleases: string[];
  prunedImages: string[];
  /** mode swarm: secret and config versions no kept release names any more */
  removedObjects: string[];
  /** seconds spent in each host-side stage, in order */
  stageSeconds: [string, number][];
  /** the hook that failed (`pre-deploy api 1`: stage, service, exit code) and its last output lines */
  hookFailed?: string;
  hookOutput: string[];
  /** data directories carried over from the previous release's directory into shared/ */
  movedData: string[];
  /** what went wrong without failing the deploy (retention, a failure after the switch) */
  warnings: string[];
  /** mode rollback: the kept release brought back */
  release?: string;
  /** mode rollback: why the host refused the requested release (nothing changed) */
  targetError?: string;
  /** old releases retention kept because a container mounts from them (`id (why)`) */
  keptReleases: string[];
  /** files/<id> entries no kept release names any more */
  removedFiles: string[];
  /** how each service was updated, when the release lists zero-downtime services */
  updates: ServiceUpdate[];
  /** the Alertmanager gate's bake, when it ran */
  gate?: GateReport;
}

/** The deploy script's report, from its stdout. */
export function parseReport(stdout: string): DeployReport {
  return readDeployReport(HostReport.parse(stdout));
}

/**
 * The report; what the failure message and the log lines quote of it (stages, errors, the lock holder,
 * services, health output, probes) as one line each, which no runner reads as a workflow command.
 */
export function readDeployReport(report: HostReport): DeployReport {
  const lastHealth: Record<string, string> = {};
  for (const [service, log] of report.pairs('health')) {
    const checks = JSON.parse(Buffer.from(log, 'base64').toString('utf8') || '[]') as HealthCheck[] | null;
    const last = checks?.at(-1);
    // A container's own health-check output, decoded here: it may hold anything, line breaks too.
    if (last) lastHealth[service] = oneLine(`exit ${last.ExitCode}: ${String(last.Output ?? '').trim()}`);
  }
  const stageStarts = report.pairs('stage');
  const text = (value: string | undefined) => (value === undefined ? undefined : oneLine(value));
  return {
    status: report.last('status') as DeployStatus | undefined,
    previousRelease: text(report.last('previous-release') || undefined),
    failedStage: text(report.last('failed-stage')),
    error: text(report.last('error')),
    lockHolder: text(report.last('lock-holder')?.trim()),
    durationSeconds: report.int('duration-seconds'),
    unhealthy: report.all('unhealthy').map(oneLine),
    lastHealth,
    probes: report.all('probe').map(oneLine),
    certificates: report
      .all('cert')
      .map((line) => parseServedCertificate(oneLine(line)))
      .filter((c) => c !== undefined),
    images: Object.fromEntries(report.pairs('image')),
    removedReleases: report.all('removed-release'),
    prunedImages: report.all('pruned-image'),
    removedObjects: report.lines
      .filter((l) => l.key === 'removed-secret' || l.key === 'removed-config')
      .map((l) => `${l.key.slice('removed-'.length)} ${l.value}`),
    hookFailed: text(report.last('hook-failed')),
    hookOutput: report.all('hook-output').map(oneLine),
    movedData: report.all('data-moved').map(oneLine),
    warnings: report.all('warning').map(oneLine),
    release: [report.last('release')].find((id) => id !== undefined && RELEASE_ID.test(id)),
    targetError: text(report.last('target-error')),
    keptReleases: report.all('kept-release').map(oneLine),
    removedFiles: report.all('removed-files').map(oneLine),
    updates: parseServiceUpdates(report.all('rollout').map(oneLine)),
    gate: readGateReport(report),
    stageSeconds: stageStarts
      .slice(0, -1)
      .map(([stage, ms], i): [string, number] => [
        stage,
        (Number(stageStarts[i + 1]![1]) - Number(ms)) / 1000,
      ]),
  };
}

/** What a finished deploy warns about: the host's warnings, and each data directory moved into shared/. */
export function reportWarnings(r: DeployReport, remoteDir: string): string[] {
  return [
    ...r.warnings,
    ...r.movedData.map(
      (dir) => `Data directory ${dir} moved from the previous release into ${remoteDir}/shared/${dir}`,
    ),
  ];
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
    r.status === 'rolled-back' && r.failedStage === 'pre-deploy'
      ? `release ${r.previousRelease} kept serving, untouched`
      : r.status === 'rolled-back'
        ? `rolled back to ${r.previousRelease}, which is serving again`
        : r.previousRelease
          ? `release ${r.previousRelease} is still current`
          : 'there was no earlier release to roll back to';
  return `release ${release} failed at ${r.failedStage ?? 'an unknown stage'}: ${r.error ?? 'no detail'}${what}${gateDetail(r.gate)}; ${outcome}`;
}

/** Why the step fails (the lock timed out, the release failed, the script ended early), if it does. */
export function deployError(
  r: DeployReport,
  exitCode: number,
  release: string,
  inputs: Pick<Inputs, 'remote-dir' | 'lock-timeout'>,
): Error | undefined {
  if (exitCode === 75) {
    return new Error(
      `Input "${I.LockTimeout}": ${inputs['remote-dir']} stayed locked for ${inputs['lock-timeout']} s by another deploy: ${r.lockHolder || 'unknown holder'}`,
    );
  }
  if (r.status === 'deployed') return postDeployError(r, release);
  return new Error(
    r.status
      ? failureMessage(r, release)
      : `the deploy script ended with exit code ${exitCode} before reporting a status`,
  );
}

/** What the release carried, for the summary (project/). */
export interface BundleFacts {
  files: string[];
  dataDirs: string[];
  bytes: number;
}

export function bundleRows(b: BundleFacts, r: Pick<DeployReport, 'movedData'>): [string, string][] {
  const rows: [string, string][] = [
    ['Bundle', `${formatBytes(b.bytes)}, ${b.files.length} project file${b.files.length === 1 ? '' : 's'}`],
  ];
  if (b.dataDirs.length) rows.push(['Data directories', b.dataDirs.map((d) => `\`shared/${d}\``).join(' ')]);
  if (r.movedData.length)
    rows.push([
      'Data carried over',
      r.movedData.map((d) => `\`${d}\` (from the previous release)`).join(' '),
    ]);
  return rows;
}

export function summaryMarkdown(
  r: DeployReport,
  facts: {
    release: string;
    host: string;
    project: string;
    seconds: number;
    mode?: string;
    bundle?: BundleFacts;
    gate?: GateInputs;
    /** the pinned images verified on the runner, with who built them */
    verified?: VerifiedPin[];
  },
): string {
  const icon = r.status === 'deployed' ? '✅' : r.status === 'rolled-back' ? '↩️' : '❌';
  const rows: [string, string][] = [
    ['Status', `${icon} ${r.status ?? 'failed'}`],
    ['Release', `\`${facts.release}\`${facts.mode === 'rollback' ? ' (rollback)' : ''}`],
    ['Previous release', r.previousRelease ? `\`${r.previousRelease}\`` : 'none'],
    [
      'Host',
      `\`${facts.host}\`, project \`${facts.project}\`${facts.mode === 'swarm' ? ' (swarm stack)' : ''}`,
    ],
    ['Duration', `${facts.seconds.toFixed(1)} s`],
  ];
  for (const [service, ref] of Object.entries(r.images)) rows.push([`Image ${service}`, `\`${ref}\``]);
  rows.push(...builtByRows(facts.verified));
  for (const probe of r.probes) rows.push(['Probe', `\`${probe}\``]);
  for (const cert of r.certificates) rows.push(['Certificate', certificateText(cert)]);
  for (const warning of r.warnings) rows.push(['⚠️ Warning', warning]);
  if (r.stageSeconds.length) {
    rows.push([
      'Time on the host',
      r.stageSeconds.map(([stage, sec]) => `${stage} ${sec.toFixed(1)} s`).join(', '),
    ]);
  }
  if (r.removedReleases.length)
    rows.push(['Removed releases', r.removedReleases.map((x) => `\`${x}\``).join(' ')]);
  for (const kept of r.keptReleases) rows.push(['Kept release', `\`${kept}\``]);
  if (r.removedFiles.length)
    rows.push(['Removed files', r.removedFiles.map((x) => `\`files/${x}\``).join(' ')]);
  if (r.removedObjects.length)
    rows.push(['Removed swarm objects', r.removedObjects.map((x) => `\`${x}\``).join(' ')]);
  rows.push(...rolloutRows(r.updates));
  rows.push(...hookRows(r));
  rows.push(...gateRows(r.gate, facts.gate));
  if (facts.bundle) rows.push(...bundleRows(facts.bundle, r));
  const table = keyValueTable(rows);
  const why =
    r.status === 'deployed' ? '' : `\n\n**Why:** ${failureMessage(r, facts.release).replace(/\n/g, ' ')}`;
  return `### berth/deploy: \`${facts.project}\`\n\n${table}${why}\n`;
}

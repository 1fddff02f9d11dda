// Zero-downtime releases under mode deploy (inputs `zero-downtime`, `proxy`, `proxy-reload`,
// `drain-seconds`): each listed service is started beside its old containers, the proxy is switched
// over, the old ones are drained and then removed (script/rollout.ts does it on the host). Checked
// here against the release's compose model, before the host is touched; what the host needs is
// staged in the release as `.berth/rollout`, so that a rollback to it rolls the same way.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getListInput, getString, inputError } from '../../../lib/action/inputs.js';
import type { ComposeService } from '../../../lib/tools/compose.js';
import { Inputs as I } from './constants.js';
import { splitCommand } from './hooks.js';
import { NAME } from './inputs.js';
import type { Mode } from './modes/mode.js';

/** The rollout inputs, keyed like action.yml (read apart from inputs.ts's getInputs, which is full). */
export interface RolloutInputs {
  /** services updated start-first */
  'zero-downtime': string[];
  /** the reverse-proxy service */
  proxy?: string;
  /** run inside the proxy's container, as argv */
  'proxy-reload': string[];
  /** seconds */
  'drain-seconds': number;
}

export const DEFAULT_RELOAD = 'nginx -s reload';
const MAX_DRAIN = 3600;

export function parseReload(raw: string): string[] {
  let argv: string[];
  try {
    argv = splitCommand(raw);
  } catch (error) {
    throw inputError(I.ProxyReload, (error as Error).message);
  }
  if (argv.length === 0) throw inputError(I.ProxyReload, 'is empty');
  if (argv.some((a) => /[\0\n\r]/.test(a))) throw inputError(I.ProxyReload, 'holds a NUL or a line break');
  return argv;
}

export function parseDrain(raw: string): number {
  const value = raw.trim();
  if (!value) return 10;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_DRAIN)
    throw inputError(
      I.DrainSeconds,
      `${JSON.stringify(raw)} is not a whole number of seconds from 0 to ${MAX_DRAIN}`,
    );
  return n;
}

export function parseServices(name: string, lines: readonly string[]): string[] {
  for (const line of lines) {
    if (!NAME.test(line)) throw inputError(name, `${JSON.stringify(line)} is not a service name`);
  }
  return [...new Set(lines)];
}

export function getRolloutInputs(): RolloutInputs {
  const proxy = getString(I.Proxy)?.trim() || undefined;
  if (proxy && !NAME.test(proxy)) throw inputError(I.Proxy, `${JSON.stringify(proxy)} is not a service name`);
  return {
    'zero-downtime': parseServices(I.ZeroDowntime, getListInput(I.ZeroDowntime, { newlinesOnly: true })),
    proxy,
    'proxy-reload': parseReload(getString(I.ProxyReload) || DEFAULT_RELOAD),
    'drain-seconds': parseDrain(getString(I.DrainSeconds) ?? ''),
  };
}

/** Why `service` cannot run old and new containers side by side, if it cannot. */
function sideBySideProblem(spec: ComposeService): string | undefined {
  const test = spec.healthcheck?.test;
  const noCheck =
    !spec.healthcheck ||
    spec.healthcheck.disable === true ||
    test === undefined ||
    (Array.isArray(test) && test[0] === 'NONE');
  if (noCheck)
    return 'has no healthcheck in the compose files (the new containers take traffic only once healthy; an image HEALTHCHECK cannot be seen before the deploy)';
  if (spec.container_name)
    return `sets container_name (${String(spec.container_name)}): two containers cannot share it`;
  const published = (spec.ports ?? []).filter((p) => p.published !== undefined && p.published !== '');
  if (published.length)
    return `publishes port${published.length > 1 ? 's' : ''} ${published.map((p) => p.published).join(', ')} on the host: the new containers could not bind ${published.length > 1 ? 'them' : 'it'} (let the proxy publish, and reach the service over a network)`;
  const netMode = typeof spec.network_mode === 'string' ? spec.network_mode : '';
  if (/^(host|container:|service:)/.test(netMode))
    return `uses network_mode ${netMode}: old and new containers would share one network stack`;
  return undefined;
}

/**
 * Checks the rollout inputs against the release's compose model (mode deploy), naming the input and
 * the reason. Returns false when there is nothing to roll start-first.
 */
export function checkRollout(
  inputs: RolloutInputs,
  services: Readonly<Record<string, ComposeService>>,
  mode: Mode,
): boolean {
  const listed = inputs['zero-downtime'];
  if (mode !== 'deploy' || listed.length === 0) return false;
  const known = Object.keys(services);
  if (!inputs.proxy)
    throw inputError(
      I.Proxy,
      `is required with "${I.ZeroDowntime}": the reverse-proxy service to switch over (e.g. nginx)`,
    );
  if (!services[inputs.proxy])
    throw inputError(
      I.Proxy,
      `service "${inputs.proxy}" is not in the compose files (services: ${known.join(', ')})`,
    );
  for (const service of listed) {
    const spec = services[service];
    if (!spec)
      throw inputError(
        I.ZeroDowntime,
        `service "${service}" is not in the compose files (services: ${known.join(', ')})`,
      );
    if (service === inputs.proxy)
      throw inputError(
        I.ZeroDowntime,
        `service "${service}" is the proxy: it holds the published ports and is reloaded, not rolled`,
      );
    const problem = sideBySideProblem(spec);
    if (problem) throw inputError(I.ZeroDowntime, `service "${service}" ${problem}`);
  }
  return true;
}

/** `.berth/rollout`'s text: `key value` lines the host reads with `read -r`, one argv word a line. */
export function rolloutFile(inputs: RolloutInputs): string {
  return [
    ...inputs['zero-downtime'].map((s) => `service ${s}`),
    `proxy ${inputs.proxy ?? ''}`,
    ...inputs['proxy-reload'].map((word) => `reload ${word}`),
    `drain ${inputs['drain-seconds']}`,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/** Checks, then stages `.berth/rollout` into the release when services are listed. */
export function stageRollout(
  inputs: RolloutInputs,
  services: Readonly<Record<string, ComposeService>>,
  mode: Mode,
  stagedDir: string,
): boolean {
  if (!checkRollout(inputs, services, mode)) return false;
  mkdirSync(join(stagedDir, '.berth'), { recursive: true });
  writeFileSync(join(stagedDir, '.berth', 'rollout'), rolloutFile(inputs));
  return true;
}

// mode swarm, input zero-downtime: the listed services are updated by swarm itself, start-first.
// Swarm starts the new task beside the old one, counts it running only once its health check
// passes (and only then adds it to the service's virtual IP and DNS name), then takes the old task
// out of them, waits 2 s and only then sends it the stop signal, with stop_grace_period for the
// requests in flight. What Berth adds is the update_config that asks for it, where the stack does
// not set its own, and the refusals for what would make it fail.
import { inputError } from '../../../lib/action/inputs.js';
import { Inputs as I } from './constants.js';

/**
 * How long swarm watches a new task once it is healthy: a task that dies in that time makes
 * failure_action roll the service back rather than restart the new image (swarm's default is 5 s).
 */
export const MONITOR = '10s';

type Service = Record<string, unknown> & {
  deploy?: Record<string, unknown>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  ports?: { published?: number; mode?: string; target?: number }[];
};

function hasHealthcheck(service: Service): boolean {
  const check = service.healthcheck;
  if (!check || check.disable) return false;
  const test = Array.isArray(check.test) ? check.test : check.test ? [check.test] : [];
  return test.length > 0 && test[0] !== 'NONE';
}

/** Why start-first cannot work for this service, or nothing. */
function refusal(name: string, service: Service | undefined): string | undefined {
  if (!service) return `service "${name}" is not in the compose files`;
  if (!hasHealthcheck(service))
    return `service "${name}" has no healthcheck in the compose files: swarm would count its new task ready as soon as it starts (an image's HEALTHCHECK is not seen before the deploy)`;
  // Ingress ports are fine: the routing mesh sends each connection to a task that is in the
  // service's virtual IP. A host-mode port is bound by the task itself: two cannot run on one node.
  const host = service.ports?.find((p) => p.mode === 'host' && p.published !== undefined);
  if (host)
    return `service "${name}" publishes ${host.published} in host mode: its new task cannot bind the port while the old one runs (publish through the routing mesh, mode ingress)`;
  return undefined;
}

/** What in the user's own settings defeats the guarantee: kept as written, said as a warning. */
function defeats(deploy: Record<string, unknown>): string[] {
  const update = (deploy.update_config ?? {}) as Record<string, unknown>;
  const rollback = (deploy.rollback_config ?? {}) as Record<string, unknown>;
  const found: string[] = [];
  if (update.order === 'stop-first')
    found.push('update_config.order is stop-first: the old task stops before the new one is healthy');
  if (update.failure_action === 'continue')
    found.push('update_config.failure_action is continue: swarm goes on past a task that never gets healthy');
  if (rollback.order === 'stop-first')
    found.push(
      'rollback_config.order is stop-first: a rollback stops the new task before the old one is back',
    );
  if (deploy.endpoint_mode === 'dnsrr')
    found.push(
      'endpoint_mode is dnsrr: clients get task addresses, not a virtual IP, so a proxy must re-resolve the name within 2 s (nginx: a resolver with valid=1s and proxy_pass through a variable)',
    );
  return found;
}

/**
 * The stack's services with `deploy.update_config` set to start-first, rolled back on failure and
 * monitored for MONITOR, and `deploy.rollback_config` start-first, for each listed service where
 * the stack does not set them. Refuses, naming the input, a listed service that cannot be updated
 * that way. Pure: returns new service objects, warnings pushed onto `warnings`.
 */
export function zeroDowntimeServices(
  services: Record<string, unknown>,
  listed: string[],
  warnings: string[],
): Record<string, unknown> {
  const out = { ...services };
  for (const name of listed) {
    const service = services[name] as Service | undefined;
    const reason = refusal(name, service);
    if (reason) throw inputError(I.ZeroDowntime, `mode swarm: ${reason}`);
    const deploy = { ...(service!.deploy ?? {}) };
    for (const detail of defeats(deploy)) warnings.push(`service ${name}: zero-downtime: ${detail}`);
    deploy.update_config = {
      order: 'start-first',
      failure_action: 'rollback',
      monitor: MONITOR,
      ...(deploy.update_config ?? {}),
    };
    deploy.rollback_config = { order: 'start-first', ...(deploy.rollback_config ?? {}) };
    out[name] = { ...service, deploy };
  }
  return out;
}

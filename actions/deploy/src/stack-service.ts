// mode swarm: one compose service as `docker stack deploy` wants it, with every setting swarm drops
// or changes reported as a warning, and what swarm cannot do at all as an input error.
import type { ComposePort, ComposeService } from '../../../lib/tools/compose.js';
import { inputError } from '../../../lib/action/inputs.js';
import { Inputs } from './constants.js';

// Keys swarm acts on; anything else in a service is dropped with a warning (the docker CLI would
// drop most of them with one line saying only "Ignoring unsupported options").
const SERVICE_KEYS = new Set([
  'cap_add',
  'cap_drop',
  'command',
  'configs',
  'deploy',
  'dns',
  'dns_search',
  'entrypoint',
  'environment',
  'extra_hosts',
  'group_add',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'isolation',
  'labels',
  'logging',
  'networks',
  'ports',
  'read_only',
  'secrets',
  'stop_grace_period',
  'stop_signal',
  'sysctls',
  'tty',
  'stdin_open',
  'ulimits',
  'user',
  'volumes',
  'working_dir',
]);
// Compose-only keys whose absence in swarm changes nothing Berth promises (ordering, building,
// pull policy: the host never builds, swarm restarts tasks until they are healthy).
const SILENTLY_DROPPED = new Set(['build', 'depends_on', 'pull_policy', 'container_name', 'expose', 'links']);
/** Compose keys this module converts into swarm's own. */
const CONVERTED = new Set(['restart', 'tmpfs', 'mem_limit', 'cpus']);

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);

export function fail(detail: string): never {
  throw inputError(Inputs.ComposeFiles, `mode swarm: ${detail}`);
}

const KEEP_AS_IS = new Set(['environment', 'labels', 'sysctls', 'extra_hosts', 'networks']);

/** Nulls and empty objects dropped: compose writes `placement: {}`, `volume: {}`, `command: null`. */
export function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Data, where an empty value is a value (`backend: null` attaches a network).
      if (KEEP_AS_IS.has(k)) {
        out[k] = v;
        continue;
      }
      if (v === null) continue;
      const cleaned = withoutEmpty(v);
      if (
        cleaned &&
        typeof cleaned === 'object' &&
        !Array.isArray(cleaned) &&
        Object.keys(cleaned).length === 0
      )
        continue;
      out[k] = cleaned;
    }
    return out;
  }
  return value;
}

/** Byte counts as `docker stack` wants them: a string for memory, an integer for tmpfs size. */
function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!m) return undefined;
  const power = ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

function restartPolicy(restart: string): Record<string, string> | undefined {
  if (restart === 'always' || restart === 'unless-stopped') return { condition: 'any' };
  if (restart.startsWith('on-failure')) return { condition: 'on-failure' };
  if (restart === 'no') return { condition: 'none' };
  return undefined;
}

/** The keys swarm acts on, as they are; the others dropped, with a warning where it matters. */
function swarmKeys(service: ComposeService, warn: (detail: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(service)) {
    if (SERVICE_KEYS.has(key) || key.startsWith('x-')) out[key] = value;
    else if (key === 'security_opt' && Array.isArray(value) && value.length > 0)
      warn(`swarm services take no security_opt (${value.join(', ')}); dropped`);
    else if (!SILENTLY_DROPPED.has(key) && !CONVERTED.has(key))
      if (value !== null && value !== undefined) warn(`swarm ignores "${key}"; dropped`);
  }
  return out;
}

/** `deploy`, with compose's restart, mem_limit and cpus moved into it, and its resources as swarm types them. */
function swarmDeploy(service: ComposeService): Record<string, unknown> {
  const deploy = { ...(service.deploy ?? {}) } as Record<string, unknown> &
    NonNullable<ComposeService['deploy']>;
  if (service.restart && !deploy.restart_policy) {
    const policy = restartPolicy(service.restart);
    if (policy) deploy.restart_policy = policy;
  }
  const limits = { ...(deploy.resources?.limits ?? {}) };
  if (service.mem_limit !== undefined && limits.memory === undefined) limits.memory = service.mem_limit;
  if (service.cpus !== undefined && limits.cpus === undefined) limits.cpus = service.cpus;
  const resources: Record<string, Record<string, unknown>> = {};
  const kinds: [string, Record<string, unknown>][] = [
    ['limits', limits],
    ['reservations', { ...(deploy.resources?.reservations ?? {}) }],
  ];
  for (const [kind, values] of kinds) {
    if (values.cpus !== undefined) values.cpus = String(values.cpus);
    if (values.memory !== undefined) values.memory = String(values.memory);
    if (Object.keys(values).length > 0) resources[kind] = values;
  }
  deploy.resources = resources;
  return deploy;
}

function swarmPort(name: string, port: ComposePort): Record<string, unknown> {
  const hostIp = port.host_ip ?? '';
  if (!ALL_INTERFACES.has(hostIp)) {
    fail(
      `service "${name}" publishes ${port.published ?? port.target} on ${hostIp}; swarm publishes on every interface and cannot bind one address (drop the address for swarm, or use mode deploy)`,
    );
  }
  const converted: Record<string, unknown> = { target: port.target };
  if (port.published !== undefined && port.published !== '') {
    const published = Number(port.published);
    if (!Number.isInteger(published))
      fail(`service "${name}": published port range ${port.published} is not supported by swarm`);
    converted.published = published;
  }
  if (port.protocol) converted.protocol = port.protocol;
  if (port.mode) converted.mode = port.mode;
  return converted;
}

/** compose's `tmpfs` entries as swarm tmpfs mounts: only a size carries over. */
function tmpfsMounts(tmpfs: string[], warn: (detail: string) => void): Record<string, unknown>[] {
  return tmpfs.map((entry) => {
    const [target, options = ''] = entry.split(/:(.*)/s);
    const mount: Record<string, unknown> = { type: 'tmpfs', target };
    const ignored: string[] = [];
    for (const option of options.split(',').filter(Boolean)) {
      const [k, v = ''] = option.split('=');
      const size = k === 'size' ? parseSize(v) : undefined;
      if (size !== undefined) mount.tmpfs = { size };
      else ignored.push(option);
    }
    if (ignored.length > 0)
      warn(
        `swarm cannot set tmpfs ${ignored.join(',')} on ${target}: it gets the image directory's mode, owned by root`,
      );
    return mount;
  });
}

/** Swarm takes a secret's target as a name under /run/secrets. */
function fileRefs(
  service: ComposeService,
  kind: 'secrets' | 'configs',
): Record<string, unknown>[] | undefined {
  return service[kind]?.map((ref) => {
    const target =
      kind === 'secrets' && ref.target?.startsWith('/run/secrets/')
        ? ref.target.slice('/run/secrets/'.length)
        : ref.target;
    return { ...ref, ...(target ? { target } : {}) };
  });
}

export function convertService(
  name: string,
  service: ComposeService,
  warnings: string[],
): Record<string, unknown> {
  const warn = (detail: string) => warnings.push(`service ${name}: ${detail}`);
  if (!service.image)
    fail(`service "${name}" has no image; swarm never builds (pin one with the "images" input)`);
  const out = swarmKeys(service, warn);
  out.deploy = swarmDeploy(service);

  // `backend: null` means attached with no options: a plain list when no network has any.
  if (service.networks && !Array.isArray(service.networks)) {
    const nets = Object.entries(service.networks);
    out.networks = nets.every(([, v]) => v === null || (typeof v === 'object' && Object.keys(v).length === 0))
      ? nets.map(([k]) => k)
      : service.networks;
  }
  if (service.ports) out.ports = service.ports.map((port) => swarmPort(name, port));
  const tmpfs = typeof service.tmpfs === 'string' ? [service.tmpfs] : (service.tmpfs ?? []);
  if (tmpfs.length > 0)
    out.volumes = [...((out.volumes as unknown[] | undefined) ?? []), ...tmpfsMounts(tmpfs, warn)];
  for (const kind of ['secrets', 'configs'] as const) {
    const refs = fileRefs(service, kind);
    if (refs) out[kind] = refs;
  }
  if (Array.isArray(out.volumes)) {
    out.volumes = (out.volumes as Record<string, unknown>[]).map((v) => {
      const { bind, ...rest } = v;
      const propagation = (bind as { propagation?: string } | undefined)?.propagation;
      return propagation ? { ...rest, bind: { propagation } } : rest;
    });
  }
  return withoutEmpty(out) as Record<string, unknown>;
}

// mode: swarm. The stack file `docker stack deploy` gets: compose's own merged configuration of the
// release (so overrides, `!override` and interpolation mean what they mean with compose), rewritten
// where swarm's loader differs, with every dropped or changed setting reported as a warning.
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { ComposeConfig, ComposeFileObject, ComposeService } from '../../../lib/tools/compose.js';
import { inputError } from '../../../lib/action/inputs.js';
import { Inputs } from './constants.js';

/** Written into the release directory next to the compose files. */
export const STACK_FILE = 'berth-stack.json';

export interface SwarmStack {
  /** the stack file's content (JSON is YAML, which the docker CLI reads) */
  stack: Record<string, unknown>;
  /** every service image, for the pull step */
  images: string[];
  /** the versioned names of the secrets and configs this release creates */
  objects: string[];
  warnings: string[];
}

export interface SwarmStackOptions {
  project: string;
  /** the local directory compose resolved relative paths against (the staged release) */
  bundleDir: string;
  readFile: (path: string) => Buffer;
}

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

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);
const MAX_OBJECT_NAME = 64;

function fail(detail: string): never {
  throw inputError(Inputs.ComposeFiles, `mode swarm: ${detail}`);
}

/** Byte counts as `docker stack` wants them: a string for memory, an integer for tmpfs size. */
function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!m) return undefined;
  const power = ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

const KEEP_AS_IS = new Set(['environment', 'labels', 'sysctls', 'extra_hosts', 'networks']);

/** Nulls and empty objects dropped: compose writes `placement: {}`, `volume: {}`, `command: null`. */
function withoutEmpty(value: unknown): unknown {
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

/** Swarm objects are immutable: a new content gets a new name, so an update never collides. */
function versionedName(project: string, key: string, content: Buffer): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  return `${project}_${key}`.slice(0, MAX_OBJECT_NAME - hash.length - 1) + `_${hash}`;
}

function relativePath(bundleDir: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(bundleDir, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : `./${rel}`;
}

function fileObjects(
  kind: 'secrets' | 'configs',
  objects: Record<string, ComposeFileObject> | undefined,
  opts: SwarmStackOptions,
  names: string[],
): Record<string, unknown> | undefined {
  if (!objects) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, object] of Object.entries(objects)) {
    if (object.external) {
      out[key] = { external: true, ...(object.name ? { name: object.name } : {}) };
      continue;
    }
    if (!object.file) {
      fail(
        `${kind} "${key}" is not a file; swarm ${kind} come from files (use the action's "secrets" input, written as secrets/NAME)`,
      );
    }
    const name = versionedName(opts.project, key, opts.readFile(object.file));
    names.push(name);
    const { labels } = object;
    out[key] = { name, file: relativePath(opts.bundleDir, object.file), ...(labels ? { labels } : {}) };
  }
  return out;
}

function namedResources(
  resources: Record<string, Record<string, unknown> | null> | undefined,
  project: string,
  allowed: Set<string>,
  kind: string,
  warnings: string[],
): Record<string, unknown> | undefined {
  if (!resources) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(resources)) {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec ?? {})) {
      // compose names resources <project>_<key>; so does docker stack, unless given a name.
      if (k === 'name' && v === `${project}_${key}`) continue;
      if (allowed.has(k) || k.startsWith('x-')) kept[k] = v;
      else warnings.push(`${kind} ${key}: swarm ignores "${k}"; dropped`);
    }
    out[key] = withoutEmpty(kept);
  }
  return out;
}

function restartPolicy(restart: string): Record<string, string> | undefined {
  if (restart === 'always' || restart === 'unless-stopped') return { condition: 'any' };
  if (restart.startsWith('on-failure')) return { condition: 'on-failure' };
  if (restart === 'no') return { condition: 'none' };
  return undefined;
}

function convertService(name: string, service: ComposeService, warnings: string[]): Record<string, unknown> {
  const warn = (detail: string) => warnings.push(`service ${name}: ${detail}`);
  if (!service.image)
    fail(`service "${name}" has no image; swarm never builds (pin one with the "images" input)`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(service)) {
    if (SERVICE_KEYS.has(key) || key.startsWith('x-')) out[key] = value;
    else if (key === 'security_opt' && Array.isArray(value) && value.length > 0)
      warn(`swarm services take no security_opt (${value.join(', ')}); dropped`);
    else if (!SILENTLY_DROPPED.has(key) && !['restart', 'tmpfs', 'mem_limit', 'cpus'].includes(key))
      if (value !== null && value !== undefined) warn(`swarm ignores "${key}"; dropped`);
  }

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
  out.deploy = deploy;

  // `backend: null` means attached with no options: a plain list when no network has any.
  if (service.networks && !Array.isArray(service.networks)) {
    const nets = Object.entries(service.networks);
    out.networks = nets.every(([, v]) => v === null || (typeof v === 'object' && Object.keys(v).length === 0))
      ? nets.map(([k]) => k)
      : service.networks;
  }
  if (service.ports) {
    out.ports = service.ports.map((port) => {
      const hostIp = port.host_ip ?? '';
      if (!ALL_INTERFACES.has(hostIp)) {
        fail(
          `service "${name}" publishes ${port.published ?? port.target} on ${hostIp}; swarm publishes on every interface and cannot bind one address (drop the address for swarm, or use mode compose)`,
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
    });
  }

  const tmpfs = typeof service.tmpfs === 'string' ? [service.tmpfs] : (service.tmpfs ?? []);
  if (tmpfs.length > 0) {
    const volumes = [...((out.volumes as unknown[] | undefined) ?? [])];
    for (const entry of tmpfs) {
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
      volumes.push(mount);
    }
    out.volumes = volumes;
  }

  for (const kind of ['secrets', 'configs'] as const) {
    const refs = service[kind];
    if (refs) {
      out[kind] = refs.map((ref) => {
        const target =
          kind === 'secrets' && ref.target?.startsWith('/run/secrets/')
            ? ref.target.slice('/run/secrets/'.length)
            : ref.target;
        return { ...ref, ...(target ? { target } : {}) };
      });
    }
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

/** The stack file for `docker stack deploy`, from compose's merged configuration of the release. */
export function toSwarmStack(config: ComposeConfig, opts: SwarmStackOptions): SwarmStack {
  const warnings: string[] = [];
  const objects: string[] = [];
  const services: Record<string, unknown> = {};
  for (const [name, service] of Object.entries(config.services)) {
    services[name] = convertService(name, service, warnings);
  }
  const stack: Record<string, unknown> = { services };
  const networks = namedResources(
    config.networks,
    opts.project,
    new Set(['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels']),
    'network',
    warnings,
  );
  if (networks) stack.networks = networks;
  const volumes = namedResources(
    config.volumes,
    opts.project,
    new Set(['name', 'driver', 'driver_opts', 'external', 'labels']),
    'volume',
    warnings,
  );
  if (volumes) stack.volumes = volumes;
  const secrets = fileObjects('secrets', config.secrets, opts, objects);
  if (secrets) stack.secrets = secrets;
  const configs = fileObjects('configs', config.configs, opts, objects);
  if (configs) stack.configs = configs;
  const images = [
    ...new Set(
      Object.values(config.services)
        .map((s) => s.image)
        .filter((i): i is string => !!i),
    ),
  ];
  return { stack, images, objects, warnings };
}

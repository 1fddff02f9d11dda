// mode: swarm. The stack file `docker stack deploy` gets: compose's own merged configuration of the
// release (so overrides, `!override` and interpolation mean what they mean with compose), rewritten
// where swarm's loader differs, with every dropped or changed setting reported as a warning.
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { ComposeConfig, ComposeFileObject } from '../../../lib/tools/compose.js';
import { convertService, fail, withoutEmpty } from './stack-service.js';

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
  /** the release directory on the host: bind sources in the bundle are mounted from there */
  releaseDir: string;
  readFile: (path: string) => Buffer;
}

const MAX_OBJECT_NAME = 64;

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

/** A top-level section (networks, volumes, secrets, configs) with each entry converted. */
function mapSection<T>(
  section: Record<string, T> | undefined,
  convert: (key: string, entry: T) => unknown,
): Record<string, unknown> | undefined {
  if (!section) return undefined;
  return Object.fromEntries(Object.entries(section).map(([key, entry]) => [key, convert(key, entry)]));
}

function fileObjects(
  kind: 'secrets' | 'configs',
  objects: Record<string, ComposeFileObject> | undefined,
  opts: SwarmStackOptions,
  names: string[],
): Record<string, unknown> | undefined {
  return mapSection(objects, (key, object) => {
    if (object.external) return { external: true, ...(object.name ? { name: object.name } : {}) };
    if (!object.file) {
      fail(
        `${kind} "${key}" is not a file; swarm ${kind} come from files (use the action's "secrets" input, written as secrets/NAME)`,
      );
    }
    const name = versionedName(opts.project, key, opts.readFile(object.file));
    names.push(name);
    const { labels } = object;
    return { name, file: relativePath(opts.bundleDir, object.file), ...(labels ? { labels } : {}) };
  });
}

function namedResources(
  resources: Record<string, Record<string, unknown> | null> | undefined,
  project: string,
  allowed: Set<string>,
  kind: string,
  warnings: string[],
): Record<string, unknown> | undefined {
  return mapSection(resources, (key, spec) => {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec ?? {})) {
      // compose names resources <project>_<key>; so does docker stack, unless given a name.
      if (k === 'name' && v === `${project}_${key}`) continue;
      if (allowed.has(k) || k.startsWith('x-')) kept[k] = v;
      else warnings.push(`${kind} ${key}: swarm ignores "${k}"; dropped`);
    }
    return withoutEmpty(kept);
  });
}

/**
 * Swarm mounts bind sources as written, from the node's file system: those inside the bundle become
 * the host's release directory. Read-only project files already name `<remote-dir>/files/<id>/` and
 * data mounts `<remote-dir>/shared/` (the shared override), and listed host paths stay as they are.
 */
export function hostBindSources(
  volumes: unknown,
  opts: Pick<SwarmStackOptions, 'bundleDir' | 'releaseDir'>,
): unknown {
  if (!Array.isArray(volumes)) return volumes;
  return volumes.map((v: Record<string, unknown>) => {
    if (v.type !== 'bind' || typeof v.source !== 'string' || !isAbsolute(v.source)) return v;
    const rel = relative(opts.bundleDir, v.source);
    if (rel.startsWith('..') || isAbsolute(rel)) return v;
    return { ...v, source: rel ? `${opts.releaseDir}/${rel}` : opts.releaseDir };
  });
}

/** The stack file for `docker stack deploy`, from compose's merged configuration of the release. */
export function toSwarmStack(config: ComposeConfig, opts: SwarmStackOptions): SwarmStack {
  const warnings: string[] = [];
  const objects: string[] = [];
  const services: Record<string, unknown> = {};
  for (const [name, service] of Object.entries(config.services)) {
    const converted = convertService(name, service, warnings);
    if (converted.volumes) converted.volumes = hostBindSources(converted.volumes, opts);
    services[name] = converted;
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

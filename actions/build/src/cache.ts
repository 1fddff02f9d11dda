// Cache backends as buildx arguments. `local` writes to a fresh directory that replaces the old one
// after the build (buildx only ever adds to a local cache, so it would grow without bound).
import { versionAtLeast } from '../../../lib/tools/docker.js';
import { inputError } from '../../../lib/action/inputs.js';
import { GHA_CACHE_MIN_BUILDX, Inputs as I, type CacheBackend } from './constants.js';

export interface CacheSettings {
  backend: CacheBackend;
  mode: 'max' | 'min';
  /** gha */
  scope: string;
  /** registry */
  ref: string;
  /** local: the directory read from; the build writes `<dir>-new` */
  dir: string;
  /** local: whether the directory already holds a cache (buildx warns on a missing one) */
  dirExists: boolean;
  /** inline: the image reference to read inline cache from */
  inlineFrom: string;
}

export function localCacheStaging(dir: string): string {
  return `${dir.replace(/\/+$/, '')}-new`;
}

/** Read from `source`, write back to it in the given mode. */
function readWrite(source: string, mode: CacheSettings['mode']): string[] {
  return ['--cache-from', source, '--cache-to', `${source},mode=${mode}`];
}

export function cacheArgs(c: CacheSettings): string[] {
  switch (c.backend) {
    case 'gha':
      return readWrite(`type=gha,scope=${c.scope}`, c.mode);
    case 'registry':
      return readWrite(`type=registry,ref=${c.ref}`, c.mode);
    case 'local':
      return [
        ...(c.dirExists ? ['--cache-from', `type=local,src=${c.dir}`] : []),
        '--cache-to',
        `type=local,dest=${localCacheStaging(c.dir)},mode=${c.mode}`,
      ];
    case 'inline':
      // Inline cache is always min mode: it lives in the image's own config.
      return ['--cache-from', c.inlineFrom, '--cache-to', 'type=inline'];
    case 'none':
      return [];
  }
}

/** Whether the runner exposes the GitHub cache service (what buildx's gha backend talks to). */
export function hasCacheService(env: Record<string, string | undefined>): boolean {
  return Boolean(env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL);
}

export interface CacheChoice {
  backend: CacheBackend;
  /** why the default is not gha where the runner has a cache service */
  warning?: string;
}

/**
 * The backend: the `cache` input when given (gha then needs a buildx that speaks the cache service
 * v2), else gha where the runner has the service and buildx can use it, else local.
 */
export function chooseCacheBackend(
  input: CacheBackend | undefined,
  env: Record<string, string | undefined>,
  buildx: string,
): CacheChoice {
  const ghaUsable = versionAtLeast(buildx, GHA_CACHE_MIN_BUILDX);
  if (input === 'gha' && !ghaUsable) {
    throw inputError(
      I.Cache,
      `gha needs buildx ${GHA_CACHE_MIN_BUILDX} or later (the GitHub cache service v2); this runner has buildx ` +
        `${buildx}. Update buildx, or use cache: registry or local`,
    );
  }
  if (input) return { backend: input };
  if (!hasCacheService(env)) return { backend: 'local' };
  if (ghaUsable) return { backend: 'gha' };
  return {
    backend: 'local',
    warning:
      `The runner has a cache service, but buildx ${buildx} cannot use it (gha needs ${GHA_CACHE_MIN_BUILDX} or later): ` +
      `using the local cache. Set ${I.Cache} to choose`,
  };
}

/** A gha scope per image and target, so parallel image builds do not overwrite each other's cache. */
export function defaultCacheScope(repository: string, target: string | undefined): string {
  const base = repository.replace(/[^A-Za-z0-9._-]+/g, '-');
  return target ? `${base}-${target}` : base;
}

// Cache backends as buildx arguments. `local` writes to a fresh directory that replaces the old one
// after the build (buildx only ever adds to a local cache, so it would grow without bound).
import type { CacheBackend } from './constants.js';

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

export function cacheArgs(c: CacheSettings): string[] {
  switch (c.backend) {
    case 'gha':
      return [
        '--cache-from',
        `type=gha,scope=${c.scope}`,
        '--cache-to',
        `type=gha,scope=${c.scope},mode=${c.mode}`,
      ];
    case 'registry':
      return [
        '--cache-from',
        `type=registry,ref=${c.ref}`,
        '--cache-to',
        `type=registry,ref=${c.ref},mode=${c.mode}`,
      ];
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

/** The default backend: the runner's cache service when the runner exposes one, else local. */
export function defaultCacheBackend(env: Record<string, string | undefined>): CacheBackend {
  return env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL ? 'gha' : 'local';
}

/** A gha scope per image and target, so parallel image builds do not overwrite each other's cache. */
export function defaultCacheScope(repository: string, target: string | undefined): string {
  const base = repository.replace(/[^A-Za-z0-9._-]+/g, '-');
  return target ? `${base}-${target}` : base;
}

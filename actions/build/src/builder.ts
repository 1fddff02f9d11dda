// Which buildx builder runs the build: the one named by `builder`, the current one when it can do
// what the inputs ask, else a docker-container builder created for this step (and removed by the
// post step), as docker/setup-buildx-action does. The docker driver cannot push by digest, and on
// the classic image store (stock runner engines) it cannot export a cache, build several platforms
// or attach attestations either; and the gha cache needs a BuildKit that speaks the cache service v2,
// which the engine's own may not (Docker Engine 28 embeds BuildKit 0.20; distributions' builds say
// v0.0.0+unknown).
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { run } from '../../../lib/action/exec.js';
import { versionAtLeast } from '../../../lib/tools/docker.js';
import { inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { topLevelError } from './buildx-errors.js';
import { GHA_CACHE_MIN_BUILDKIT, Inputs as I, State, type CacheBackend } from './constants.js';

/** What the build asks of its builder. */
export interface BuilderNeeds {
  pushByDigest: boolean;
  cacheExport: boolean;
  /** the cache goes to the GitHub cache service (v2) */
  ghaCache: boolean;
  multiPlatform: boolean;
  attestations: boolean;
}

/** What buildx and the engine say about a builder. */
export interface BuilderFacts {
  name: string;
  driver: string;
  /** its BuildKit's version as `buildx inspect` says it (`v0.20.2`, `v0.0.0+unknown`), when it says one */
  buildkit?: string;
  /** whether the engine keeps images in containerd's store (only matters for the docker driver) */
  containerdStore: boolean;
}

export function builderNeeds(
  push: boolean,
  cache: CacheBackend,
  platforms: string[],
  attestations: boolean,
): BuilderNeeds {
  return {
    pushByDigest: push,
    cacheExport: cache === 'gha' || cache === 'registry' || cache === 'local',
    ghaCache: cache === 'gha',
    multiPlatform: platforms.length > 1,
    attestations: push && attestations,
  };
}

/**
 * Whether the builder's BuildKit speaks the GitHub cache service v2. A version it does not say (a
 * docker-container builder not started yet) is taken as the current release's, except on the docker
 * driver, where an unknown one is the engine's own and may be anything.
 */
export function speaksGhaCacheV2(facts: BuilderFacts): boolean {
  const version = /^v?(\d+\.\d+\.\d+)/.exec(facts.buildkit ?? '')?.[1];
  if (version === undefined || version === '0.0.0') return facts.driver !== 'docker';
  return versionAtLeast(version, GHA_CACHE_MIN_BUILDKIT);
}

/** Why `facts` cannot do `needs`, in words for the log; empty when it can. */
export function builderShortfalls(needs: BuilderNeeds, facts: BuilderFacts): string[] {
  const missing: string[] = [];
  if (facts.driver === 'docker' && needs.pushByDigest) missing.push('push by digest');
  const exportsCache = facts.driver !== 'docker' || facts.containerdStore;
  if (!exportsCache && needs.cacheExport) missing.push('cache export');
  if (exportsCache && needs.ghaCache && !speaksGhaCacheV2(facts)) {
    missing.push(
      `use the gha cache (BuildKit ${facts.buildkit ?? 'of unknown version'}; the cache service v2 needs ${GHA_CACHE_MIN_BUILDKIT} or later)`,
    );
  }
  if (facts.driver === 'docker' && !facts.containerdStore) {
    if (needs.multiPlatform) missing.push('several platforms');
    if (needs.attestations) missing.push('attestations');
  }
  return missing;
}

/** `name (driver d, <store> image store)`; the store only where it matters (the docker driver), or always. */
function describeBuilder(facts: BuilderFacts, withStore = facts.driver === 'docker'): string {
  const store = withStore ? `, ${facts.containerdStore ? 'containerd' : 'classic'} image store` : '';
  return `${facts.name} (driver ${facts.driver}${store})`;
}

/** `Name:`, `Driver:` and the first node's `BuildKit version:` of `docker buildx inspect` output. */
export function parseBuilderInspect(text: string): Omit<BuilderFacts, 'containerdStore'> | undefined {
  const field = (key: string) => new RegExp(`^${key}:\\s*(\\S+)\\s*$`, 'm').exec(text)?.[1];
  const name = field('Name');
  const driver = field('Driver');
  const buildkit = field('BuildKit version');
  if (!name || !driver) return undefined;
  return buildkit ? { name, driver, buildkit } : { name, driver };
}

/** Whether `docker info`'s DriverStatus (JSON) names containerd's snapshotter. */
export function isContainerdStore(driverStatusJson: string): boolean {
  return /io\.containerd\.snapshotter/.test(driverStatusJson);
}

/** `docker buildx create` arguments for a builder of this step. */
export function createBuilderArgs(name: string, driverOpts: string[], buildkitdConfig?: string): string[] {
  const args = ['buildx', 'create', '--name', name, '--driver', 'docker-container'];
  for (const opt of driverOpts) args.push('--driver-opt', opt);
  if (buildkitdConfig) args.push('--buildkitd-config', buildkitdConfig);
  args.push('--bootstrap');
  return args;
}

export async function inspectBuilder(name: string | undefined): Promise<BuilderFacts> {
  const [inspect, info] = await Promise.all([
    run('docker', ['buildx', 'inspect', ...(name ? ['--', name] : [])], {
      silent: true,
      ignoreReturnCode: true,
    }),
    run('docker', ['info', '--format', '{{json .DriverStatus}}'], { silent: true, ignoreReturnCode: true }),
  ]);
  const parsed = inspect.exitCode === 0 ? parseBuilderInspect(inspect.stdout) : undefined;
  if (!parsed) {
    const why = inspect.stderr.trim().split('\n').pop() ?? '';
    if (name) throw inputError(I.Builder, `buildx has no builder "${name}" (${why})`);
    throw new Error(`cannot inspect buildx's current builder: ${why}`);
  }
  return { ...parsed, containerdStore: isContainerdStore(info.stdout) };
}

export interface BuilderOptions {
  builder?: string;
  'driver-opts': string[];
  'buildkitd-config'?: string;
}

/**
 * The builder name to pass to `--builder`: the input's (refused when it cannot do what is asked),
 * the current one when it can, else a new docker-container builder saved for the post step.
 */
export async function chooseBuilder(
  needs: BuilderNeeds,
  options: BuilderOptions,
): Promise<string | undefined> {
  // Any builder loads a one-platform image without a cache export: no need to ask which one it is.
  if (!options.builder && !Object.values(needs).some(Boolean)) return undefined;
  const facts = await inspectBuilder(options.builder);
  const missing = builderShortfalls(needs, facts);
  if (options.builder) {
    if (missing.length > 0)
      throw inputError(
        I.Builder,
        `builder "${facts.name}" (driver ${facts.driver}) cannot ${missing.join(', ')}; name a docker-container builder or leave ${I.Builder} empty`,
      );
    core.info(`Builder ${facts.name} (driver ${facts.driver})`);
    return facts.name;
  }
  if (missing.length === 0) {
    core.info(`Builder ${describeBuilder(facts)}`);
    return facts.name;
  }
  const name = `berth-${randomBytes(6).toString('hex')}`;
  core.info(
    `The current builder ${describeBuilder(facts, true)} ` +
      `cannot ${missing.join(', ')}: creating docker-container builder ${name} for this step`,
  );
  core.saveState(State.CreatedBuilder, name);
  const created = await run(
    'docker',
    createBuilderArgs(name, options['driver-opts'], options['buildkitd-config']),
    {
      ignoreReturnCode: true,
    },
  );
  if (created.exitCode !== 0) {
    const why = topLevelError(created.stderr) ?? `exit ${created.exitCode}`;
    throw inputError(
      I.DriverOpts,
      oneLine(
        `creating a docker-container builder failed (its BuildKit image: driver option image=...): ${why}`,
      ),
    );
  }
  return name;
}

export async function removeBuilder(name: string): Promise<void> {
  await run('docker', ['buildx', 'rm', '--', name], { silent: true, ignoreReturnCode: true });
}

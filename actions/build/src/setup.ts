// Before the build: the buildx version decides the cache backend, a registry login (undone by the
// post step) when credentials are given, and the builder that can do what the inputs ask.
import * as core from '@actions/core';
import { buildxVersion, login, parseImageRef } from '../../../lib/tools/docker.js';
import { builderNeeds, chooseBuilder } from './builder.js';
import { chooseCacheBackend } from './cache.js';
import { State, type CacheBackend } from './constants.js';
import type { Inputs } from './inputs.js';

export interface Setup {
  backend: CacheBackend;
  /** the builder every buildx command of this step names; undefined: buildx's current one */
  builder?: string;
}

export async function prepareBuilder(inputs: Inputs): Promise<Setup> {
  const credentials = inputs['registry-username'] && inputs['registry-password'];
  // buildx's version only matters to the gha backend (explicit, or the default on a runner with a
  // cache service): every other build skips that process.
  const needsVersion = inputs.cache === undefined || inputs.cache === 'gha';
  const [version] = await Promise.all([
    needsVersion ? buildxVersion() : undefined,
    credentials ? loginOnce(inputs) : undefined,
  ]);
  if (version) core.info(`buildx ${version}`);
  const choice = version
    ? chooseCacheBackend(inputs.cache, process.env, version)
    : { backend: inputs.cache! };
  if (choice.warning) core.warning(choice.warning);
  const attestations = inputs.provenance !== 'false' || inputs.sbom;
  const needs = builderNeeds(inputs.push !== 'false', choice.backend, inputs.platforms, attestations);
  const builder = await chooseBuilder(needs, inputs);
  return { backend: choice.backend, builder };
}

export async function loginOnce(inputs: Inputs): Promise<void> {
  const registry = parseImageRef(inputs.image)!.registry;
  await login(registry, inputs['registry-username']!, inputs['registry-password']!);
  core.saveState(State.LoggedInRegistry, registry);
  core.info(`Logged in to ${registry} as ${inputs['registry-username']}`);
}

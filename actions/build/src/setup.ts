// Before the build: the buildx version decides the cache backend, and a registry login (undone by
// the post step) when credentials are given.
import * as core from '@actions/core';
import { buildxVersion, login, parseImageRef } from '../../../lib/tools/docker.js';
import { chooseCacheBackend } from './cache.js';
import { State, type CacheBackend } from './constants.js';
import type { Inputs } from './inputs.js';

export async function prepareBuilder(inputs: Inputs): Promise<CacheBackend> {
  const version = await buildxVersion();
  core.info(`buildx ${version}`);
  const choice = chooseCacheBackend(inputs.cache, process.env, version);
  if (choice.warning) core.warning(choice.warning);
  if (inputs['registry-username'] && inputs['registry-password']) {
    const registry = parseImageRef(inputs.image)!.registry;
    await login(registry, inputs['registry-username'], inputs['registry-password']);
    core.saveState(State.LoggedInRegistry, registry);
    core.info(`Logged in to ${registry} as ${inputs['registry-username']}`);
  }
  return choice.backend;
}

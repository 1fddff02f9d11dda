// berth/build post step (post-if: always()): remove the builder the main step created, and log
// out of the registry it logged in to.
import * as core from '@actions/core';
import { logout } from '../../../lib/tools/docker.js';
import { removeBuilder } from './builder.js';
import { State } from './constants.js';

export async function post(): Promise<void> {
  const builder = core.getState(State.CreatedBuilder);
  if (builder) {
    await removeBuilder(builder);
    core.info(`Removed builder ${builder}`);
  }
  const registry = core.getState(State.LoggedInRegistry);
  if (!registry) return;
  await logout(registry);
  core.info(`Logged out of ${registry}`);
}

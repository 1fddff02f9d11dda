// berth/build post step (post-if: always()): log out of the registry the main step logged in to.
import * as core from '@actions/core';
import { logout } from '../../../lib/tools/docker.js';
import { State } from './constants.js';

export async function post(): Promise<void> {
  const registry = core.getState(State.LoggedInRegistry);
  if (!registry) return;
  await logout(registry);
  core.info(`Logged out of ${registry}`);
}

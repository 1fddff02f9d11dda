// berth/deploy post step (post-if: always()): removes the staged release bundle (.env, secrets,
// registry password) when the main step did not get to, e.g. because it was cancelled or killed.
import * as core from '@actions/core';
import { removeStagingDir } from './bundle.js';
import { State } from './constants.js';

export function post(): Promise<void> {
  const dir = core.getState(State.StagingDir);
  if (removeStagingDir(dir)) core.info(`Removed the staged release bundle ${dir}`);
  return Promise.resolve();
}

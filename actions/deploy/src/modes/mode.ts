// What a run of berth/deploy does (input `mode`): deploy a new release (with compose or as a swarm
// stack), bring a kept release back (`rollback`), list the kept releases (`status`), or prepare a
// bare host for deploys (`bootstrap`, host/bootstrap.sh).
import { getEnumInput, getString, inputError } from '../../../../lib/action/inputs.js';
import { RELEASE_ID } from '../release-id.js';
import { Inputs as I } from '../constants.js';

/** The orchestrators a release is deployed with. */
export type DeployMode = 'compose' | 'swarm';

/** As the input takes them: `compose` is what `deploy` was called before, and stays accepted. */
export const MODE_VALUES = ['deploy', 'compose', 'swarm', 'rollback', 'status', 'bootstrap'] as const;
export type Mode = 'deploy' | 'swarm' | 'rollback' | 'status' | 'bootstrap';

/** The rollback target that means the newest kept release older than the current one. */
export const PREVIOUS = 'previous';

export function getMode(): Mode {
  const mode = getEnumInput(I.Mode, MODE_VALUES, { default: 'deploy' });
  return mode === 'compose' ? 'deploy' : mode;
}

/** The orchestrator a new release is deployed with (a rollback uses the one its target recorded). */
export function orchestrator(mode: Mode): DeployMode {
  return mode === 'swarm' ? 'swarm' : 'compose';
}

/**
 * Whether the run reads the workspace (compose files, the model): only a new release does. A rollback
 * or status run needs no checkout: the kept releases on the host hold their own files.
 */
export function deploysNewRelease(mode: Mode): boolean {
  return mode === 'deploy' || mode === 'swarm';
}

/** Input `release`: a release id or `previous`, only (and always) with mode rollback. */
export function parseReleaseInput(mode: Mode, raw: string): string | undefined {
  const value = raw.trim();
  if (mode !== 'rollback') {
    if (value) throw inputError(I.Release, `is only used with mode rollback (mode is ${mode})`);
    return undefined;
  }
  if (!value)
    throw inputError(
      I.Release,
      `is required with mode rollback: a release id from mode status, or ${PREVIOUS}`,
    );
  if (value !== PREVIOUS && !RELEASE_ID.test(value))
    throw inputError(
      I.Release,
      `${JSON.stringify(value)} is not a release id (like 20260101T120000Z-0123abc-1a2b, from mode status) or ${PREVIOUS}`,
    );
  return value;
}

export function getModeInputs(): { mode: Mode; release?: string } {
  const mode = getMode();
  return { mode, release: parseReleaseInput(mode, getString(I.Release) ?? '') };
}

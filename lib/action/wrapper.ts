// The one entry wrapper every action uses: picks the main or post phase and turns errors into a clean
// failure (main) or warning (post) instead of a stack trace.
import * as core from '@actions/core';

export interface ActionPhases {
  main: () => Promise<void>;
  /** Cleanup run by the runner's post step (action.yml `runs.post`), e.g. logout, lock release. */
  post?: () => Promise<void>;
}

/** State key that marks "main already ran"; the runner hands it to the post step as STATE_isPost. */
export const IS_POST_STATE = 'isPost';

/** The message to show for anything thrown: Error.message, plus its `cause` chain when present. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  let cause: unknown = error.cause;
  // Bounded: a cause cycle must not hang the failure path.
  for (let depth = 0; cause !== undefined && depth < 5; depth += 1) {
    parts.push(cause instanceof Error ? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(': caused by: ');
}

function logStackWhenDebugging(error: unknown): void {
  if (core.isDebug() && error instanceof Error && error.stack) core.debug(error.stack);
}

export async function runAction(phases: ActionPhases): Promise<void> {
  const isPost = core.getState(IS_POST_STATE) === 'true';
  if (isPost) {
    if (!phases.post) return;
    try {
      await phases.post();
    } catch (error) {
      // Cleanup problems must not turn a successful job red; they are reported, not fatal.
      logStackWhenDebugging(error);
      core.warning(`Post step: ${errorMessage(error)}`);
    }
    return;
  }
  // Only actions with a post step need the marker; others would just print a stray state command.
  if (phases.post) core.saveState(IS_POST_STATE, 'true');
  try {
    await phases.main();
  } catch (error) {
    logStackWhenDebugging(error);
    core.setFailed(errorMessage(error));
  }
}

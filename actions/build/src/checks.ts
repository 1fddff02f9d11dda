// The image policy checks that run before anything is pushed: size budget and non-root user.
import { formatBytes } from '../../../lib/action/inputs.js';
import { isRootUser } from '../../../lib/tools/docker.js';

export interface CheckResult {
  ok: boolean;
  /** one line for the log and the summary */
  message: string;
}

export function checkSize(size: number, budget: number | undefined): CheckResult {
  if (budget === undefined) return { ok: true, message: `size ${formatBytes(size)} (no max-size set)` };
  const verdict = size <= budget ? 'within' : 'exceeds';
  return {
    ok: size <= budget,
    message: `image size ${formatBytes(size)} (${size} bytes) ${verdict} max-size ${formatBytes(budget)} (${budget} bytes)`,
  };
}

export function checkUser(user: string): CheckResult {
  if (isRootUser(user)) {
    const shown = user.trim() === '' ? 'no USER, so root' : `USER ${user}`;
    return {
      ok: false,
      message: `the final image runs as root (${shown}); add a non-root USER (e.g. USER 10001:10001) to the last stage`,
    };
  }
  return { ok: true, message: `the final image runs as ${user}` };
}

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

export interface CheckOutcome {
  /** why the image must not be pushed */
  failures: string[];
  /** a finding that only warns (require-non-root: warn) */
  warning?: string;
  /** one line per check for the summary, and why nothing was pushed when a check failed */
  lines: string[];
}

export function imageChecks(
  size: number,
  user: string,
  maxSize: number | undefined,
  nonRoot: 'error' | 'warn' | 'off',
): CheckOutcome {
  const checks = { size: checkSize(size, maxSize), user: checkUser(user) };
  const failures: string[] = [];
  if (!checks.size.ok) failures.push(checks.size.message);
  if (!checks.user.ok && nonRoot === 'error') failures.push(checks.user.message);
  const warning = !checks.user.ok && nonRoot === 'warn' ? checks.user.message : undefined;
  const lines = [
    `${checks.size.ok ? '✅' : '❌'} ${checks.size.message}`,
    nonRoot === 'off'
      ? 'non-root check off'
      : `${checks.user.ok ? '✅' : nonRoot === 'warn' ? '⚠️' : '❌'} ${checks.user.message}`,
  ];
  if (failures.length > 0) lines.push(`**Not pushed:** ${failures.join('; ')}`);
  return { failures, warning, lines };
}

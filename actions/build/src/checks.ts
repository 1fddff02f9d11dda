// The image policy checks that run before any tag exists: size budget and non-root user, for each
// platform of the image (what the registry holds under the pushed digest, or the loaded image).
import { formatBytes } from '../../../lib/action/inputs.js';
import { isRootUser } from '../../../lib/tools/docker.js';

export interface CheckResult {
  ok: boolean;
  /** one line for the log and the summary */
  message: string;
}

/** One image the checks look at: a platform of the pushed image, or the loaded image. */
export interface CheckSubject {
  /** `linux/arm64` for a platform of a pushed image; undefined for a loaded one */
  platform?: string;
  /** compressed bytes in the registry (pushed) or unpacked bytes in the engine (loaded) */
  size: number;
  user: string;
}

function sizeWords(s: CheckSubject): string {
  return s.platform ? `${s.platform} image size (compressed, in the registry)` : 'image size (unpacked)';
}

export function checkSize(size: number, budget: number | undefined, what = 'image size'): CheckResult {
  if (budget === undefined) return { ok: true, message: `${what} ${formatBytes(size)} (no max-size set)` };
  const verdict = size <= budget ? 'within' : 'exceeds';
  return {
    ok: size <= budget,
    message: `${what} ${formatBytes(size)} (${size} bytes) ${verdict} max-size ${formatBytes(budget)} (${budget} bytes)`,
  };
}

export function checkUser(user: string, platform?: string): CheckResult {
  const image = platform ? `the ${platform} image` : 'the final image';
  if (isRootUser(user)) {
    const shown = user.trim() === '' ? 'no USER, so root' : `USER ${user}`;
    return {
      ok: false,
      message: `${image} runs as root (${shown}); add a non-root USER (e.g. USER 10001:10001) to the last stage`,
    };
  }
  return { ok: true, message: `${image} runs as ${user}` };
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
  subjects: CheckSubject[],
  maxSize: number | undefined,
  nonRoot: 'error' | 'warn' | 'off',
): CheckOutcome {
  const failures: string[] = [];
  const warnings: string[] = [];
  const lines: string[] = [];
  for (const subject of subjects) {
    const size = checkSize(subject.size, maxSize, sizeWords(subject));
    const user = checkUser(subject.user, subject.platform);
    if (!size.ok) failures.push(size.message);
    if (!user.ok && nonRoot === 'error') failures.push(user.message);
    if (!user.ok && nonRoot === 'warn') warnings.push(user.message);
    lines.push(`${size.ok ? '✅' : '❌'} ${size.message}`);
    if (nonRoot !== 'off') lines.push(`${user.ok ? '✅' : nonRoot === 'warn' ? '⚠️' : '❌'} ${user.message}`);
  }
  if (nonRoot === 'off') lines.push('non-root check off');
  if (failures.length > 0) lines.push(`**Refused, no tag added:** ${failures.join('; ')}`);
  return { failures, warning: warnings.length > 0 ? warnings.join('; ') : undefined, lines };
}

// What verify checked, one entry per archive or copy: for the log, the annotations and the step summary.
import * as core from '@actions/core';

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** A check's result, before it is recorded under a name. */
export type Verdict = Omit<Check, 'what'>;

/** How a verify went: its checks, and the error that stopped it, if one did. */
export interface VerifyOutcome {
  verified: boolean;
  checks: Check[];
  failure?: unknown;
}

/** Records a check; a failed one is also an error annotation. */
export function record(checks: Check[], what: string, { ok, detail }: Verdict): void {
  checks.push({ what, ok, detail });
  if (ok) core.info(`${what}: ${detail}`);
  else core.error(`verify: ${what}: ${detail}`);
}

/**
 * Runs a verify that records into `checks`; its outcome, with the error that stopped it (kept for the
 * summary, to be thrown after it is written).
 */
export async function verifyOutcome(
  checks: Check[],
  run: (checks: Check[]) => Promise<boolean>,
): Promise<VerifyOutcome> {
  try {
    return { verified: await run(checks), checks };
  } catch (failure) {
    return { verified: false, checks, failure };
  }
}

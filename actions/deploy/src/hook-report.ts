// What the summary and the step's error say about a failed hook. Its output is the hook's own
// (untrusted): each line arrives through oneLine and is shown as inline code.
import { inlineCode } from '../../../lib/action/summary.js';

/** What the deploy report says about the hooks (report.ts's DeployReport has these fields). */
export interface HookReport {
  /** the hook that failed (`pre-deploy api 1`: stage, service, exit code) */
  hookFailed?: string;
  /** its last output lines */
  hookOutput: string[];
}

/** `pre-deploy api 1` as its parts. */
function failedHook(r: Pick<HookReport, 'hookFailed'>) {
  const [stage, service, code] = (r.hookFailed ?? '').split(' ');
  return r.hookFailed ? { stage, service, code } : undefined;
}

/** The summary's rows for a failed hook: which, and its last output lines. */
export function hookRows(r: HookReport): [string, string][] {
  const hook = failedHook(r);
  if (!hook) return [];
  const lines = r.hookOutput.map((l) => inlineCode(l) || ' ').join('<br>');
  return [
    ['Failed hook', `${hook.stage} ${inlineCode(hook.service)} exited with ${hook.code}`],
    ['Hook output (last lines)', lines || 'none'],
  ];
}

/** A deployed release whose post-deploy hook failed: the step fails, saying the release is live. */
export function postDeployError(r: HookReport, release: string): Error | undefined {
  const hook = failedHook(r);
  if (hook?.stage !== 'post-deploy') return undefined;
  const tail = r.hookOutput.length ? `; its last lines: ${r.hookOutput.join(' | ')}` : '';
  return new Error(
    `release ${release} is live (status deployed), but its post-deploy hook for service ${hook.service} exited with ${hook.code}${tail}`,
  );
}

// The github context an action runs in, read from the runner's environment and event payload.
// (What @actions/github's Context holds, without pulling in Octokit.)
import { readFileSync } from 'node:fs';

export interface GitHubContext {
  eventName: string;
  sha: string;
  /** full ref: refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge */
  ref: string;
  repository: string;
  serverUrl: string;
  actor: string;
  runId: string;
  runAttempt: string;
  workflow: string;
  /** the repository's default branch, from the event payload when it has one */
  defaultBranch?: string;
  /** the pull request number, for pull_request(_target) events */
  pullRequest?: number;
  /** the pull request's head commit, which is what a PR build builds */
  headSha?: string;
  payload: Record<string, unknown>;
}

type Env = Record<string, string | undefined>;

interface EventPayload {
  repository?: { default_branch?: string };
  pull_request?: { number?: number; head?: { sha?: string } };
  number?: number;
}

export function contextFromEnv(env: Env = process.env, payloadText?: string): GitHubContext {
  let payload: EventPayload & Record<string, unknown> = {};
  const text = payloadText ?? (env.GITHUB_EVENT_PATH ? readFileSync(env.GITHUB_EVENT_PATH, 'utf8') : '');
  if (text.trim() !== '') payload = JSON.parse(text) as typeof payload;
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const isPr = eventName === 'pull_request' || eventName === 'pull_request_target';
  return {
    eventName,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    actor: env.GITHUB_ACTOR ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    workflow: env.GITHUB_WORKFLOW ?? '',
    defaultBranch: payload.repository?.default_branch,
    pullRequest: isPr ? (payload.pull_request?.number ?? payload.number) : undefined,
    headSha: isPr ? payload.pull_request?.head?.sha : undefined,
    payload,
  };
}

/** https://github.com/owner/repo */
export function repositoryUrl(ctx: GitHubContext): string {
  return `${ctx.serverUrl.replace(/\/$/, '')}/${ctx.repository}`;
}

/** The workflow run's page, for audit records and summaries. */
export function runUrl(ctx: GitHubContext): string {
  return `${repositoryUrl(ctx)}/actions/runs/${ctx.runId}`;
}

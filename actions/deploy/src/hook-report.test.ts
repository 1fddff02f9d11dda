import { describe, expect, it } from 'vitest';
import { deployError, parseReport, summaryMarkdown } from './report.js';

const inputs = { 'remote-dir': '/srv/x', 'lock-timeout': 300 };
const facts = { release: 'r2', host: 'deploy@h:22', project: 'shop', seconds: 3 };

describe('hook reports', () => {
  it('a failed pre-deploy hook: the summary shows its last lines as code, the error its outcome', () => {
    const r = parseReport(
      [
        '::berth::previous-release=r1',
        '::berth::hook-failed=pre-deploy api 1',
        '::berth::hook-output=migrate: refusing | to `downgrade`',
        '::berth::hook-output=::error::x',
        '::berth::failed-stage=pre-deploy',
        '::berth::error=pre-deploy hook api exited with 1: ::error::x',
        '::berth::status=rolled-back',
      ].join('\n'),
    );
    const md = summaryMarkdown(r, facts);
    expect(md).toContain(
      "| Failed hook | pre-deploy `api` exited with 1 |\n| Hook output (last lines) | `migrate: refusing \\| to 'downgrade'`<br>`\\u003a:error::x` |",
    );
    expect(deployError(r, 1, 'r2', inputs)?.message).toBe(
      'release r2 failed at pre-deploy: pre-deploy hook api exited with 1: ::error::x; release r1 kept serving, untouched',
    );
  });

  it('a failed post-deploy hook fails the step while the release is deployed', () => {
    const r = parseReport(
      [
        '::berth::hook-failed=post-deploy api 3',
        '::berth::hook-output=nope',
        '::berth::status=deployed',
      ].join('\n'),
    );
    expect(r.status).toBe('deployed');
    expect(deployError(r, 0, 'r2', inputs)?.message).toBe(
      'release r2 is live (status deployed), but its post-deploy hook for service api exited with 3; its last lines: nope',
    );
    expect(deployError(parseReport('::berth::status=deployed'), 0, 'r2', inputs)).toBeUndefined();
  });
});

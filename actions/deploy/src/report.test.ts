import { describe, expect, it } from 'vitest';
import { failureMessage, parseReport, summaryMarkdown } from './report.js';

const health = Buffer.from(
  JSON.stringify([
    { ExitCode: 1, Output: 'old' },
    { ExitCode: 1, Output: 'GET /healthz: 503 db down\n' },
  ]),
).toString('base64');

describe('parseReport', () => {
  it('reads the host script lines and ignores everything else', () => {
    const r = parseReport(
      [
        'some compose output',
        '::berth::previous-release=20260101T000000Z-aaaaaaa-1234',
        '::berth::failed-stage=up',
        '::berth::error=services did not become healthy within 30 s',
        '::berth::unhealthy=api running/unhealthy',
        `::berth::health=api ${health}`,
        '::berth::status=rolled-back',
        '::berth::duration-seconds=41',
      ].join('\n'),
    );
    expect(r).toMatchObject({
      status: 'rolled-back',
      previousRelease: '20260101T000000Z-aaaaaaa-1234',
      failedStage: 'up',
      durationSeconds: 41,
      unhealthy: ['api running/unhealthy'],
      lastHealth: { api: 'exit 1: GET /healthz: 503 db down' },
    });
    expect(failureMessage(r, 'R3')).toBe(
      'release R3 failed at up: services did not become healthy within 30 s; service api running/unhealthy ' +
        '(last health check: exit 1: GET /healthz: 503 db down); rolled back to 20260101T000000Z-aaaaaaa-1234, which is serving again',
    );
  });

  it('quotes what the host reported as single lines that cannot be workflow commands', () => {
    const hostile = Buffer.from(
      JSON.stringify([{ ExitCode: '1\n::error::pwned', Output: 'down\r\n::add-mask::x\n' }]),
    ).toString('base64');
    const r = parseReport(
      [
        '::berth::failed-stage=::error::pwned',
        '::berth::error=x ##[set-output name=status]deployed',
        '::berth::unhealthy=api ##[warning]pwned',
        `::berth::health=api ${hostile}`,
        '::berth::previous-release=##[error]pwned',
        '::berth::status=failed',
      ].join('\n'),
    );
    const message = failureMessage(r, 'R');
    expect(message.split(/[\r\n]/)).toEqual([message]);
    expect(message).not.toContain('##[');
    expect(message).toContain('at \\u003a:error::pwned: x \\u0023#[set-output name=status]deployed');
    expect(r.lastHealth.api).toBe('exit 1\\n::error::pwned: down\\r\\n::add-mask::x');
    expect(r.previousRelease).toBe('\\u0023#[error]pwned');
  });

  it('records images, probes and retention', () => {
    const r = parseReport(
      '::berth::stage=lock 1000\n::berth::stage=up 1250\n::berth::stage=done 3750\n::berth::image=api reg/api@sha256:abc\n::berth::probe=https://x/healthz 200 12ms\n::berth::removed-release=R1\n::berth::pruned-image=reg/api@sha256:old\n::berth::removed-secret=shop_pw_0123456789\n::berth::status=deployed\n',
    );
    expect(r.images).toEqual({ api: 'reg/api@sha256:abc' });
    expect(r.probes).toEqual(['https://x/healthz 200 12ms']);
    expect(r.removedReleases).toEqual(['R1']);
    expect(r.prunedImages).toEqual(['reg/api@sha256:old']);
    expect(r.removedObjects).toEqual(['secret shop_pw_0123456789']);
    expect(r.stageSeconds).toEqual([
      ['lock', 0.25],
      ['up', 2.5],
    ]);
    const md = summaryMarkdown(r, { release: 'R', host: 'h', project: 'p', seconds: 3, mode: 'swarm' });
    expect(md).toContain('| Time on the host | lock 0.3 s, up 2.5 s |');
    expect(md).toContain('| Host | `h`, project `p` (swarm stack) |');
    expect(md).toContain('| Removed swarm objects | `secret shop_pw_0123456789` |');
  });

  it('shows the certificates https probes were served, dropping a malformed line', () => {
    const at = Math.floor(Date.now() / 1000) + 30 * 86400 + 600;
    const r = parseReport(
      `::berth::cert=https://x/healthz ${at}\n::berth::cert=https://x/ \`pwned\` 1\n::berth::cert=http://x/ 5\n::berth::status=deployed\n`,
    );
    expect(r.certificates).toEqual([{ url: 'https://x/healthz', expiresAt: at }]);
    const md = summaryMarkdown(r, { release: 'R', host: 'h', project: 'p', seconds: 3 });
    const date = new Date(at * 1000).toISOString().slice(0, 10);
    expect(md).toContain(`| Certificate | \`https://x/healthz\` expires ${date} (30 days) |`);
  });

  it('says which old release was kept because a container mounts from it, and which files went', () => {
    const r = parseReport(
      '::berth::kept-release=R0 (mounted by container p-db-1)\n::berth::removed-files=0123abcd\n::berth::status=deployed\n',
    );
    expect(r.keptReleases).toEqual(['R0 (mounted by container p-db-1)']);
    const md = summaryMarkdown(r, { release: 'R', host: 'h', project: 'p', seconds: 3 });
    expect(md).toContain('| Kept release | `R0 (mounted by container p-db-1)` |');
    expect(md).toContain('| Removed files | `files/0123abcd` |');
  });
});

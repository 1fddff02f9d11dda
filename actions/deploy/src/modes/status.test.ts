import { describe, expect, it } from 'vitest';
import { HostReport } from '../../../../lib/ssh/host-script.js';
import { readReleases, statusMarkdown } from './status.js';

const b64 = (text: string) => (text ? Buffer.from(text).toString('base64') : '-');
const digest = `sha256:${'a'.repeat(64)}`;
const line = (id: string, json: string, pins = '', orchestrator = '', log = '') =>
  `::berth::release=${[id, json, pins, orchestrator, log].map(b64).join(' ')}`;

describe('readReleases', () => {
  it('reads each kept release, checking what the host says', () => {
    const a = '20260101T000000Z-aaaaaaa-0001';
    const b = '20260102T000000Z-bbbbbbb-0002';
    const report = HostReport.parse(
      [
        '::berth::current=' + b,
        line(
          b,
          JSON.stringify({ commit: 'b'.repeat(40), created: '2026-01-02T00:00:00Z', images: { api: 'x' } }),
          `services:\n  "api":\n    image: "reg:5000/api@${digest}"\n  "bad name":\n    image: "x"\n  "db":\n    image: "not a ref"\n`,
          'compose\n',
          JSON.stringify({ release: b, status: 'deployed' }),
        ),
        line(
          a,
          JSON.stringify({ commit: '$(evil)', created: 'yesterday', images: { api: `reg/api@${digest}` } }),
          '',
          'weird',
          JSON.stringify({ status: '::error::x' }),
        ),
        line('../../etc', '{}'),
        line('20260103T000000Z-ccccccc-0003', '{broken'),
      ].join('\n'),
    );
    expect(readReleases(report)).toEqual([
      {
        id: a,
        commit: '',
        created: '',
        images: { api: `reg/api@${digest}` },
        result: '',
        current: false,
        orchestrator: '',
      },
      {
        id: b,
        commit: 'b'.repeat(40),
        created: '2026-01-02T00:00:00.000Z',
        images: { api: `reg:5000/api@${digest}` },
        result: 'deployed',
        current: true,
        orchestrator: 'compose',
      },
      {
        id: '20260103T000000Z-ccccccc-0003',
        commit: '',
        created: '',
        images: {},
        result: '',
        current: false,
        orchestrator: '',
        error: 'release.json is not a JSON object',
      },
    ]);
  });

  it('lists nothing for a host without releases, and says so in the summary', () => {
    expect(readReleases(HostReport.parse(''))).toEqual([]);
    expect(statusMarkdown('shop', 'deploy@host', [])).toContain('No releases on the host');
  });
});

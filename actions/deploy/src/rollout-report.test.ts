import { describe, expect, it } from 'vitest';
import { parseServiceUpdates, rolloutRows } from './rollout-report.js';

describe('the services rows', () => {
  it('reads the host lines and drops what it cannot read', () => {
    expect(
      parseServiceUpdates([
        'api start-first 2345 2',
        'db unchanged',
        'nginx recreated 3100',
        'x bogus 1',
        '',
      ]),
    ).toEqual([
      { service: 'api', how: 'start-first', ms: 2345, drainSeconds: 2 },
      { service: 'db', how: 'unchanged', ms: undefined, drainSeconds: undefined },
      { service: 'nginx', how: 'recreated', ms: 3100, drainSeconds: undefined },
    ]);
  });

  it("says how each service was updated, and that a recreated one has a gap of the user's choice", () => {
    const rows = rolloutRows(
      parseServiceUpdates([
        'api start-first 2345 2',
        'nginx recreated 3100',
        'db unchanged',
        'worker created 900',
      ]),
    );
    expect(rows).toEqual([
      [
        'Service `api`',
        expect.stringMatching(/^start-first: new containers healthy after 2\.3 s, the old ones drained 2 s/),
      ],
      [
        'Service `nginx`',
        expect.stringMatching(/^recreated .*not in `zero-downtime`, so its gap is your choice.*3\.1 s/),
      ],
      ['Service `db`', 'unchanged'],
      ['Service `worker`', expect.stringMatching(/^created/)],
    ]);
  });

  it('marks what the automatic rollback did, leaving out what it left as it was', () => {
    const rows = rolloutRows(
      parseServiceUpdates([
        'api start-first 2000 2',
        'nginx recreated 900',
        'rollback',
        'api start-first 1500 2',
        'db unchanged',
      ]),
    );
    expect(rows.map((r) => r[0])).toEqual(['Service `api`', 'Service `nginx`', 'Service `api` (rollback)']);
  });

  it('says an aborted start-first kept the old containers', () => {
    expect(rolloutRows(parseServiceUpdates(['api aborted 25000']))[0]![1]).toMatch(
      /aborted after 25\.0 s: the new containers were removed, the old ones kept serving/,
    );
  });
});

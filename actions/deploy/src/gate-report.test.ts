import { describe, expect, it } from 'vitest';
import { HostReport } from '../../../lib/ssh/host-script.js';
import { defaultFilter, type GateInputs } from './gate.js';
import {
  describeAlerts,
  gateDetail,
  gatePreflightProblems,
  gateRows,
  isAlertmanagerStatus,
  parseAlerts,
  readGateReport,
} from './gate-report.js';

const gate: GateInputs = {
  'alertmanager-url': 'http://127.0.0.1:9093',
  'alert-filter': defaultFilter('shop'),
  'bake-seconds': 8,
};
const b64 = (text: string) => Buffer.from(text).toString('base64');
const report = (lines: string[]) => HostReport.parse(lines.map((l) => `::berth::${l}`).join('\n'));
const STATUS = '{"cluster":{"status":"disabled"},"versionInfo":{"version":"0.25.0"},"config":{}}';
const firing = (labels: Record<string, string>, extra: object = {}) =>
  JSON.stringify([{ labels, startsAt: '2026-01-01T00:00:00Z', status: { state: 'active' }, ...extra }]);

describe('parseAlerts', () => {
  it("reads Alertmanager's alerts: name, labels, start, summary", () => {
    const list = parseAlerts(
      firing({ alertname: 'HighErrorRate', project: 'shop' }, { annotations: { summary: '5xx over 5%' } }),
    );
    expect(list).toEqual({
      total: 1,
      alerts: [
        {
          name: 'HighErrorRate',
          labels: { alertname: 'HighErrorRate', project: 'shop' },
          startsAt: '2026-01-01T00:00:00Z',
          summary: '5xx over 5%',
        },
      ],
    });
    expect(describeAlerts(list)).toBe(
      'HighErrorRate {alertname="HighErrorRate", project="shop"} since 2026-01-01T00:00:00Z: 5xx over 5%',
    );
    expect(parseAlerts('[]')).toEqual({ alerts: [], total: 0 });
  });

  it('refuses what is not a list of alerts with string labels', () => {
    expect(parseAlerts('<html>')).toEqual({ invalid: 'it is not JSON' });
    expect(parseAlerts('{"labels":{}}')).toEqual({ invalid: 'it is not a JSON array' });
    expect(parseAlerts('[{"labels":{"a":1}}]')).toEqual({
      invalid: 'item 0 has a label that is not name: "text"',
    });
    expect(parseAlerts('[{"labels":{"a b":"x"}}]')).toMatchObject({ invalid: /item 0/ });
    expect(parseAlerts('[null]')).toEqual({ invalid: 'item 0 has no labels object' });
    expect(describeAlerts({ invalid: 'it is not JSON' })).toBe(
      "Alertmanager's answer is not a list of alerts (it is not JSON)",
    );
  });

  it('keeps every value one bounded line that cannot be a workflow command, and shows the first ten', () => {
    const hostile = parseAlerts(
      firing({ alertname: '::error::pwned', note: `x\n::warning::pwned ##[group]y`, long: 'z'.repeat(500) }),
    );
    const text = describeAlerts(hostile);
    expect(text).not.toContain('\n');
    expect(text).not.toMatch(/^::|##\[/m);
    expect(text).toContain('z'.repeat(200) + '…');
    expect(text).not.toContain('z'.repeat(201));
    const many = JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ labels: { alertname: `A${i}` } })));
    const list = parseAlerts(many);
    expect(describeAlerts(list)).toMatch(/^A0 \{.*A9 \{alertname="A9"\}; and 2 more$/);
  });
});

describe('isAlertmanagerStatus', () => {
  it('knows the status object from other JSON and other text', () => {
    expect(isAlertmanagerStatus(STATUS)).toBe(true);
    expect(isAlertmanagerStatus('{"status":"success","data":{}}')).toBe(false);
    expect(isAlertmanagerStatus('<html></html>')).toBe(false);
  });
});

describe('gatePreflightProblems', () => {
  const ok = (alerts = '[]') => [
    'am-status-code=200',
    `am-status=${b64(STATUS)}`,
    'am-alerts-code=200',
    `am-alerts=${b64(alerts)}`,
  ];
  const problems = (lines: string[]) => gatePreflightProblems(report(lines), gate);

  it('finds none when Alertmanager answers and nothing matching fires, and none without the gate', () => {
    expect(problems(ok())).toEqual([]);
    expect(gatePreflightProblems(report([]), { 'alert-filter': [], 'bake-seconds': 60 })).toEqual([]);
  });

  it('joins a body sent in several report lines', () => {
    const text = b64(STATUS);
    expect(problems([...ok(), `am-status=${text.slice(0, 8)}`, `am-status=${text.slice(8)}`])).toEqual([]);
  });

  it('names alertmanager-url when the host cannot ask, nothing answers, or it is not an Alertmanager', () => {
    expect(problems(['missing=http-client'])).toEqual([
      'Input "alertmanager-url": http://127.0.0.1:9093 is asked from the host with curl or wget, and the host has neither: sudo apt-get install curl',
    ]);
    expect(problems(['am-status-code=000', `am-status=${b64('curl: (7) Failed to connect')}`])).toEqual([
      'Input "alertmanager-url": http://127.0.0.1:9093 does not answer from the host: curl: (7) Failed to connect',
    ]);
    expect(problems(['am-status-code=404', `am-status=${b64('not found')}`])[0]).toMatch(
      /^Input "alertmanager-url": http:\/\/127.0.0.1:9093 is not an Alertmanager: GET \/api\/v2\/status answered HTTP 404/,
    );
    expect(problems(['am-status-code=200', `am-status=${b64('{"data":{}}')}`])[0]).toMatch(
      /is not an Alertmanager/,
    );
    expect(problems([...ok().slice(0, 2), 'am-alerts-code=200', `am-alerts=${b64('{}')}`])[0]).toBe(
      `Input "alertmanager-url": http://127.0.0.1:9093 answered GET /api/v2/alerts with Alertmanager's answer is not a list of alerts (it is not a JSON array)`,
    );
  });

  it('names alert-filter when Alertmanager refuses it, or alerts matching it already fire', () => {
    expect(
      problems([...ok().slice(0, 2), 'am-alerts-code=400', `am-alerts=${b64('"bad matcher"')}`]),
    ).toEqual([
      'Input "alert-filter": Alertmanager refused severity="critical",project="shop": "bad matcher"',
    ]);
    expect(problems(ok(firing({ alertname: 'Down', severity: 'critical', project: 'shop' })))).toEqual([
      'Input "alert-filter": 1 alert matching severity="critical",project="shop" already firing at http://127.0.0.1:9093, ' +
        'and a release does not go out into a burning stack (resolve or silence it, or narrow the filter): ' +
        'Down {alertname="Down", severity="critical", project="shop"} since 2026-01-01T00:00:00Z',
    ]);
  });
});

describe('the bake in the report and the summary', () => {
  it('reads how long the bake watched and the alerts that stopped it', () => {
    expect(readGateReport(report([]))).toBeUndefined();
    const clean = readGateReport(report(['stage=bake 1', 'gate-watched=8012 9']))!;
    expect(clean).toEqual({ seconds: 8.012, polls: 9, firing: undefined, lost: false });
    expect(gateDetail(clean)).toBe('');
    expect(gateRows(clean, gate)).toEqual([
      [
        'Alert gate',
        'watched `severity="critical",project="shop"` at `http://127.0.0.1:9093` for 8.0 s of 8 s, 9 polls: no matching alert fired (silenced and inhibited alerts do not count)',
      ],
    ]);

    const alerts = firing({ alertname: 'Down', project: 'shop' });
    const stopped = readGateReport(report(['gate-watched=3100 4', `gate-alerts=${b64(alerts)}`]))!;
    expect(gateDetail(stopped)).toBe(
      '; firing: Down {alertname="Down", project="shop"} since 2026-01-01T00:00:00Z',
    );
    expect(gateRows(stopped, gate)).toEqual([
      [
        'Alert gate',
        'stopped the release after 3.1 s of 8 s, 4 polls: `severity="critical",project="shop"` at `http://127.0.0.1:9093`',
      ],
      ['🔥 Firing alert', '`Down {alertname="Down", project="shop"} since 2026-01-01T00:00:00Z`'],
    ]);
  });

  it('says when Alertmanager went away, when the bake was not reached, and nothing without the gate', () => {
    const lost = readGateReport(report(['gate-watched=5000 6', 'gate-lost=000']))!;
    expect(gateRows(lost, gate)[0]![1]).toMatch(
      /^stopped the release after 5.0 s of 8 s, 6 polls: Alertmanager stopped answering/,
    );
    expect(gateRows(undefined, gate)[0]![1]).toMatch(/not reached/);
    expect(gateRows(undefined, { 'alert-filter': [], 'bake-seconds': 60 })).toEqual([]);
    expect(readGateReport(report(['gate-watched=garbage']))).toBeUndefined();
  });
});

// What Alertmanager answered through the host (script/gate.ts), judged on the runner: it is
// untrusted JSON (Alertmanager, or whatever answers at its URL, or the host itself), so it is parsed
// and checked here, bounded, and every piece of it that reaches a log, an error or the summary is one
// line (oneLine) that no runner reads as a workflow command.
import { inlineCode } from '../../../lib/action/summary.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import type { HostReport } from '../../../lib/ssh/host-script.js';
import { Inputs as I } from './constants.js';
import { formatFilter, type GateInputs } from './gate.js';

export interface FiringAlert {
  /** its alertname label ('' when it has none) */
  name: string;
  labels: Record<string, string>;
  startsAt?: string;
  /** its `summary` annotation, if any */
  summary?: string;
}

/** A list of alerts (the first MAX_SHOWN of `total`), or why the text is not one. */
export type AlertList = { alerts: FiringAlert[]; total: number } | { invalid: string };

/** What the bake saw: how long it watched, how many polls, and the alerts that stopped it. */
export interface GateReport {
  seconds: number;
  polls: number;
  firing?: AlertList;
  /** Alertmanager stopped answering during the bake */
  lost: boolean;
}

const MAX_SHOWN = 10;
const MAX_TEXT = 200;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const bounded = (text: string): string =>
  oneLine(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readAlert(item: unknown, index: number): FiringAlert | string {
  if (!isObject(item) || !isObject(item.labels)) return `item ${index} has no labels object`;
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(item.labels)) {
    if (!LABEL_NAME.test(name) || typeof value !== 'string')
      return `item ${index} has a label that is not name: "text"`;
    labels[name] = bounded(value);
  }
  const summary = isObject(item.annotations) ? item.annotations.summary : undefined;
  return {
    name: labels.alertname ?? '',
    labels,
    startsAt: typeof item.startsAt === 'string' ? bounded(item.startsAt) : undefined,
    summary: typeof summary === 'string' ? bounded(summary) : undefined,
  };
}

/** GET /api/v2/alerts's answer: a JSON array of alerts, each with string labels. */
export function parseAlerts(text: string): AlertList {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { invalid: 'it is not JSON' };
  }
  if (!Array.isArray(data)) return { invalid: 'it is not a JSON array' };
  const alerts: FiringAlert[] = [];
  for (const [i, item] of data.entries()) {
    const alert = readAlert(item, i);
    if (typeof alert === 'string') return { invalid: alert };
    if (alerts.length < MAX_SHOWN) alerts.push(alert);
  }
  return { alerts, total: data.length };
}

/** GET /api/v2/status's answer is Alertmanager's: an object with versionInfo and cluster. */
export function isAlertmanagerStatus(text: string): boolean {
  try {
    const data: unknown = JSON.parse(text);
    return isObject(data) && isObject(data.versionInfo) && isObject(data.cluster);
  } catch {
    return false;
  }
}

/** `HighErrorRate {alertname="HighErrorRate", severity="critical"} since ...: summary`. */
export function describeAlert(a: FiringAlert): string {
  const labels = Object.entries(a.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return oneLine(
    `${a.name || '(no alertname)'} {${labels}}${a.startsAt ? ` since ${a.startsAt}` : ''}${a.summary ? `: ${a.summary}` : ''}`,
  );
}

export function describeAlerts(list: AlertList): string {
  if ('invalid' in list) return `Alertmanager's answer is not a list of alerts (${list.invalid})`;
  const more = list.total > list.alerts.length ? `; and ${list.total - list.alerts.length} more` : '';
  return `${list.alerts.map(describeAlert).join('; ')}${more}`;
}

/** A body the host sent back base64-encoded in one or more lines under `key`. */
export function hostBody(report: HostReport, key: string): string {
  return Buffer.from(report.all(key).join(''), 'base64').toString('utf8');
}

/** Preflight's verdict on Alertmanager: each problem one line naming the input that fixes it. */
export function gatePreflightProblems(report: HostReport, gate: GateInputs): string[] {
  const url = gate['alertmanager-url'];
  if (!url) return [];
  const input = `Input "${I.AlertmanagerUrl}": ${url}`;
  if (report.all('missing').includes('http-client'))
    return [
      `${input} is asked from the host with curl or wget, and the host has neither: sudo apt-get install curl`,
    ];
  const statusCode = report.last('am-status-code');
  const status = hostBody(report, 'am-status');
  if (statusCode === '000' || statusCode === undefined)
    return [`${input} does not answer from the host: ${bounded(status.trim() || 'no detail')}`];
  if (statusCode !== '200' || !isAlertmanagerStatus(status))
    return [
      `${input} is not an Alertmanager: GET /api/v2/status answered HTTP ${bounded(statusCode)} without Alertmanager's status`,
    ];
  const code = report.last('am-alerts-code');
  const body = hostBody(report, 'am-alerts');
  const filter = formatFilter(gate['alert-filter']);
  if (code === '400')
    return [`Input "${I.AlertFilter}": Alertmanager refused ${filter}: ${bounded(body.trim())}`];
  if (code !== '200')
    return [
      `${input} answered GET /api/v2/alerts with HTTP ${bounded(code ?? '000')}: ${bounded(body.trim())}`,
    ];
  const list = parseAlerts(body);
  if ('invalid' in list) return [`${input} answered GET /api/v2/alerts with ${describeAlerts(list)}`];
  if (list.total === 0) return [];
  return [
    `Input "${I.AlertFilter}": ${list.total} alert${list.total === 1 ? '' : 's'} matching ${filter} already firing at ${url}, ` +
      `and a release does not go out into a burning stack (resolve or silence ${list.total === 1 ? 'it' : 'them'}, or narrow the filter): ${describeAlerts(list)}`,
  ];
}

/** The bake's report lines, when the bake ran. */
export function readGateReport(report: HostReport): GateReport | undefined {
  const watched = report.last('gate-watched');
  const m = watched === undefined ? null : /^(\d{1,12}) (\d{1,9})$/.exec(watched);
  if (!m) return undefined;
  return {
    seconds: Number(m[1]) / 1000,
    polls: Number(m[2]),
    firing: report.has('gate-alerts') ? parseAlerts(hostBody(report, 'gate-alerts')) : undefined,
    lost: report.has('gate-lost'),
  };
}

/** What the failure message adds when the gate stopped the release: the alerts. */
export function gateDetail(gate: GateReport | undefined): string {
  return gate?.firing ? `; firing: ${describeAlerts(gate.firing)}` : '';
}

/** The summary's rows: what the gate watched, for how long, and every alert that stopped the release. */
export function gateRows(gate: GateReport | undefined, inputs: GateInputs | undefined): [string, string][] {
  const url = inputs?.['alertmanager-url'];
  if (!url || !inputs) return [];
  const what = `${inlineCode(formatFilter(inputs['alert-filter']))} at ${inlineCode(url)}`;
  if (!gate) return [['Alert gate', `${what}: not reached (the release stopped before the bake)`]];
  const watched = `${gate.seconds.toFixed(1)} s of ${inputs['bake-seconds']} s, ${gate.polls} poll${gate.polls === 1 ? '' : 's'}`;
  const rows: [string, string][] = [];
  if (gate.lost)
    return [['Alert gate', `stopped the release after ${watched}: Alertmanager stopped answering (${what})`]];
  if (!gate.firing) {
    rows.push([
      'Alert gate',
      `watched ${what} for ${watched}: no matching alert fired (silenced and inhibited alerts do not count)`,
    ]);
    return rows;
  }
  rows.push(['Alert gate', `stopped the release after ${watched}: ${what}`]);
  if ('invalid' in gate.firing) rows.push(['🔥 Firing', describeAlerts(gate.firing)]);
  else
    for (const alert of gate.firing.alerts) rows.push(['🔥 Firing alert', inlineCode(describeAlert(alert))]);
  return rows;
}

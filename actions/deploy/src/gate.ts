// The Alertmanager gate's inputs (alertmanager-url, alert-filter, bake-seconds): checked here before
// the host is touched, and handed to the host scripts (script/gate.ts) as quoted values. The gate
// reads Alertmanager's API, so any alert source that feeds Alertmanager (a Prometheus rule, a posted
// alert) stops a release the same way.
import { getString, inputError } from '../../../lib/action/inputs.js';
import type { HostValues } from '../../../lib/ssh/host-script.js';
import { Inputs as I } from './constants.js';
import { deploysNewRelease, type Mode } from './modes/mode.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One Alertmanager matcher: `name op "value"`. */
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface GateInputs {
  /** scheme://host[:port][/path], no trailing slash; unset: no gate */
  'alertmanager-url'?: string;
  'alert-filter': Matcher[];
  /** seconds */
  'bake-seconds': number;
}

export const DEFAULT_BAKE_SECONDS = 60;
export const MAX_BAKE_SECONDS = 3600;
/** The host's timeout for one request to Alertmanager, in seconds. */
export const AM_TIMEOUT_SECONDS = 3;
const MAX_MATCHERS = 32;
const MAX_FILTER_CHARS = 4096;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `severity="critical",project="<project>"`: the project's critical alerts. */
export function defaultFilter(project: string): Matcher[] {
  return [
    { name: 'severity', op: '=', value: 'critical' },
    { name: 'project', op: '=', value: project },
  ];
}

/** A matcher as Alertmanager reads it, its value quoted with `\\`, `\"` and `\n` escaped. */
export function formatMatcher(m: Matcher): string {
  const value = m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${m.name}${m.op}"${value}"`;
}

export function formatFilter(matchers: readonly Matcher[]): string {
  return matchers.map(formatMatcher).join(',');
}

/** A double-quoted value starting at `text[start]` (the quote): its text and the index after it. */
function quotedValue(text: string, start: number): { value: string; end: number } {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const next = text[++i];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw inputError(I.AlertFilter, `unknown escape \\${next ?? ''} in ${text.slice(start, i + 1)}`);
    } else value += c;
  }
  throw inputError(I.AlertFilter, `unterminated quoted value ${text.slice(start)}`);
}

/** One matcher at `text[start]`; returns it and the index after it (and its separator). */
function matcherAt(text: string, start: number): { matcher: Matcher; end: number } {
  const head = /^\s*([^\s=!~,"]*)\s*(=~|!~|!=|=)?\s*/.exec(text.slice(start))!;
  const name = head[1]!;
  const op = head[2] as MatchOp | undefined;
  const rest = text.slice(start);
  if (!op || !LABEL_NAME.test(name))
    throw inputError(
      I.AlertFilter,
      `${JSON.stringify(rest.split(',')[0]!.trim())} is not a matcher: label="value", label!="value", label=~"regex" or label!~"regex"`,
    );
  let i = start + head[0].length;
  let value: string;
  if (text[i] === '"') {
    ({ value, end: i } = quotedValue(text, i));
  } else {
    // An unquoted value runs to the next comma, as Alertmanager's own parser reads it.
    const m = /^[^,"]*/.exec(text.slice(i))!;
    value = m[0].trim();
    i += m[0].length;
  }
  const after = /^\s*(,|$)/.exec(text.slice(i));
  if (!after)
    throw inputError(I.AlertFilter, `unexpected ${JSON.stringify(text.slice(i).trim())} after ${name}${op}`);
  return { matcher: { name, op, value }, end: i + after[0].length };
}

/**
 * Alertmanager matchers as `amtool` and the API take them: `name op value` separated by commas or
 * line breaks, optionally in braces, values double-quoted (escapes `\\`, `\"`, `\n`) or bare.
 * Regular expressions are Go's (RE2): Alertmanager itself checks them in the preflight.
 */
export function parseFilter(raw: string): Matcher[] {
  let text = raw.replace(/\r?\n/g, ',').trim();
  if (text.length > MAX_FILTER_CHARS)
    throw inputError(I.AlertFilter, `is over ${MAX_FILTER_CHARS} characters`);
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw inputError(I.AlertFilter, 'holds a control character');
  const matchers: Matcher[] = [];
  let i = 0;
  while (/\S/.test(text.slice(i))) {
    if (/^\s*,/.test(text.slice(i))) {
      i += /^\s*,/.exec(text.slice(i))![0].length;
      continue;
    }
    const { matcher, end } = matcherAt(text, i);
    matchers.push(matcher);
    i = end;
  }
  if (matchers.length === 0) throw inputError(I.AlertFilter, 'holds no matcher');
  if (matchers.length > MAX_MATCHERS) throw inputError(I.AlertFilter, `holds over ${MAX_MATCHERS} matchers`);
  return matchers;
}

/** Input alertmanager-url: an http(s) URL without credentials, query or fragment; no trailing slash. */
export function parseAlertmanagerUrl(raw: string): string {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw inputError(I.AlertmanagerUrl, `${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw inputError(I.AlertmanagerUrl, `${JSON.stringify(text)} is not an http or https URL`);
  if (url.username || url.password)
    throw inputError(
      I.AlertmanagerUrl,
      'credentials in the URL (user:password@) would be logged and put on a command line on the host; ' +
        "use an Alertmanager the host reaches without them (e.g. on the host's loopback)",
    );
  if (url.search || url.hash || text.includes('?') || text.includes('#'))
    throw inputError(I.AlertmanagerUrl, 'takes no query or fragment: Berth adds the API path and query');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseBakeSeconds(raw: string): number {
  const value = raw.trim();
  if (!value) return DEFAULT_BAKE_SECONDS;
  if (!/^\d+$/.test(value) || Number(value) > MAX_BAKE_SECONDS)
    throw inputError(
      I.BakeSeconds,
      `${JSON.stringify(raw)} is not a whole number of seconds from 0 to ${MAX_BAKE_SECONDS}`,
    );
  return Number(value);
}

/** The query of GET /api/v2/alerts: firing alerts, neither silenced nor inhibited, one `filter` per matcher. */
export function alertsQuery(matchers: readonly Matcher[]): string {
  const filters = matchers.map((m) => `filter=${encodeURIComponent(formatMatcher(m))}`);
  return ['active=true', 'silenced=false', 'inhibited=false', ...filters].join('&');
}

/**
 * The gate's inputs. Only a new release is gated: a rollback must be able to go out while alerts
 * fire (that is often why it runs), so modes rollback and status ignore them.
 */
export function getGateInputs(project: string, mode: Mode): GateInputs {
  const url = getString(I.AlertmanagerUrl)?.trim();
  const filter = getString(I.AlertFilter)?.trim();
  const bake = parseBakeSeconds(getString(I.BakeSeconds) ?? '');
  if (!url) {
    if (filter) throw inputError(I.AlertFilter, `is only used with "${I.AlertmanagerUrl}"`);
    return { 'alert-filter': [], 'bake-seconds': bake };
  }
  const parsed = parseAlertmanagerUrl(url);
  return {
    'alertmanager-url': deploysNewRelease(mode) ? parsed : undefined,
    'alert-filter': filter ? parseFilter(filter) : defaultFilter(project),
    'bake-seconds': bake,
  };
}

/** The host scripts' values: AM_URL empty means no gate. */
export function gateValues(gate: GateInputs): HostValues {
  return {
    AM_URL: gate['alertmanager-url'] ?? '',
    AM_QUERY: alertsQuery(gate['alert-filter']),
    AM_TIMEOUT: AM_TIMEOUT_SECONDS,
    BAKE_SECONDS: gate['bake-seconds'],
  };
}

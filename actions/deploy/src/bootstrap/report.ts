// What host/bootstrap.sh reported (--report): its change rows (`change=<item> <before> <after>`, each
// field base64), error, warnings, the system and Docker's versions; and the job summary made of them.
// Everything is the host's word: fields that do not decode are dropped, the rest is shown on one line,
// bounded, and only inside code spans in the summary.
import { inlineCode, keyValueTable, markdownTable } from '../../../../lib/action/summary.js';
import { oneLine } from '../../../../lib/action/untrusted.js';
import type { HostReport } from '../../../../lib/ssh/host-script.js';

export interface Change {
  item: string;
  before: string;
  after: string;
}

export interface PhaseReport {
  changes: Change[];
  error?: string;
  warnings: string[];
  /** `<id> <version>` of the system, e.g. `debian 12` */
  os?: string;
  /** `engine X, compose Y, buildx Z` */
  docker?: string;
}

const MAX_CHARS = 200;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Host text for a log line or a cell: one line (workflow commands broken up), at most MAX_CHARS. */
export function hostText(text: string): string {
  const line = oneLine(text.trim());
  return line.length > MAX_CHARS ? `${line.slice(0, MAX_CHARS)}…` : line;
}

function decodeField(field: string): string | undefined {
  if (!BASE64.test(field) || field.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(field, 'base64');
  const text = bytes.toString('utf8');
  // Not UTF-8 (a replacement character where the bytes had none): not text the script wrote.
  if (!Buffer.from(text, 'utf8').equals(bytes)) return undefined;
  return hostText(text);
}

/** The change rows; a line whose three fields do not decode is left out. */
export function parseChanges(values: readonly string[]): Change[] {
  const changes: Change[] = [];
  for (const value of values) {
    const fields = value.split(' ');
    if (fields.length !== 3) continue;
    const [item, before, after] = fields.map(decodeField);
    if (item === undefined || before === undefined || after === undefined || item === '') continue;
    changes.push({ item, before, after });
  }
  return changes;
}

export function readPhaseReport(report: HostReport): PhaseReport {
  const error = report.last('error');
  const os = report.last('os');
  const docker = report.last('docker');
  return {
    changes: parseChanges(report.all('change')),
    error: error ? hostText(error) : undefined,
    warnings: report.all('warning').map(hostText),
    os: os ? hostText(os) : undefined,
    docker: docker ? hostText(docker) : undefined,
  };
}

export const changed = (c: Change): boolean => c.before !== c.after;

/** One row's change as text: `before -> after`, or `unchanged (value)`. */
export function changeText(c: Change): string {
  return changed(c) ? `${c.before} -> ${c.after}` : `unchanged (${c.after})`;
}

export interface BootstrapFacts {
  target: string;
  profile: string;
  deployUser: string;
  os?: string;
  docker?: string;
  /** what happened to sshd and the firewall, in words */
  hardening: string;
  seconds: number;
}

/** The job summary: the facts, then every item with its change (host values in code spans). */
export function bootstrapMarkdown(facts: BootstrapFacts, changes: readonly Change[]): string {
  const count = changes.filter(changed).length;
  const facts_ = keyValueTable([
    ['host', inlineCode(facts.target)],
    ['profile', facts.profile],
    ['system', facts.os ? inlineCode(facts.os) : 'unknown'],
    ['Docker', facts.docker ? inlineCode(facts.docker) : 'not checked'],
    ['deploy user', inlineCode(facts.deployUser)],
    ['sshd and firewall', facts.hardening],
    [
      'changed',
      count === 0
        ? `nothing (all ${changes.length} items already as wanted)`
        : `${count} of ${changes.length} items`,
    ],
    ['time', `${facts.seconds.toFixed(1)} s`],
  ]);
  const rows = changes.map((c) =>
    changed(c)
      ? [inlineCode(c.item), `${inlineCode(c.before)} → ${inlineCode(c.after)}`]
      : [inlineCode(c.item), `unchanged (${inlineCode(c.after)})`],
  );
  const table = rows.length > 0 ? `\n\n${markdownTable(['item', 'change'], rows)}` : '';
  return `### Bootstrap of ${inlineCode(facts.target)}\n\n${facts_}${table}\n`;
}

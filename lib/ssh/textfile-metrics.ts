// Prometheus' text exposition format, for the files deploy and backup leave in the node exporter's
// textfile directory (textfile.ts writes them): rendering, and a defensive reader of the previous
// file, which is the host's word (anyone who can write the directory can write it) and only ever
// gives back samples of the metrics asked for, with checked labels and finite values.

/** One sample: a metric name, its labels, a value. */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: its HELP text, its type, its samples (all of this name). */
export interface Family {
  name: string;
  help: string;
  type: 'gauge';
  samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A label value is cut to this many characters: a commit or release id is far shorter. */
export const MAX_LABEL_CHARS = 256;

/**
 * `value` as the text between a label value's double quotes: backslash, double quote and line feed
 * escaped as the format says; other control characters dropped (no reader needs them, and a raw one
 * would end up in logs and consoles), and the length bounded.
 */
export function escapeLabelValue(value: string): string {
  return (
    [...value]
      .slice(0, MAX_LABEL_CHARS)
      .join('')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '')
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/\n/g, '\\n')
  );
}

/** A value as the format writes it (Go's ParseFloat reads it back); non-finite ones by name. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

function sampleLine(s: Sample): string {
  if (!METRIC_NAME.test(s.name)) throw new Error(`${JSON.stringify(s.name)} is not a metric name`);
  const labels = Object.entries(s.labels).map(([k, v]) => {
    if (!LABEL_NAME.test(k) || k.startsWith('__'))
      throw new Error(`${JSON.stringify(k)} is not a label name`);
    return `${k}="${escapeLabelValue(v)}"`;
  });
  return `${s.name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(s.value)}`;
}

/** The exposition text of `families` (those without samples are left out), ending in a line feed. */
export function renderExposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    if (f.samples.some((s) => s.name !== f.name))
      throw new Error(`family ${f.name} has another metric's sample`);
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    lines.push(...f.samples.map(sampleLine));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

// ---- reading a previous file back ---------------------------------------------------------------

/** More than this is not a file we wrote: read nothing from it. */
const MAX_LINES = 1000;
const MAX_LINE_CHARS = 4096;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `{a="x",b="y"}` as a record, or undefined when it is not exactly that (escapes as rendered). */
export function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const pair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;
  const body = text.slice(1, -1);
  pair.lastIndex = 0;
  while (pair.lastIndex < body.length) {
    const m = pair.exec(body);
    if (!m || m[1]! in labels) return undefined;
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '') break;
  }
  return pair.lastIndex === body.length ? labels : undefined;
}

/**
 * The samples of the metrics in `names` that `text` holds, in order; comments and every line that is
 * not a well-formed sample (or has a non-finite value) are skipped, never an error.
 */
export function parseExposition(text: string, names: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n').slice(0, MAX_LINES)) {
    if (line.length > MAX_LINE_CHARS || line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m || !names.has(m[1]!) || !NUMBER.test(m[3]!)) continue;
    const labels = m[2] === undefined ? {} : parseLabels(m[2]);
    const value = Number(m[3]);
    if (labels && Number.isFinite(value)) samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The value of the last sample named `name` whose labels include `match`. */
export function findValue(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number | undefined {
  return samples.findLast(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

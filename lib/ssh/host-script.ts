// The protocol between an action and the bash scripts it runs on a host, written once for every
// action: a script is a static body (never built from inputs) behind one shared prelude; values reach
// it only as quoted variable assignments before the body; it reports back through `::berth::key=value`
// lines on stdout, which `HostReport` reads. Nothing read back is trusted: keys must look like keys,
// values lose control characters and are bounded in length.
import type { RunResult } from '../action/exec.js';
import type { ExecOptions, SshSession } from './session.js';
import { shellQuote } from './shell.js';

/**
 * A template tag for script bodies: the raw text, with `$\{` turned back into `${`. JavaScript's raw
 * strings cannot hold `${` (it starts a substitution), so bash's parameter expansions are written
 * `$\{name}` in the source.
 */
export function bash(strings: TemplateStringsArray, ...values: unknown[]): string {
  return String.raw(strings, ...values).replaceAll('$\\{', '${');
}

/**
 * What every host script starts with: strict mode, `emit key value` (one report line on stdout), and
 * an ERR trap that says on stderr which line and command failed, so a failing script always reports
 * why (its stderr ends up in the action's error). The trap writes to stderr because stdout may be a
 * data stream (a tar archive, a dump). A script may set its own ERR trap after the prelude.
 *
 * One line per failure, so that it never pushes the failing tool's own message out of the error's
 * stderr tail: a multi-line command is named by its first line. `set -E` hands the trap to subshells
 * too, where a failure is often expected and captured (`out=$(cmd 2>&1)`, a retried probe): it speaks
 * only in the script's own shell, whose failure set -e turns into the script's end.
 */
export const HOST_PRELUDE = bash`set -Eeuo pipefail
emit() { printf '::berth::%s=%s\n' "$1" "$2"; }
berth_failed() {
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  local command=$3
  case $command in *$'\n'*) command="$\{command%%$'\n'*} …" ;; esac
  echo "berth: line $2: \`$command\` exited with $1" >&2
}
trap 'berth_failed $? $LINENO "$BASH_COMMAND"' ERR
`;

/** A value for a host script: strings and numbers as they are, booleans as 1/0, lists as bash arrays. */
export type HostValue = string | number | boolean | readonly string[];
export type HostValues = Readonly<Record<string, HostValue>>;

const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

function quoted(value: string | number | boolean): string {
  return shellQuote(typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
}

/**
 * The assignments that hand `values` to a script: `NAME='value'` lines, or `NAME=('a' 'b')` for
 * lists, every value single-quoted so that nothing in it is ever parsed as shell.
 */
export function renderAssignments(values: HostValues): string {
  return Object.entries(values)
    .map(([name, value]) => {
      if (!VARIABLE.test(name)) throw new Error(`${JSON.stringify(name)} is not a host script variable name`);
      if (typeof value === 'object') return `${name}=(${value.map((v) => quoted(v)).join(' ')})`;
      return `${name}=${quoted(value)}`;
    })
    .join('\n');
}

/** The whole script: prelude, the values, the body. */
export function renderHostScript(body: string, values: HostValues = {}): string {
  const assignments = renderAssignments(values);
  return `${HOST_PRELUDE}${assignments ? `${assignments}\n` : ''}${body}`;
}

// ---- reading what a script reported -------------------------------------------------------------

export interface HostReportLine {
  key: string;
  value: string;
}

const REPORT_LINE = /^::berth::([a-z][a-z0-9-]*)=(.*)$/;
/** Longer values are cut: nothing a host script reports legitimately comes near it. */
const MAX_VALUE_CHARS = 64 * 1024;

/**
 * One `::berth::key=value` line, or undefined for any other output. The value loses control
 * characters (a host could otherwise smuggle a line break or an escape into the log) and is bounded.
 */
export function readReportLine(line: string): HostReportLine | undefined {
  const m = REPORT_LINE.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  // eslint-disable-next-line no-control-regex
  const value = m[2]!.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, MAX_VALUE_CHARS);
  return { key: m[1]!, value };
}

/** Every report line of a script's stdout, in order, with typed accessors. */
export class HostReport {
  constructor(readonly lines: readonly HostReportLine[]) {}

  static parse(stdout: string): HostReport {
    const lines: HostReportLine[] = [];
    for (const line of stdout.split('\n')) {
      const entry = readReportLine(line);
      if (entry) lines.push(entry);
    }
    return new HostReport(lines);
  }

  /** Every value reported under `key`, in order. */
  all(key: string): string[] {
    return this.lines.filter((l) => l.key === key).map((l) => l.value);
  }

  /** The last value reported under `key` (a later report overrides an earlier one). */
  last(key: string): string | undefined {
    return this.all(key).at(-1);
  }

  has(key: string): boolean {
    return this.lines.some((l) => l.key === key);
  }

  /** The last value of `key` as a non-negative integer, undefined when absent or not one. */
  int(key: string): number | undefined {
    const value = this.last(key);
    return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  }

  /**
   * The values of `key` split at their first space into `[head, rest]` (e.g. `volume=<name> <short>`):
   * values without a space give `[value, '']`.
   */
  pairs(key: string): [string, string][] {
    return this.all(key).map((value) => {
      const space = value.indexOf(' ');
      return space === -1 ? [value, ''] : [value.slice(0, space), value.slice(space + 1)];
    });
  }
}

export interface HostScriptResult extends RunResult {
  report: HostReport;
}

/** Runs `body` with `values` over `session` and reads its report. */
export async function runHostScript(
  session: SshSession,
  body: string,
  values: HostValues = {},
  options: ExecOptions = {},
): Promise<HostScriptResult> {
  const result = await session.script(renderHostScript(body, values), options);
  return { ...result, report: HostReport.parse(result.stdout) };
}

// How a command appears in the log and in error messages: its line with secrets masked, a short name,
// and the end of its stderr.
import { basename } from 'node:path';

/** How many trailing stderr lines a failure message carries. */
export const STDERR_TAIL_LINES = 20;
/** How many arguments after the command a failure message names. */
const ARGS_IN_ERROR = 3;
const MAX_ARG_CHARS = 60;

function shownArgs(args: readonly string[], redact: readonly number[]): string[] {
  return args.map((arg, index) => (redact.includes(index) ? '***' : arg));
}

/** The full command line for the log, with redacted arguments masked. */
export function formatCommandLine(
  cmd: string,
  args: readonly string[],
  redact: readonly number[] = [],
): string {
  return [cmd, ...shownArgs(args, redact)].map(quoteForLog).join(' ');
}

/** Short name for error messages: command basename and its first few (redacted, shortened) arguments. */
export function describeCommand(
  cmd: string,
  args: readonly string[],
  redact: readonly number[] = [],
): string {
  const shown = shownArgs(args, redact)
    .slice(0, ARGS_IN_ERROR)
    .map((arg) => (arg.length > MAX_ARG_CHARS ? `${arg.slice(0, MAX_ARG_CHARS)}…` : arg));
  const more = args.length > ARGS_IN_ERROR ? ' …' : '';
  return [basename(cmd), ...shown].map(quoteForLog).join(' ') + more;
}

function quoteForLog(word: string): string {
  return /^[\w@%+=:,./*-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The last `count` lines of `text`, ignoring trailing blank lines. */
export function tailLines(text: string, count: number = STDERR_TAIL_LINES): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-count).join('\n');
}

export function commandFailedMessage(command: string, exitCode: number, stderr: string): string {
  const tail = tailLines(stderr);
  const detail = tail === '' ? '(no stderr output)' : `last lines of stderr:\n${tail}`;
  return `\`${command}\` failed with exit code ${exitCode}; ${detail}`;
}

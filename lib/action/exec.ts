// Running external tools (docker, ssh, trivy, ...): output streamed to the log, captured for callers,
// and failures turned into errors that say which command failed and why, without leaking secrets.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { getExecOutput } from '@actions/exec';

export interface RunOptions {
  cwd?: string;
  /** Extra variables merged over process.env; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, e.g. a password for `docker login --password-stdin`. */
  input?: Buffer | string;
  /** Don't stream the command line and its output to the log. Default false. */
  silent?: boolean;
  /** Return a non-zero exit code instead of throwing. */
  ignoreReturnCode?: boolean;
  /** Indexes into `args` whose values must never be printed (shown as `***`). */
  redact?: readonly number[];
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

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

function mergedEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export async function run(
  cmd: string,
  args: readonly string[] = [],
  options: RunOptions = {},
): Promise<RunResult> {
  const redact = options.redact ?? [];
  const command = describeCommand(cmd, args, redact);
  // Resolve bare names ourselves so a missing tool gets our message, not @actions/io's.
  const searchPath = options.env && 'PATH' in options.env ? options.env['PATH'] : process.env['PATH'];
  const executable = cmd.includes('/') ? cmd : await which(cmd, undefined, searchPath ?? '');
  const silent = options.silent ?? false;
  if (!silent) process.stdout.write(`[command]${formatCommandLine(executable, args, redact)}\n`);

  let result: RunResult;
  try {
    result = await getExecOutput(executable, [...args], {
      cwd: options.cwd,
      env: options.env ? mergedEnv(options.env) : undefined,
      input: typeof options.input === 'string' ? Buffer.from(options.input) : options.input,
      // @actions/exec echoes the raw argument list when not silent; we print our redacted line instead.
      silent: true,
      ignoreReturnCode: true,
      listeners: silent
        ? {}
        : { stdout: (chunk) => process.stdout.write(chunk), stderr: (chunk) => process.stderr.write(chunk) },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`\`${command}\` could not be started: ${reason}`, { cause: error });
  }
  if (result.exitCode !== 0 && !options.ignoreReturnCode) {
    throw new Error(commandFailedMessage(command, result.exitCode, result.stderr));
  }
  return result;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of `tool` on PATH; throws a message saying what is missing and, optionally, why it matters. */
export async function which(
  tool: string,
  hint?: string,
  searchPath = process.env['PATH'] ?? '',
): Promise<string> {
  if (isAbsolute(tool)) {
    if (await isExecutableFile(tool)) return tool;
  } else {
    for (const dir of searchPath.split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, tool);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  const advice = hint ?? `install it on the runner or add its directory to PATH`;
  throw new Error(`\`${tool}\` is not on PATH; ${advice}`);
}

// Running external tools (docker, ssh, trivy, ...): output streamed to the log, captured for callers,
// and failures turned into errors that say which command failed and why, without leaking secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { commandFailedMessage, describeCommand, formatCommandLine } from './command-text.js';
import { untrustedOutput } from './untrusted-output.js';
import { oneLine } from './untrusted.js';

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
  /** Set when runProcess's `timeoutMs` ran out and the process was killed. */
  timedOut?: boolean;
}

/** Options of the one process runner, `runProcess`; `run` builds on it. */
export interface ProcessOptions {
  cwd?: string;
  /** The child's whole environment; process.env when not given. */
  env?: NodeJS.ProcessEnv;
  /** Streamed to stdin (a tar bundle, a secret); otherwise stdin is empty, so nothing waits for it. */
  input?: Buffer | string | NodeJS.ReadableStream;
  /**
   * Don't stream the output to the log. Default false: stdout and stderr are streamed to the step's
   * stdout inside a stop-commands block (lib/action/untrusted-output.ts), so nothing in them is obeyed
   * as a workflow command.
   */
  silent?: boolean;
  /** Called with each line of stdout (without its newline) as it arrives. */
  onStdoutLine?: (line: string) => void;
  /**
   * Pipes stdout (binary, with backpressure) into this stream instead of capturing it: the result's
   * stdout is then empty. The call resolves once the process has exited and the stream has finished.
   */
  stdout?: NodeJS.WritableStream;
  /**
   * For a process that leaves a daemon behind holding its output open (`ssh -f`): stdout is discarded
   * and stderr goes to this open file descriptor, so the call resolves when the process itself exits.
   */
  stderrFd?: number;
  /** Kills the process after this many milliseconds; the result then has `timedOut`. */
  timeoutMs?: number;
}

/** Splits a byte stream into lines (UTF-8 safe across chunks), without their `\n` or `\r\n`. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const feed = (text: string): void => {
    const parts = (pending + text).split('\n');
    pending = parts.pop()!;
    for (const line of parts) onLine(line.replace(/\r$/, ''));
  };
  return {
    push: (chunk) => feed(decoder.write(chunk)),
    end: () => {
      feed(decoder.end());
      if (pending !== '') onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}

/** Feeds `input` (or nothing) to the child's stdin; a failing input stream kills the child. */
function feedStdin(child: ChildProcess, input: ProcessOptions['input'], fail: (error: Error) => void): void {
  const stdin = child.stdin!;
  // The process may exit without reading all its input; its exit code says what happened, not EPIPE.
  stdin.on('error', () => {});
  if (input === undefined) {
    stdin.end(); // an empty stdin, so a process that reads it does not wait forever
  } else if (typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.end(input);
  } else {
    input.on('error', (error) => {
      // The other side sees end-of-input; the caller must not trust what it did with a partial upload.
      child.kill();
      fail(new Error(`the input stream failed: ${String(error)}`, { cause: error }));
    });
    input.pipe(stdin);
  }
}

/** What a child wrote, as it comes: stdout captured or piped into a sink, stderr captured. */
interface Output {
  stdout: Buffer[];
  stderr: Buffer[];
  /** Settles when the stdout sink has finished (at once without a sink). */
  sinkDone: Promise<void>;
  /** Flushes the last stdout line; call on close. */
  end(): void;
  /** Ends this process's part of the log (its block of untrusted output); later output is not logged. */
  endLog(): void;
}

/** Collects the child's output, streaming it to the log unless silent. */
function collectOutput(
  child: ChildProcess,
  options: ProcessOptions,
  onLine?: (line: string) => void,
): Output {
  const log = options.silent ? undefined : untrustedOutput();
  const output: Output = {
    stdout: [],
    stderr: [],
    sinkDone: Promise.resolve(),
    end: () => log?.end(),
    endLog: () => log?.end(),
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr.push(chunk);
    log?.write(chunk);
  });
  const sink = options.stdout;
  if (sink && child.stdout) {
    output.sinkDone = new Promise<void>((done, fail) => {
      sink.on('finish', done);
      sink.on('error', (error: Error) => {
        child.kill();
        fail(error);
      });
    });
    output.sinkDone.catch(() => {});
    child.stdout.pipe(sink);
    return output;
  }
  const lines = onLine && lineSplitter(onLine);
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout.push(chunk);
    lines?.push(chunk);
    log?.write(chunk);
  });
  output.end = () => {
    lines?.end();
    log?.end();
  };
  return output;
}

/**
 * The one way Berth runs a local process: stdin streamed (or empty), stdout captured or piped with
 * backpressure, stdout lines reported as they come, output streamed to the log unless silent. Resolves
 * with the exit code (a signal as 128 + its number) whatever it is; rejects when the process cannot be
 * started, the input or output stream fails, or onStdoutLine throws.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { stderrFd } = options;
    const child = spawn(file, args, {
      stdio: stderrFd === undefined ? 'pipe' : ['pipe', 'ignore', stderrFd],
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    let callbackError: unknown;
    const report = options.onStdoutLine;
    const output = collectOutput(
      child,
      options,
      report &&
        ((line) => {
          try {
            report(line);
          } catch (error) {
            callbackError ??= error;
          }
        }),
    );
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill();
          }, options.timeoutMs);
    // Rejecting lets the caller report a failure (a workflow command): the block must be over first.
    const fail = (error: unknown): void => {
      output.endLog();
      reject(error);
    };
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      output.end();
      if (callbackError !== undefined) return reject(callbackError);
      const result: RunResult = {
        exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(output.stdout).toString('utf8'),
        stderr: Buffer.concat(output.stderr).toString('utf8'),
        ...(timedOut ? { timedOut } : {}),
      };
      output.sinkDone.then(() => resolve(result), reject);
    });
    feedStdin(child, options.input, fail);
  });
}

function mergedEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries({ ...process.env, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Runs a tool found on PATH, echoing its (redacted) command line unless silent, and throws when it
 * cannot start or exits non-zero (unless ignoreReturnCode), with the end of its stderr.
 */
export async function run(
  cmd: string,
  args: readonly string[] = [],
  options: RunOptions = {},
): Promise<RunResult> {
  const redact = options.redact ?? [];
  const command = describeCommand(cmd, args, redact);
  // Resolve bare names ourselves so a missing tool gets our message.
  const searchPath = options.env && 'PATH' in options.env ? options.env['PATH'] : process.env['PATH'];
  const executable = cmd.includes('/') ? cmd : await which(cmd, undefined, searchPath ?? '');
  const silent = options.silent ?? false;
  // One line whatever the arguments hold, so none of them is read as a workflow command.
  if (!silent) process.stdout.write(`[command]${oneLine(formatCommandLine(executable, args, redact))}\n`);

  let result: RunResult;
  try {
    result = await runProcess(executable, args, {
      cwd: options.cwd,
      env: options.env ? mergedEnv(options.env) : undefined,
      input: options.input,
      silent,
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
    await access(path, fsConstants.X_OK);
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

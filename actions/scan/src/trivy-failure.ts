// Trivy's failures turned into messages that name the input at fault (an image that is not there, a
// DB repository that cannot be read, JAR files without java-db, the timeout), and the one ERROR
// Trivy logs that is not a failure.
import { inputError } from '../../../lib/action/inputs.js';
import { goDuration } from './command.js';
import { Inputs } from './constants.js';

/** Trivy's FATAL message: from `FATAL` to the end of stderr, one line, timestamps and tabs gone. */
export function fatalMessage(stderr: string): string | undefined {
  const start = stderr.search(/\tFATAL\t|\bFATAL\b/);
  if (start === -1) return undefined;
  const text = stderr
    .slice(start)
    .replace(/^\t?FATAL\t?/, '')
    .replace(/^Fatal error\s*/, '');
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/\t/g, ' ').trim())
    .filter((line) => line !== '')
    .join(' ');
}

/** The distinct `* ...` detail lines of a go-multierror, in order. */
function details(stderr: string): string[] {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => /^\s*\*\s+(.*)$/.exec(line)?.[1]?.trim())
    .filter((line): line is string => line !== undefined && line !== '')
    .map((line) =>
      line
        .replace(/^remote error:\s*/, '')
        .replace(/;\s*\[?map\[.*\]\]?$/, '')
        .trim(),
    );
  return [...new Set(lines)];
}

export interface FailureContext {
  image?: string;
  dbRepositories: readonly string[];
  timeoutMs: number;
}

/**
 * The error for a Trivy run that exited non-zero: an input error when the cause is one (an image that
 * is not there, a DB repository that cannot be read, JAR files without java-db), else Trivy's own
 * FATAL message.
 */
export function trivyFailure(exitCode: number, stderr: string, ctx: FailureContext): Error {
  const fatal = fatalMessage(stderr) ?? (stderr.trim().split('\n').slice(-5).join(' ') || 'no error output');
  // Trivy tries each way to authenticate and lists every failure; the first is with the credentials given.
  const detail = details(stderr)[0] ?? fatal;
  const notFound = /unable to find the specified image "([^"]+)" in \[([^\]]*)\]/.exec(stderr);
  if (notFound) {
    const where = notFound[2]!.replace(/"/g, '').split(',').join(', ');
    return inputError(Inputs.Image, `${notFound[1]} was not found (Trivy looked in: ${where}): ${detail}`);
  }
  if (/--skip-java-db-update' cannot be specified|Unable to initialize the Java DB/.test(stderr)) {
    return inputError(
      Inputs.JavaDb,
      'the target has JAR files, which Trivy identifies with its Java DB; set java-db: true to let Trivy download it (or leave the JARs out of what is scanned)',
    );
  }
  if (/failed to download vulnerability DB|DB error/.test(stderr)) {
    return inputError(
      Inputs.DbRepository,
      `Trivy could not download the vulnerability DB from ${ctx.dbRepositories.join(', ')}: ${detail}`,
    );
  }
  if (/context deadline exceeded/.test(stderr)) {
    return inputError(
      Inputs.Timeout,
      `Trivy did not finish within ${goDuration(ctx.timeoutMs)}; raise the timeout or scan less (${fatal})`,
    );
  }
  return new Error(`Trivy failed with exit code ${exitCode}: ${fatal}`);
}

/** Trivy could not fetch the checks bundle and used the checks built into it (an ERROR log, not a failure). */
export function usedEmbeddedChecks(stderr: string): boolean {
  return /Falling back to embedded checks/.test(stderr);
}

// Shared by the unit tests (never imported by an action).
import { InputError } from './inputs.js';

/** The InputError `fn` throws; any other outcome fails the test. */
export function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

/**
 * The values registered as secrets while `fn` runs, read from the `::add-mask::` commands the runner
 * protocol prints on stdout (unescaped: a multi-line value comes back whole). Stdout is captured.
 */
export function maskedValues(fn: () => unknown): string[] {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return out
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) =>
      l.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'),
    );
}

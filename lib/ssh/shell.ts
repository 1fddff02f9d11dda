// Quoting for POSIX shells (sh, dash, bash), for every value that ends up in a command string run by a
// remote shell over SSH, where there is no argv: the remote side always re-parses one string.

/**
 * `value` as one single-quoted shell word that the shell turns back into exactly `value`. Inside single
 * quotes nothing is special (no `$`, backticks, globbing, backslashes or newlines), so the only thing to
 * handle is `'` itself: close the quote, add an escaped quote, reopen (`a'b` -> `'a'\''b'`). Every value
 * is quoted, even harmless ones, so a word can never turn into an assignment, a glob or a `~`.
 *
 * Quoting keeps a value one word; it does not stop a value such as `-rf` from being read as an option by
 * the command that receives it: put `--` before such arguments.
 */
export function shellQuote(value: string): string {
  // A NUL cannot be part of a command line at all; refuse rather than silently truncate.
  if (value.includes('\0')) throw new Error('a shell word cannot contain a NUL character');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The words `args` as one command string, each quoted with `shellQuote`. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

// Text the action did not write (a compose file's values, a scanner's report, an ignore file, a
// tool's output) goes into log lines and annotations through here. The runner reads every line of a
// step's output that starts with `::` as a workflow command (`::error::`, `::add-mask::`,
// `::stop-commands::`...), so a value holding a line break could add a line of its own that the
// runner obeys; and it still obeys the older `##[command]` syntax anywhere in a line.

/** How a control character is shown once it is taken out of a line. */
function visible(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  return `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;
}

/**
 * `text` as one line for a log or annotation message: line breaks and other control characters
 * (tabs kept) are shown escaped (`\n`, `\u001b`), so nothing in it can start a line or move the cursor;
 * a `::` it starts with and every `##[` lose their first character to the same escape (`\u003a:`,
 * `\u0023#[`), so the text cannot be a workflow command wherever it is put in a line.
 */
export function oneLine(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, visible)
      .replace(/^(\s*):(?=:)/, (_, space: string) => `${space}${visible(':')}`)
      .replace(/#(?=#\[)/g, visible)
  );
}

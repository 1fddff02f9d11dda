// Markdown for job summaries, written once: table cells that cannot break their row, inline code
// that survives a table, and the table itself. Every action's summary builds its tables here.

/** Text for a table cell: pipes escaped, line breaks and runs of blank space folded to one space. */
export function tableCell(text: string | number | undefined): string {
  if (text === undefined || text === '') return '';
  return String(text)
    .replace(/\|/g, '\\|')
    .replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * Inline code: backticks inside become `'` (a code span cannot hold its own delimiter), line breaks a
 * space. Pipes are left to tableCell, which escapes them even inside code (GitHub splits the row on them).
 */
export function inlineCode(text: string | undefined): string {
  return text ? `\`${text.replace(/`/g, "'").replace(/\s*[\r\n]+\s*/g, ' ')}\`` : '';
}

/** A Markdown table; every cell goes through tableCell, so callers pass plain Markdown. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number | undefined)[])[],
): string {
  const line = (cells: readonly (string | number | undefined)[]) =>
    '|' + cells.map((c) => (c === undefined || c === '' ? ' |' : ` ${tableCell(c)} |`)).join('');
  return [line(headers), `|${headers.map(() => ' --- |').join('')}`, ...rows.map(line)].join('\n');
}

/** A two-column table of names and values under an empty header, as the actions' summaries open. */
export function keyValueTable(rows: readonly (readonly [string, string])[]): string {
  return markdownTable(['', ''], rows);
}

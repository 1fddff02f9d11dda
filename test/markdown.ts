// Markdown tables of the READMEs, read by the tests that hold them to action.yml.

/** Cells of the markdown table rows under `## <heading>` (until the next heading). */
export function tableRows(readme: string, heading: string): string[][] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start === -1) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith('|')) continue;
    const cells = line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows.slice(1); // the header row
}

/** The first column's names (without their backticks). */
export function tableNames(rows: string[][]): string[] {
  return rows.map((r) => r[0]!.replace(/^`|`$/g, ''));
}

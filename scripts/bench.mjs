// `npm run bench`: measures what the tests must never time. Each row: what, the figure, the target.
// Rows come from scripts/bench/*.mjs modules, each exporting `rows()` -> [{ area, metric, value, target, ok }].
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const only = process.argv.slice(2);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows = [];
for (const file of modules) {
  process.stderr.write(`bench: ${file} ...\n`);
  const mod = await import(pathToFileURL(join(dir, file)).href);
  rows.push(...(await mod.rows()));
}

const header = ['area', 'metric', 'value', 'target', 'ok'];
const table = [
  header,
  ...rows.map((r) => [
    r.area,
    r.metric,
    r.value,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
  ]),
];
const widths = header.map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
const line = (row) => '| ' + row.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const row of table.slice(1)) console.log(line(row));
if (rows.some((r) => r.ok === false)) process.exitCode = 1;

// The job summary: what was built, where it went, how big it is and how much came from cache.
import { formatBytes } from '../../../lib/action/inputs.js';
import { keyValueTable } from '../../../lib/action/summary.js';
import type { StepStats } from './progress.js';

export interface SummaryFacts {
  image: string;
  refs: string[];
  pushed: boolean;
  digest?: string;
  imageId: string;
  size: number;
  compressedSize?: number;
  previousCompressedSize?: number;
  steps: StepStats;
  cacheBackend: string;
  checks: string[];
}

export function signedBytes(delta: number): string {
  return delta === 0 ? '±0 B' : `${delta > 0 ? '+' : '−'}${formatBytes(Math.abs(delta))}`;
}

export function summaryMarkdown(f: SummaryFacts): string {
  const rows: [string, string][] = [
    ['Image', `\`${f.image}\``],
    ['Tags', f.refs.map((r) => `\`${r.slice(f.image.length + 1)}\``).join(' ')],
    ['Pushed', f.pushed ? `yes, digest \`${f.digest}\`` : 'no'],
    ['Image ID', `\`${f.imageId}\``],
    ['Size (unpacked)', formatBytes(f.size)],
  ];
  if (f.compressedSize !== undefined) {
    const change =
      f.previousCompressedSize !== undefined
        ? ` (${signedBytes(f.compressedSize - f.previousCompressedSize)} against the image this tag held before)`
        : ' (no earlier image under this tag)';
    rows.push(['Size (compressed, in the registry)', formatBytes(f.compressedSize) + change]);
  }
  rows.push(['Cache', `${f.cacheBackend}: ${f.steps.cached} of ${f.steps.steps} build steps cached`]);
  const table = keyValueTable(rows);
  const rebuilt =
    f.steps.rebuilt.length > 0
      ? `\n\n<details><summary>Steps that ran</summary>\n\n${f.steps.rebuilt.map((s) => `- \`${s}\``).join('\n')}\n\n</details>`
      : '';
  const checks = f.checks.length > 0 ? `\n\n${f.checks.map((c) => `- ${c}`).join('\n')}` : '';
  return `### berth/build: \`${f.image}\`\n\n${table}${checks}${rebuilt}\n`;
}

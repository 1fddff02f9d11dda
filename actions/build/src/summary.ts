// The job summary: what was built, where it went, how big it is and how much came from cache.
import { formatBytes } from '../../../lib/action/inputs.js';
import { keyValueTable } from '../../../lib/action/summary.js';
import type { PushMode } from './constants.js';
import type { StepStats } from './progress.js';
import type { Signed } from './sign.js';

export interface SummaryFacts {
  image: string;
  refs: string[];
  push: PushMode;
  /** the pushed digest, once the checks passed */
  digest?: string;
  imageId: string;
  size: number;
  compressedSize?: number;
  previousCompressedSize?: number;
  steps: StepStats;
  cacheBackend: string;
  /** the builder's name; a phrase when there is none to name */
  builder: { name: string } | { words: string };
  platforms: string[];
  attestations: string[];
  signed?: Signed;
  checks: string[];
  /** why signing, tagging or loading failed after the checks passed */
  failure?: string;
}

function pushedWords(f: SummaryFacts): string {
  if (f.push === 'false') return 'no';
  if (f.failure) return 'by digest, then failed after the checks (below)';
  if (!f.digest) return 'by digest only, no tag (refused by the checks)';
  return `yes, digest \`${f.digest}\`${f.push === 'digest' ? ' (by digest only, no tag)' : ''}`;
}

export function signedBytes(delta: number): string {
  return delta === 0 ? '±0 B' : `${delta > 0 ? '+' : '−'}${formatBytes(Math.abs(delta))}`;
}

export function summaryMarkdown(f: SummaryFacts): string {
  const rows: [string, string][] = [
    ['Image', `\`${f.image}\``],
    ['Tags', f.refs.map((r) => `\`${r.slice(f.image.length + 1)}\``).join(' ')],
    ['Pushed', pushedWords(f)],
    ['Image ID', `\`${f.imageId}\``],
    ['Builder', 'name' in f.builder ? `\`${f.builder.name}\`` : f.builder.words],
  ];
  if (f.platforms.length > 0) rows.push(['Platforms', f.platforms.map((p) => `\`${p}\``).join(' ')]);
  if (f.push !== 'false')
    rows.push([
      'Attestations',
      f.attestations.length > 0 ? f.attestations.map((a) => `\`${a}\``).join(' ') : 'none',
    ]);
  if (f.signed)
    rows.push([
      'Signed',
      `cosign, \`${f.signed.digest}\`${f.signed.attestations.map((a) => ` + attestation \`${a}\``).join('')}` +
        (f.signed.transparencyLog ? ' (in the transparency log)' : ' (no transparency log)'),
    ]);
  if (f.push === 'false') rows.push(['Size (unpacked)', formatBytes(f.size)]);
  else {
    const change =
      f.compressedSize === undefined
        ? ''
        : f.previousCompressedSize !== undefined
          ? ` (${signedBytes(f.compressedSize - f.previousCompressedSize)} against the image this tag held before)`
          : ' (no earlier image under this tag)';
    const largest = f.platforms.length > 1 ? ', the largest platform' : '';
    rows.push(['Size (compressed, in the registry)', `${formatBytes(f.size)}${largest}${change}`]);
  }
  rows.push(['Cache', `${f.cacheBackend}: ${f.steps.cached} of ${f.steps.steps} build steps cached`]);
  const table = keyValueTable(rows);
  const rebuilt =
    f.steps.rebuilt.length > 0
      ? `\n\n<details><summary>Steps that ran</summary>\n\n${f.steps.rebuilt.map((s) => `- \`${s}\``).join('\n')}\n\n</details>`
      : '';
  const lines = f.failure ? [...f.checks, `**Failed after the checks:** ${f.failure}`] : f.checks;
  const checks = lines.length > 0 ? `\n\n${lines.map((c) => `- ${c}`).join('\n')}` : '';
  return `### berth/build: \`${f.image}\`\n\n${table}${checks}${rebuilt}\n`;
}

// The step summaries of the three modes, as Markdown (lib/action/summary.ts makes the tables).
import { formatBytes } from '../../../lib/action/inputs.js';
import { inlineCode, markdownTable } from '../../../lib/action/summary.js';
import type { VerifyOutcome } from './checks.js';
import type { Compression } from './constants.js';
import type { EncryptedOn } from './host-encrypt.js';
import type { Manifest, ManifestFile } from './manifest.js';

/** The checks as a table, and the error that stopped verify, if one did, as its last row. */
export function verifyTable({ checks, failure }: VerifyOutcome): string {
  const rows = checks.map((c) => [inlineCode(c.what), c.ok ? 'ok' : '**failed**', c.detail]);
  if (failure !== undefined)
    rows.push(['verify', '**failed**', failure instanceof Error ? failure.message : String(failure)]);
  return markdownTable(['checked', 'result', 'how'], rows);
}

export interface BackupReport {
  id: string;
  project: string;
  /** where the backup is, one per destination */
  wheres: string[];
  seconds: number;
  compression: Compression;
  /** age recipients; none: not encrypted */
  recipients: number;
  files: ManifestFile[];
  /** where each file (by name) was encrypted */
  encryptedOn?: ReadonlyMap<string, EncryptedOn>;
  /** absent without `verify: true` */
  verify?: VerifyOutcome;
  /** undefined: retention was not applied (verify failed) */
  pruned?: string[];
  /** whether the manifest was signed (absent: yes) */
  signed?: boolean;
}

function prunedLine(pruned: string[] | undefined): string {
  if (pruned === undefined) return 'Retention was not applied: the backup did not verify.';
  return pruned.length > 0 ? `Pruned: ${pruned.join(', ')}` : 'Pruned: none';
}

const ENCRYPTED_ON: Record<EncryptedOn, string> = {
  host: 'the host',
  runner: 'the runner',
  none: '-',
};

export function backupSummary(r: BackupReport): string {
  const bytes = r.files.reduce((sum, f) => sum + f.bytes, 0);
  const on = r.encryptedOn;
  const files = markdownTable(
    ['file', 'source', 'size', 'sha256', ...(on ? ['encrypted on'] : [])],
    r.files.map((f) => [
      inlineCode(f.name),
      f.source,
      formatBytes(f.bytes),
      inlineCode(`${f.sha256.slice(0, 16)}…`),
      ...(on ? [ENCRYPTED_ON[on.get(f.name) ?? 'none']] : []),
    ]),
  );
  return [
    `### Backup ${r.id} of ${r.project}`,
    '',
    `To ${r.wheres.map(inlineCode).join(' and ')} in ${r.seconds.toFixed(1)} s, ${formatBytes(bytes)} stored (${r.compression}), ` +
      (r.recipients > 0
        ? `encrypted with age to ${r.recipients} recipient(s).`
        : '**not encrypted** (no `encryption-recipients`).'),
    r.signed === false
      ? '**Not signed** (no `signing-key`, `allow-unsigned: true`): restore and verify cannot tell this backup from a forged one.'
      : 'Manifest signed (`manifest.json.sig`).',
    r.verify ? `Verified by a restore into scratch volumes: ${r.verify.verified ? 'yes' : '**no**'}.` : '',
    '',
    files,
    '',
    ...(r.verify ? [verifyTable(r.verify), ''] : []),
    prunedLine(r.pruned),
    '',
  ].join('\n');
}

export function verifySummary(
  project: string,
  where: string,
  manifest: Manifest,
  outcome: VerifyOutcome,
): string {
  return [
    `### Verify of backup ${manifest.id} of ${project}`,
    '',
    `From ${inlineCode(where)}, restored into scratch volumes and databases on the host: ` +
      (outcome.verified ? 'every archive matched.' : '**it did not verify**.'),
    '',
    verifyTable(outcome),
    '',
  ].join('\n');
}

export function restoreSummary(project: string, where: string, manifest: Manifest): string {
  const sources = manifest.files.map((f) => f.source).join(', ');
  return `### Restored ${manifest.id} of ${project}\n\nFrom ${inlineCode(where)}: ${sources}; every archive matched its manifest's sha256 before anything was changed.\n`;
}

/** How the backup restored or verified was found genuine, and what was passed over (someone wrote it). */
export function trustSummary(signed: boolean, skipped: readonly { where: string; reason: string }[]): string {
  const lines = [
    signed
      ? 'Its manifest’s signature was verified with `signing-public-key`.'
      : '**Its manifest is not signed (or no key was given to check it): accepted only because `allow-unsigned: true`.**',
  ];
  if (skipped.length > 0) {
    lines.push(
      '',
      '**Backups passed over** (not genuine: whoever wrote them can write to that destination):',
      '',
      markdownTable(
        ['backup', 'reason'],
        skipped.map((s) => [inlineCode(s.where), s.reason]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

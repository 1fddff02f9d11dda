// Masking secrets in the job log, written once for every action. The runner masks each registered
// value where it appears whole, and a multi-line value is printed line by line (a tool's error that
// quotes one line of a key, a PEM echoed back): so every line is registered on its own too, except
// lines without a letter or digit (`{`, `}` of a JSON key file), which hold nothing secret and would
// mask every brace in the log.
import * as core from '@actions/core';

/** Registers `value` and each of its (trimmed) lines as secrets; empty values are skipped. */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  core.setSecret(value);
  const lines = value.split(/\r?\n|\r/).map((line) => line.trim());
  if (lines.length < 2) return;
  for (const line of new Set(lines)) if (/[\p{L}\p{N}]/u.test(line) && line !== value) core.setSecret(line);
}

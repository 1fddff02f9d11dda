// The node exporter's textfile collector on the host (input `metrics-dir` of deploy and backup): the
// check that the directory is usable, a snippet the action's first host script runs so that a bad
// directory fails before anything on the host changes; and the update of one `<name>.prom` file:
// the previous file read back, then the new text written to `<name>.prom.tmp` and renamed over it,
// so that the collector never reads half a file. Values reach the scripts as quoted assignments.
import { inputError } from '../action/inputs.js';
import { bash, runHostScript, type HostReport } from './host-script.js';
import type { SshSession } from './session.js';

/** Where one action's textfile goes: the input that named the directory, the directory, the file. */
export interface Textfile {
  /** the input name, for errors */
  input: string;
  /** absolute directory on the host */
  dir: string;
  /** `<name>.prom` */
  file: string;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.prom$/;
/** A previous file larger than this was not written by Berth: it is replaced, not read. */
export const MAX_TEXTFILE_BYTES = 32 * 1024;

/** Input `metrics-dir`: empty (no metrics), or an absolute directory path without `..`. */
export function parseMetricsDir(name: string, value: string): string | undefined {
  const dir = value.trim();
  if (dir === '') return undefined;
  if (!dir.startsWith('/') || /[\n\r\0]/.test(dir) || dir.split('/').includes('..'))
    throw inputError(name, `${JSON.stringify(dir)} is not an absolute directory path without ".."`);
  return dir === '/' ? dir : dir.replace(/\/+$/, '');
}

export function textfile(input: string, dir: string, file: string): Textfile {
  if (!FILE_NAME.test(file)) throw new Error(`${JSON.stringify(file)} is not a textfile name`);
  return { input, dir, file };
}

/** The values the snippets read; an empty METRICS_DIR means no metrics. */
export function textfileValues(t: Textfile | undefined): { METRICS_DIR: string; METRICS_FILE: string } {
  return { METRICS_DIR: t?.dir ?? '', METRICS_FILE: t?.file ?? '' };
}

/**
 * METRICS_DIR (unset or empty: nothing to check), METRICS_FILE. Writes nothing; reports
 * `metrics-dir=ok`, or `metrics-dir-blocked=<why>` (missing, not-a-directory, not-writable,
 * file-not-replaceable) and leaves the reason in `metrics_blocked` for the script to stop on.
 */
export const METRICS_DIR_CHECK = bash`metrics_blocked=""
if [ -n "$\{METRICS_DIR:-}" ]; then
  if [ ! -e "$METRICS_DIR" ]; then metrics_blocked=missing
  elif [ ! -d "$METRICS_DIR" ]; then metrics_blocked=not-a-directory
  elif [ ! -w "$METRICS_DIR" ] || [ ! -x "$METRICS_DIR" ]; then metrics_blocked=not-writable
  elif [ -d "$METRICS_DIR/$METRICS_FILE" ] && [ ! -L "$METRICS_DIR/$METRICS_FILE" ]; then metrics_blocked=file-not-replaceable
  fi
  if [ -n "$metrics_blocked" ]; then emit metrics-dir-blocked "$metrics_blocked"; else emit metrics-dir ok; fi
fi
`;

/** What a script that ran METRICS_DIR_CHECK says is wrong with the directory, naming the input. */
export function metricsDirError(report: HostReport, t: Textfile, user = 'the SSH user'): Error | undefined {
  const why = report.last('metrics-dir-blocked');
  if (why === undefined) return undefined;
  const detail =
    why === 'missing'
      ? `${t.dir} does not exist on the host (create it, e.g. the node exporter's --collector.textfile.directory)`
      : why === 'not-a-directory'
        ? `${t.dir} is not a directory`
        : why === 'file-not-replaceable'
          ? `${t.dir}/${t.file} is a directory`
          : `${t.dir} is not writable by ${user}: sudo chown ${user} ${t.dir} (or a group both share)`;
  return inputError(t.input, detail);
}

/** The check on its own, for a run whose first host script cannot carry it. */
export async function checkMetricsDir(session: SshSession, t: Textfile): Promise<void> {
  const body = `emit user "$(id -un)"\n${METRICS_DIR_CHECK}`;
  const { report } = await runHostScript(session, body, textfileValues(t), { silent: true });
  const error = metricsDirError(report, t, report.last('user'));
  if (error) throw error;
}

/** METRICS_DIR, METRICS_FILE: reports `textfile=<base64>` of the file (empty when missing or too large). */
export const TEXTFILE_READ = bash`textfile=$(head -c ${MAX_TEXTFILE_BYTES + 1} -- "$METRICS_DIR/$METRICS_FILE" 2>/dev/null | base64 -w0) || textfile=""
emit textfile "$textfile"
`;

/** The previous file from a script that ran TEXTFILE_READ ('' when none, or not one of ours). */
export function readTextfileReport(report: HostReport): string {
  const bytes = Buffer.from(report.last('textfile') ?? '', 'base64');
  return bytes.length > MAX_TEXTFILE_BYTES ? '' : bytes.toString('utf8');
}

/**
 * METRICS_DIR, METRICS_FILE, CONTENT. Writers of one directory take turns (flock on it); the temp
 * file is created anew (never through a link someone left there), 0644, then renamed over the file.
 */
export const TEXTFILE_WRITE = bash`cd -- "$METRICS_DIR"
if command -v flock >/dev/null 2>&1; then exec 8<.; flock -w 30 8 || true; fi
tmp="$METRICS_FILE.tmp"
rm -f -- "$tmp"
trap 'rm -f -- "$tmp"' EXIT
(set -C; umask 022; printf '%s' "$CONTENT" >"$tmp")
chmod 0644 -- "$tmp"
mv -T -f -- "$tmp" "$METRICS_FILE"
trap - EXIT
`;

/** Writes `content` as the textfile (an error when the host refuses: the caller decides what it means). */
export async function writeTextfile(session: SshSession, t: Textfile, content: string): Promise<void> {
  await runHostScript(session, TEXTFILE_WRITE, { ...textfileValues(t), CONTENT: content }, { silent: true });
}

/** Reads the previous file, then writes what `render` makes of it: two round trips, one connection. */
export async function updateTextfile(
  session: SshSession,
  t: Textfile,
  render: (previous: string) => string,
): Promise<void> {
  const { report } = await runHostScript(session, TEXTFILE_READ, textfileValues(t), { silent: true });
  await writeTextfile(session, t, render(readTextfileReport(report)));
}

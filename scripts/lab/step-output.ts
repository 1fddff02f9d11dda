// The runner's reading of a step's output, for the harness: which lines are workflow commands
// (masks, annotations), and the `::stop-commands::` blocks in which none is obeyed. As in
// actions/runner's ActionCommandManager: lines end at CR, LF or CRLF; a command is `::name::data`
// after leading blanks or, in the older syntax, `##[name]data` anywhere in a line; only known names
// count; once stopped, only the line naming the token as its command resumes.

export interface StepOutput {
  /** the output, `::add-mask::` commands taken out (not masked) */
  log: string;
  /** values registered with core.setSecret */
  masks: string[];
  errors: string[];
  warnings: string[];
}

/** The commands the runner knows; it parses no other name as a command. */
const RUNNER_COMMANDS = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning',
];

/**
 * A line as the runner parses it: `::name props::data` after leading blanks, else the older
 * `##[name props]data` anywhere in the line; only names in `known` count.
 */
export function parseCommandLine(
  line: string,
  known: readonly string[],
): { name: string; data: string } | undefined {
  const isKnown = (name: string) => known.some((k) => k.toLowerCase() === name.toLowerCase());
  const text = line.trimStart();
  const end = text.startsWith('::') ? text.indexOf('::', 2) : -1;
  if (end >= 0) {
    const name = text.slice(2, end).split(' ')[0]!;
    if (isKnown(name)) return { name, data: text.slice(end + 2) };
  }
  const start = line.indexOf('##[');
  const close = start >= 0 ? line.indexOf(']', start) : -1;
  if (close < 0) return undefined;
  const name = line.slice(start + 3, close).split(' ')[0]!;
  return isKnown(name) ? { name, data: line.slice(close + 1) } : undefined;
}

/**
 * A step's output read the way the runner reads it: line by line (CR, LF or CRLF ends a line),
 * `::add-mask::` lines taken out, annotations collected, and no command obeyed between
 * `::stop-commands::<token>` and the `::<token>::` line that resumes them.
 */
export function readStepOutput(raw: string): StepOutput {
  const masks: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const kept: string[] = [];
  let stopToken: string | undefined;
  for (const line of raw.split(/\r\n|\r|\n/)) {
    // Once stopped, only the token is a command (an empty token never resumes, as on the runner).
    const known = stopToken === undefined ? RUNNER_COMMANDS : stopToken ? [stopToken] : [];
    const command = parseCommandLine(line, known);
    if (stopToken !== undefined) {
      if (command) stopToken = undefined;
    } else if (command?.name === 'stop-commands') {
      stopToken = command.data;
    } else if (command?.name === 'add-mask') {
      masks.push(unescapeData(command.data));
      continue;
    } else if (command?.name === 'error' || command?.name === 'warning') {
      (command.name === 'error' ? errors : warnings).push(unescapeData(command.data));
    }
    kept.push(line);
  }
  return { log: kept.join('\n'), masks, errors, warnings };
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

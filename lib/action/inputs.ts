// Action inputs: pure parsers (string in, typed value out, errors that name the input) and thin
// getters that read @actions/core and delegate to them.
import * as core from '@actions/core';

/** Thrown for any invalid input; `input` is its name and the message always starts with it. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** The error for a bad input, `Input "name": detail`; every action builds its input errors with it. */
export function inputError(name: string, detail: string): InputError {
  return new InputError(name, `Input "${name}": ${detail}`);
}

function invalid(name: string, value: string, what: string): InputError {
  return inputError(name, `${JSON.stringify(value)} is not ${what}`);
}

const TRUE_WORDS = new Set(['true', 'yes', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'no', '0', 'off']);

export function parseBoolean(name: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw invalid(name, value, 'a boolean (use true/false, yes/no, on/off or 1/0)');
}

export interface ListOptions {
  /** Split on newlines only, for items that may themselves contain commas. Default false. */
  newlinesOnly?: boolean;
}

/** Newline- and/or comma-separated items, trimmed; blank lines and `#` comment lines dropped. */
export function parseList(value: string, options: ListOptions = {}): string[] {
  const lines = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const items = options.newlinesOnly ? lines : lines.flatMap((line) => line.split(','));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

const DURATION_UNITS_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type DurationUnit = keyof typeof DURATION_UNITS_MS;
const DURATION_ORDER: readonly DurationUnit[] = ['d', 'h', 'm', 's', 'ms'];
const DURATION_EXAMPLES = '(examples: 90, 500ms, 30s, 5m, 1h30m, 7d; a plain number is seconds)';

/** Duration in milliseconds: a plain integer is seconds, else parts like `1h30m`, `500ms`, `7d`. */
export function parseDuration(name: string, value: string): number {
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Parts must appear largest unit first and at most once, so `5m5m` or `30s1h` are typos, not sums.
  const part = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*/y;
  let total = 0;
  let lastRank = -1;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(text)) !== null) {
    const unit = match[2] as DurationUnit;
    const rank = DURATION_ORDER.indexOf(unit);
    if (rank <= lastRank) break;
    lastRank = rank;
    consumed = part.lastIndex;
    total += Number(match[1]) * DURATION_UNITS_MS[unit];
  }
  if (text === '' || consumed !== text.length) {
    throw invalid(name, value, `a duration ${DURATION_EXAMPLES}`);
  }
  return Math.round(total);
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const BYTE_SIZE_EXAMPLES = '(examples: 250MB, 1.2GiB, 1048576)';

/** Bytes: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024; unit case is ignored. */
export function parseByteSize(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const multiplier = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || multiplier === undefined) throw invalid(name, value, `a byte size ${BYTE_SIZE_EXAMPLES}`);
  const amount = Number(match[1]);
  // A fraction of a byte is a typo, not something to round.
  if (multiplier === 1 && !Number.isInteger(amount)) {
    throw invalid(name, value, `a byte size ${BYTE_SIZE_EXAMPLES}`);
  }
  const bytes = Math.round(amount * multiplier);
  if (!Number.isSafeInteger(bytes)) throw invalid(name, value, 'a byte size small enough to handle');
  return bytes;
}

/** One of `allowed`, matched case-insensitively and returned as spelled in `allowed`. */
export function parseEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const wanted = value.trim().toLowerCase();
  const found = allowed.find((option) => option.toLowerCase() === wanted);
  if (found === undefined) throw invalid(name, value, `one of: ${allowed.join(', ')}`);
  return found;
}

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Multiline KEY=VALUE pairs. The value is everything after the first '=', taken verbatim (it may hold
 * '=' or spaces). Blank lines and `#` comment lines are skipped. Errors give the line number but never
 * the line's content, because these inputs often carry secrets.
 */
/**
 * `KEY=VALUE` lines, plus multi-line values in the heredoc form GitHub's own file commands use:
 * a `KEY<<DELIMITER` line, the value's lines, then a line that is exactly `DELIMITER`.
 */
export function parseKeyValueLines(name: string, value: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  const seenOnLine = new Map<string, number>();
  const lines = value.split('\n').map((line) => line.replace(/\r$/, ''));
  const set = (key: string, lineNumber: number, text: string): void => {
    if (!KEY_PATTERN.test(key)) {
      throw inputError(
        name,
        `line ${lineNumber} has an invalid key (letters, digits, '_', '.', '-', not starting ` +
          'with a digit; content not shown: it may be secret)',
      );
    }
    const firstLine = seenOnLine.get(key);
    if (firstLine !== undefined) {
      throw inputError(name, `key ${key} is set twice (lines ${firstLine} and ${lineNumber})`);
    }
    seenOnLine.set(key, lineNumber);
    // defineProperty: a key such as `__proto__` must become a plain entry, not a prototype change.
    Object.defineProperty(pairs, key, { value: text, enumerable: true, writable: true });
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const lineNumber = index + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const heredoc = /^([^=<\s]+)<<([A-Za-z0-9_.-]+)$/.exec(trimmed);
    if (heredoc && (eq === -1 || line.indexOf('<<') < eq)) {
      const [, key, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, index + 1);
      if (end === -1)
        throw inputError(name, `line ${lineNumber}: the value of ${key} has no closing ${delimiter} line`);
      set(key!, lineNumber, lines.slice(index + 1, end).join('\n'));
      index = end;
      continue;
    }
    if (eq === -1) {
      throw inputError(
        name,
        `line ${lineNumber} is not KEY=VALUE or KEY<<DELIMITER (content not shown: it may be secret)`,
      );
    }
    set(line.slice(0, eq).trim(), lineNumber, line.slice(eq + 1));
  }
  return pairs;
}

const BYTE_FORMAT_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Human-readable decimal size for summaries: `512 B`, `231.4 MB`. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let size = Math.abs(bytes);
  let unit = 0;
  // Compare the rounded figure so 999_960 prints as "1.0 MB", not "1000.0 KB".
  while (unit < BYTE_FORMAT_UNITS.length - 1 && Number(size.toFixed(1)) >= 1000) {
    size /= 1000;
    unit += 1;
  }
  const figure = unit === 0 ? String(Math.round(size)) : size.toFixed(1);
  return `${sign}${figure} ${BYTE_FORMAT_UNITS[unit]}`;
}

// ---- getters over @actions/core --------------------------------------------------------------

export interface InputOptions<T> {
  /** Fail when the input is empty. */
  required?: boolean;
  /** Returned when the input is empty (and not required). */
  default?: T;
}

/** `T` when the input is required or has a default, else `T | undefined`. */
export type InputValue<T, O> = O extends { required: true }
  ? T
  : O extends { default: T }
    ? T
    : T | undefined;

function readRaw(name: string, trim = true): string {
  return core.getInput(name, { trimWhitespace: trim });
}

function getParsed<T>(
  name: string,
  options: InputOptions<T> | undefined,
  parse: (raw: string) => T,
  isEmpty: (raw: string) => boolean = (raw) => raw.trim() === '',
  trim = true,
): T | undefined {
  const raw = readRaw(name, trim);
  if (isEmpty(raw)) {
    if (options?.required) throw new InputError(name, `Input "${name}" is required but was not set`);
    return options?.default;
  }
  return parse(raw);
}

export function getString<O extends InputOptions<string> = Record<never, never>>(
  name: string,
  options?: O,
): InputValue<string, O> {
  return getParsed(name, options, (raw) => raw) as InputValue<string, O>;
}

export function getBooleanInput<O extends InputOptions<boolean> = Record<never, never>>(
  name: string,
  options?: O,
): InputValue<boolean, O> {
  return getParsed(name, options, (raw) => parseBoolean(name, raw)) as InputValue<boolean, O>;
}

/** An empty (or all-comment) list input yields the default, or `[]` when there is none. */
export function getListInput(name: string, options: InputOptions<string[]> & ListOptions = {}): string[] {
  const parse = (raw: string): string[] => parseList(raw, options);
  return getParsed(name, options, parse, (raw) => parse(raw).length === 0) ?? [];
}

/** Milliseconds. */
export function getDurationInput<O extends InputOptions<number> = Record<never, never>>(
  name: string,
  options?: O,
): InputValue<number, O> {
  return getParsed(name, options, (raw) => parseDuration(name, raw)) as InputValue<number, O>;
}

/** Bytes. */
export function getByteSizeInput<O extends InputOptions<number> = Record<never, never>>(
  name: string,
  options?: O,
): InputValue<number, O> {
  return getParsed(name, options, (raw) => parseByteSize(name, raw)) as InputValue<number, O>;
}

export function getEnumInput<T extends string, O extends InputOptions<NoInfer<T>> = Record<never, never>>(
  name: string,
  allowed: readonly T[],
  options?: O,
): InputValue<T, O> {
  return getParsed(name, options, (raw) => parseEnum(name, raw, allowed)) as InputValue<T, O>;
}

/** Read untrimmed so a secret's trailing whitespace survives; an empty input yields `{}`. */
export function getKeyValueInput(
  name: string,
  options: InputOptions<Record<string, string>> = {},
): Record<string, string> {
  const parse = (raw: string): Record<string, string> => parseKeyValueLines(name, raw);
  const isEmpty = (raw: string): boolean => Object.keys(parse(raw)).length === 0;
  return getParsed(name, options, parse, isEmpty, false) ?? {};
}
